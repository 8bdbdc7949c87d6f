-- Whether an account has proved that its email address reaches it: set
-- when the emailed link is used, cleared when the address changes.
ALTER TABLE users ADD COLUMN email_verified_at TIMESTAMP;

-- The link that proves it: one per account (a newer one, or a changed
-- address, replaces it), for the address it was sent to, expiring. Only
-- the token's SHA-256 is stored.
CREATE TABLE email_verifications (
    user_id    INTEGER PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
