-- Several replicas on one database: a ticket's notifications are claimed by one replica at a
-- time, with a lease; how many times each message was claimed tells a surface that an earlier
-- claimant may have delivered it before it died. Periodic work has one leader at a time.
ALTER TABLE outbox ADD COLUMN claims BIGINT NOT NULL DEFAULT 0;

-- `token` names one claim, so the messages it took can be found again.
CREATE TABLE outbox_claims (
    ticket   TEXT PRIMARY KEY,
    holder   TEXT NOT NULL,
    token    TEXT NOT NULL,
    until_ns BIGINT NOT NULL
);

CREATE TABLE leases (
    role     TEXT PRIMARY KEY,
    holder   TEXT NOT NULL,
    until_ns BIGINT NOT NULL
);
