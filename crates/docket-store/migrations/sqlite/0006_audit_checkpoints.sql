-- Signed checkpoints of the audit chain: the head's sequence number and hash at a moment,
-- signed with the server's Ed25519 key. Kept beside the chain (and in a file and elsewhere), so
-- a chain cut short or rewritten disagrees with a checkpoint. Never updated; a checkpoint
-- written twice (the same head signed at the same moment) is kept once.
CREATE TABLE audit_checkpoints (
    seq       INTEGER NOT NULL,
    hash      TEXT NOT NULL,
    at        TEXT NOT NULL,
    key       TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (seq, at, key)
) STRICT;
