-- Outgoing mail waits here until the sender task has handed it to the SMTP
-- server: a request only inserts a row (in the same transaction as the
-- token its link carries), so a restart loses nothing and a slow or absent
-- mail server never holds up a request.
--
-- A message leaves the table once sent (its body may hold a one-time link).
-- One that keeps failing is marked failed, its body blanked, and kept for
-- the log and the admin.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- When the sender may try it next; also its claim while one tries.
    next_attempt_at TIMESTAMP NOT NULL,
    last_error      TEXT,
    failed_at       TIMESTAMP,
    created_at      TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- The sender's one query: what is due, oldest first, among the unfailed.
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE failed_at IS NULL;
