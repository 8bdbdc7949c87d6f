-- Invitations to sign up, for `registration = "invite"`: made by an admin,
-- used once, expiring. Only the token's SHA-256 is stored; the link is
-- shown once, when it is made. Kept after use, as a record of who invited
-- whom.
CREATE TABLE invites (
    id         INTEGER PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    expires_at TIMESTAMP NOT NULL,
    used_by    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    used_at    TIMESTAMP,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
