-- API tokens get a public id (named in listings, revocations and the audit), an agent they may
-- act as, who made them, an expiry, their last use and a revocation. Tokens made before this
-- keep working: their id is taken from their hash, and they never expire (listed as such).
ALTER TABLE api_tokens ADD COLUMN id TEXT;
ALTER TABLE api_tokens ADD COLUMN agent TEXT;
ALTER TABLE api_tokens ADD COLUMN created_by TEXT NOT NULL DEFAULT 'unknown (made before tokens recorded it)';
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
ALTER TABLE api_tokens ADD COLUMN last_used_at TEXT;
ALTER TABLE api_tokens ADD COLUMN revoked_at TEXT;
ALTER TABLE api_tokens ADD COLUMN revoked_by TEXT;
UPDATE api_tokens SET id = 'tok_' || substr(hash, 1, 16);
CREATE UNIQUE INDEX api_tokens_by_id ON api_tokens (id);
