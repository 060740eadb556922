-- Docket's schema on SQLite.
--
-- Times people read are RFC 3339 text in UTC, exactly as `jiff::Timestamp` prints them, so they
-- read back to the same instant (the audit hash covers that text). Times the store compares
-- (deadlines, leases, retries) are integer nanoseconds since the Unix epoch, in `*_ns` columns.
-- JSON is kept as text: the serialized core types, readable with SQLite's json functions.

-- Allocated ticket numbers, so a number is never handed out twice, even across restarts.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;
INSERT INTO counters (name, value) VALUES ('ticket_number', 0);

-- Each ticket as last folded from its events; `body` is the serialized `docket_core::Ticket`.
CREATE TABLE tickets (
    id            TEXT PRIMARY KEY,
    number        INTEGER NOT NULL UNIQUE,
    workflow      TEXT NOT NULL,
    requester     TEXT NOT NULL,
    state         TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    respond_by_ns INTEGER,
    start_by_ns   INTEGER,
    version       INTEGER NOT NULL,
    body          TEXT NOT NULL
) STRICT;
CREATE INDEX tickets_by_state ON tickets (state, number DESC);
CREATE INDEX tickets_by_workflow ON tickets (workflow, number DESC);
CREATE INDEX tickets_by_requester ON tickets (requester, number DESC);
CREATE INDEX tickets_respond_by ON tickets (respond_by_ns)
    WHERE state IN ('awaiting_approval', 'changes_requested');
CREATE INDEX tickets_start_by ON tickets (start_by_ns) WHERE state IN ('approved', 'queued');

-- Every event of every ticket; `seq` is the ticket's version after the event.
CREATE TABLE ticket_events (
    ticket TEXT NOT NULL REFERENCES tickets (id),
    seq    INTEGER NOT NULL,
    at     TEXT NOT NULL,
    action TEXT NOT NULL,
    body   TEXT NOT NULL,
    PRIMARY KEY (ticket, seq)
) STRICT, WITHOUT ROWID;

-- Projections of the events, written in the same transaction, for people who query with SQL.
CREATE TABLE approvals (
    ticket     TEXT NOT NULL REFERENCES tickets (id),
    seq        INTEGER NOT NULL,
    person     TEXT NOT NULL,
    stage      TEXT,
    verdict    TEXT NOT NULL,
    round      INTEGER NOT NULL,
    digest     TEXT,
    comment    TEXT,
    at         TEXT NOT NULL,
    expires_at TEXT,
    PRIMARY KEY (ticket, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX approvals_by_person ON approvals (person);

CREATE TABLE comments (
    ticket TEXT NOT NULL REFERENCES tickets (id),
    seq    INTEGER NOT NULL,
    author TEXT NOT NULL,
    text   TEXT NOT NULL,
    at     TEXT NOT NULL,
    PRIMARY KEY (ticket, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE runs (
    ticket      TEXT NOT NULL REFERENCES tickets (id),
    number      INTEGER NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    outcome     TEXT,
    PRIMARY KEY (ticket, number)
) STRICT, WITHOUT ROWID;

CREATE TABLE run_steps (
    ticket      TEXT NOT NULL,
    run         INTEGER NOT NULL,
    step        INTEGER NOT NULL,
    name        TEXT NOT NULL,
    attempts    INTEGER NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    outcome     TEXT,
    exit_code   INTEGER,
    PRIMARY KEY (ticket, run, step),
    FOREIGN KEY (ticket, run) REFERENCES runs (ticket, number)
) STRICT, WITHOUT ROWID;

-- Step output, redacted. `seq` numbers a ticket's lines across its runs.
CREATE TABLE step_logs (
    ticket TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    run    INTEGER NOT NULL,
    step   INTEGER NOT NULL,
    stream TEXT NOT NULL,
    text   TEXT NOT NULL,
    at     TEXT NOT NULL,
    PRIMARY KEY (ticket, seq)
) STRICT, WITHOUT ROWID;

-- The audit chain. One writer appends; `hash` covers the row and `prev_hash`.
CREATE TABLE audit (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    ticket    TEXT,
    details   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
) STRICT;
CREATE INDEX audit_by_ticket ON audit (ticket) WHERE ticket IS NOT NULL;

-- Notifications committed with the change that caused them, delivered afterwards.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    notifier        TEXT NOT NULL,
    ticket          TEXT NOT NULL,
    key             TEXT NOT NULL,
    payload         TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    next_attempt_ns INTEGER NOT NULL,
    delivered_at    TEXT,
    last_error      TEXT,
    gave_up         INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX outbox_pending_by_thread ON outbox (notifier, ticket, id)
    WHERE delivered_at IS NULL AND gave_up = 0;
CREATE INDEX outbox_pending_by_time ON outbox (next_attempt_ns)
    WHERE delivered_at IS NULL AND gave_up = 0;

-- Tickets waiting for (or held by) a worker, in order.
CREATE TABLE run_queue (
    ticket          TEXT PRIMARY KEY REFERENCES tickets (id),
    position        INTEGER NOT NULL UNIQUE,
    concurrency_key TEXT,
    holder          TEXT,
    lease_until_ns  INTEGER,
    claimed_before  INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX run_queue_by_key ON run_queue (concurrency_key, position) WHERE concurrency_key IS NOT NULL;

-- API tokens by the SHA-256 of the token; the token itself is never stored.
CREATE TABLE api_tokens (
    hash       TEXT PRIMARY KEY,
    person     TEXT NOT NULL,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX api_tokens_by_person ON api_tokens (person);
