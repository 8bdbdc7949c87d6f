-- Personal API tokens for scripts: `Authorization: Bearer <token>` acts as
-- the owner on the JSON API. As with sessions, only the token's SHA-256 is
-- stored; the token itself is shown once, when it is made. Revoking deletes
-- the row, so the token stops working with the next request.
CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX api_tokens_user_id ON api_tokens (user_id);
