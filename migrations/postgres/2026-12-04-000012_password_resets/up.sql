-- A password-reset link's token, one per account: asking again replaces
-- it (a newer link invalidates the older), using it or changing the
-- password any other way deletes it, and it expires. Only the token's
-- SHA-256 is stored.
--
-- Differs from SQLite: the UNIQUE constraint is named explicitly.
CREATE TABLE password_resets (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL CONSTRAINT password_resets_token_hash_key UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'utc')
);
