-- Docket's schema on PostgreSQL: the same tables as on SQLite.
--
-- Times people read are RFC 3339 text in UTC, exactly as `jiff::Timestamp` prints them, so they
-- read back to the same instant (the audit hash covers that text). Times the store compares
-- (deadlines, leases, retries) are integer nanoseconds since the Unix epoch, in `*_ns` columns.
-- JSON columns use `json`, not `jsonb`, so documents read back byte for byte; the audit
-- chain's `details` is plain text for the same reason.

-- Allocated ticket numbers: a sequence never hands out a number twice.
CREATE SEQUENCE ticket_numbers AS BIGINT MINVALUE 1;

-- Queue positions, increasing.
CREATE SEQUENCE run_queue_positions AS BIGINT MINVALUE 1;

-- Each ticket as last folded from its events; `body` is the serialized `docket_core::Ticket`.
CREATE TABLE tickets (
    id            TEXT PRIMARY KEY,
    number        BIGINT NOT NULL UNIQUE,
    workflow      TEXT NOT NULL,
    requester     TEXT NOT NULL,
    state         TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    respond_by_ns BIGINT,
    start_by_ns   BIGINT,
    version       BIGINT NOT NULL,
    body          JSON NOT NULL
);
CREATE INDEX tickets_by_state ON tickets (state, number DESC);
CREATE INDEX tickets_by_workflow ON tickets (workflow, number DESC);
CREATE INDEX tickets_by_requester ON tickets (requester, number DESC);
CREATE INDEX tickets_respond_by ON tickets (respond_by_ns)
    WHERE state IN ('awaiting_approval', 'changes_requested');
CREATE INDEX tickets_start_by ON tickets (start_by_ns) WHERE state IN ('approved', 'queued');

-- Every event of every ticket; `seq` is the ticket's version after the event.
CREATE TABLE ticket_events (
    ticket TEXT NOT NULL REFERENCES tickets (id),
    seq    BIGINT NOT NULL,
    at     TEXT NOT NULL,
    action TEXT NOT NULL,
    body   JSON NOT NULL,
    PRIMARY KEY (ticket, seq)
);

-- Projections of the events, written in the same transaction, for people who query with SQL.
CREATE TABLE approvals (
    ticket     TEXT NOT NULL REFERENCES tickets (id),
    seq        BIGINT NOT NULL,
    person     TEXT NOT NULL,
    stage      TEXT,
    verdict    TEXT NOT NULL,
    round      BIGINT NOT NULL,
    digest     TEXT,
    comment    TEXT,
    at         TEXT NOT NULL,
    expires_at TEXT,
    PRIMARY KEY (ticket, seq)
);
CREATE INDEX approvals_by_person ON approvals (person);

CREATE TABLE comments (
    ticket TEXT NOT NULL REFERENCES tickets (id),
    seq    BIGINT NOT NULL,
    author TEXT NOT NULL,
    text   TEXT NOT NULL,
    at     TEXT NOT NULL,
    PRIMARY KEY (ticket, seq)
);

CREATE TABLE runs (
    ticket      TEXT NOT NULL REFERENCES tickets (id),
    number      BIGINT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    outcome     JSON,
    PRIMARY KEY (ticket, number)
);

CREATE TABLE run_steps (
    ticket      TEXT NOT NULL,
    run         BIGINT NOT NULL,
    step        BIGINT NOT NULL,
    name        TEXT NOT NULL,
    attempts    BIGINT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    outcome     JSON,
    exit_code   BIGINT,
    PRIMARY KEY (ticket, run, step),
    FOREIGN KEY (ticket, run) REFERENCES runs (ticket, number)
);

-- Step output, redacted. `seq` numbers a ticket's lines across its runs.
CREATE TABLE step_logs (
    ticket TEXT NOT NULL,
    seq    BIGINT NOT NULL,
    run    BIGINT NOT NULL,
    step   BIGINT NOT NULL,
    stream TEXT NOT NULL,
    text   TEXT NOT NULL,
    at     TEXT NOT NULL,
    PRIMARY KEY (ticket, seq)
);

-- The audit chain. One writer appends; `hash` covers the row and `prev_hash`.
CREATE TABLE audit (
    seq       BIGINT PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    ticket    TEXT,
    details   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_by_ticket ON audit (ticket) WHERE ticket IS NOT NULL;

-- Notifications committed with the change that caused them, delivered afterwards.
CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    notifier        TEXT NOT NULL,
    ticket          TEXT NOT NULL,
    key             TEXT NOT NULL,
    payload         JSON NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    next_attempt_ns BIGINT NOT NULL,
    delivered_at    TEXT,
    last_error      TEXT,
    gave_up         BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX outbox_pending_by_thread ON outbox (notifier, ticket, id)
    WHERE delivered_at IS NULL AND NOT gave_up;
CREATE INDEX outbox_pending_by_time ON outbox (next_attempt_ns)
    WHERE delivered_at IS NULL AND NOT gave_up;

-- Tickets waiting for (or held by) a worker, in order.
CREATE TABLE run_queue (
    ticket          TEXT PRIMARY KEY REFERENCES tickets (id),
    position        BIGINT NOT NULL UNIQUE DEFAULT nextval('run_queue_positions'),
    concurrency_key TEXT,
    holder          TEXT,
    lease_until_ns  BIGINT,
    claimed_before  BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX run_queue_by_key ON run_queue (concurrency_key, position) WHERE concurrency_key IS NOT NULL;

-- API tokens by the SHA-256 of the token; the token itself is never stored.
CREATE TABLE api_tokens (
    hash       TEXT PRIMARY KEY,
    person     TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX api_tokens_by_person ON api_tokens (person);
