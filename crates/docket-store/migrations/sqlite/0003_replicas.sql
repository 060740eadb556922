-- A ticket's notifications are claimed by one server at a time, with a lease; how many times
-- each message was claimed tells a surface that an earlier claimant may have delivered it
-- before it stopped. Periodic work has one leader at a time (on SQLite, the one server).
ALTER TABLE outbox ADD COLUMN claims INTEGER NOT NULL DEFAULT 0;

-- `token` names one claim, so the messages it took can be found again.
CREATE TABLE outbox_claims (
    ticket   TEXT PRIMARY KEY,
    holder   TEXT NOT NULL,
    token    TEXT NOT NULL,
    until_ns INTEGER NOT NULL
) STRICT;

CREATE TABLE leases (
    role     TEXT PRIMARY KEY,
    holder   TEXT NOT NULL,
    until_ns INTEGER NOT NULL
) STRICT;
