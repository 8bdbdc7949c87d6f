-- Server-side login sessions, so that a session can be revoked (log out,
-- password change, account deletion) even though its cookie lives on.
--
-- Only a SHA-256 hash of the session token is stored: a copy of the database
-- does not let anyone impersonate a logged-in user.
CREATE TABLE sessions (
    id         INTEGER PRIMARY KEY NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    expires_at TIMESTAMP NOT NULL
);

CREATE INDEX sessions_user_id ON sessions (user_id);
