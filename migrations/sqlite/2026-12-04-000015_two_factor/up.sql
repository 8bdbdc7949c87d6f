-- Two-factor login with an authenticator app (TOTP, RFC 6238).
--
-- The shared secret must be readable to check codes, so it is stored as is
-- (base32); `enabled_at` stays NULL until the owner confirms with a code.
-- `last_step` is the time step of the last code accepted: a code is
-- accepted once, never again within its window (no replay).
CREATE TABLE two_factor (
    user_id    INTEGER PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret     TEXT NOT NULL,
    enabled_at TIMESTAMP,
    last_step  BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Ten one-time codes for a lost phone, shown once, stored as SHA-256.
CREATE TABLE recovery_codes (
    id        INTEGER PRIMARY KEY NOT NULL,
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL UNIQUE,
    used_at   TIMESTAMP
);
CREATE INDEX recovery_codes_user_id ON recovery_codes (user_id);

-- A login half done: the password was right, the code is still to come.
-- Its token (SHA-256 stored) lasts minutes and is spent by the second step.
CREATE TABLE login_challenges (
    id         INTEGER PRIMARY KEY NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX login_challenges_user_id ON login_challenges (user_id);
