-- Whether an account has proved that its email address reaches it: set
-- when the emailed link is used, cleared when the address changes.
ALTER TABLE users ADD COLUMN email_verified_at TIMESTAMP;

-- The link that proves it: one per account (a newer one, or a changed
-- address, replaces it), for the address it was sent to, expiring. Only
-- the token's SHA-256 is stored.
--
-- Differs from SQLite: the UNIQUE constraint is named explicitly.
CREATE TABLE email_verifications (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    token_hash TEXT NOT NULL CONSTRAINT email_verifications_token_hash_key UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);
