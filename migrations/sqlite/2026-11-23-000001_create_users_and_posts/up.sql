-- Users and their posts.
--
-- Dates are stored as SQLite's own text formats ('YYYY-MM-DD' and
-- 'YYYY-MM-DD HH:MM:SS.SSS', always UTC) so they read naturally in `sqlite3`.
-- The CHECK constraints repeat the rules of the model layer's newtypes: the
-- application never relies on them, but they keep hand edits honest.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY NOT NULL,
    -- The login handle. Stored lower-case; NOCASE makes uniqueness
    -- case-insensitive even for rows written by hand.
    uid           TEXT NOT NULL COLLATE NOCASE UNIQUE
                  CHECK (length(uid) BETWEEN 3 AND 32 AND uid NOT GLOB '*[^a-z0-9_-]*'),
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    email         TEXT COLLATE NOCASE UNIQUE CHECK (email IS NULL OR email LIKE '%_@_%'),
    -- An argon2id PHC string: the salt and parameters travel with the hash.
    password_hash TEXT NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    -- A real date. "Not before 1900" is a rule for what people type; the
    -- demo accounts of 19th-century inventors keep their real birth dates.
    dob           DATE CHECK (dob IS NULL OR date(dob) = dob),
    role          TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    created_at    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at    TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE posts (
    id         INTEGER PRIMARY KEY NOT NULL,
    -- A post cannot outlive its author.
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    -- Markdown source; rendering happens at display time.
    content    TEXT NOT NULL CHECK (length(content) BETWEEN 1 AND 20000),
    -- File name of an uploaded image (filled by the images feature).
    image      TEXT,
    published  BOOLEAN NOT NULL DEFAULT 1 CHECK (published IN (0, 1)),
    views      INTEGER NOT NULL DEFAULT 0 CHECK (views >= 0),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- A user's posts (profile pages, the `user=` filter, post counts, cascades).
CREATE INDEX posts_user_id ON posts (user_id, updated_at);
-- Newest-first listings walk this index instead of sorting the table.
CREATE INDEX posts_updated_at ON posts (updated_at, id);
