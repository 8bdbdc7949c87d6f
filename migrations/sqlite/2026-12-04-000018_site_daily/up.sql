-- What the admin dashboard (/admin) shows, kept so that the page reads a
-- handful of rows at any size of site: never a COUNT(*) or a SUM over a
-- table on the request.
--
-- 1. The totals the older singletons lack: posts not published (drafts,
--    scheduled and held posts: what `users.draft_posts` counts, summed), on
--    `post_totals` beside the published ones; every comment (hidden ones
--    too) and every API token, on a new singleton `site_totals`.
-- 2. `site_daily`: one row per day (UTC) with
--    - `signups`: the accounts created that day (by `users.created_at`),
--    - `posts`: the posts created that day (by `posts.created_at`, drafts
--      and published alike; when a post is published does not move it),
--    - `views`: the views counted that day (the sum of that day's
--      `post_daily_views` rows).
--    Each follows the rows that are there now: deleting an account or a
--    post takes it (and its views) out of its day, so a recount from the
--    rows (this migration's backfill, `db import`) gives the same figures.
--    Sign-ups and posts are kept by the triggers below. Views are added by
--    the view writer (src/domain/post_views.rs) in the transaction that
--    writes each batch, one statement per batch (a trigger per
--    `post_daily_views` row would update the same row thousands of times in
--    one transaction); the delete trigger takes a deleted post's views out.

ALTER TABLE post_totals ADD COLUMN drafts BIGINT NOT NULL DEFAULT 0 CHECK (drafts >= 0);
UPDATE post_totals SET drafts = (SELECT COUNT(*) FROM posts WHERE NOT published) WHERE id = 1;

CREATE TRIGGER post_totals_drafts_after_insert AFTER INSERT ON posts
WHEN NOT NEW.published
BEGIN
    UPDATE post_totals SET drafts = drafts + 1 WHERE id = 1;
END;

CREATE TRIGGER post_totals_drafts_after_delete AFTER DELETE ON posts
WHEN NOT OLD.published
BEGIN
    UPDATE post_totals SET drafts = drafts - 1 WHERE id = 1;
END;

CREATE TRIGGER post_totals_drafts_after_update AFTER UPDATE OF published ON posts
WHEN OLD.published IS NOT NEW.published
BEGIN
    UPDATE post_totals
    SET drafts = drafts + (CASE WHEN NEW.published THEN -1 ELSE 1 END)
    WHERE id = 1;
END;

CREATE TABLE site_totals (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    comments BIGINT NOT NULL CHECK (comments >= 0),
    api_tokens BIGINT NOT NULL CHECK (api_tokens >= 0)
);

INSERT INTO site_totals (id, comments, api_tokens)
SELECT 1, (SELECT COUNT(*) FROM comments), (SELECT COUNT(*) FROM api_tokens);

CREATE TRIGGER site_totals_comments_after_insert AFTER INSERT ON comments
BEGIN
    UPDATE site_totals SET comments = comments + 1 WHERE id = 1;
END;

CREATE TRIGGER site_totals_comments_after_delete AFTER DELETE ON comments
BEGIN
    UPDATE site_totals SET comments = comments - 1 WHERE id = 1;
END;

CREATE TRIGGER site_totals_api_tokens_after_insert AFTER INSERT ON api_tokens
BEGIN
    UPDATE site_totals SET api_tokens = api_tokens + 1 WHERE id = 1;
END;

CREATE TRIGGER site_totals_api_tokens_after_delete AFTER DELETE ON api_tokens
BEGIN
    UPDATE site_totals SET api_tokens = api_tokens - 1 WHERE id = 1;
END;

CREATE TABLE site_daily (
    day DATE PRIMARY KEY NOT NULL,
    signups BIGINT NOT NULL DEFAULT 0 CHECK (signups >= 0),
    posts BIGINT NOT NULL DEFAULT 0 CHECK (posts >= 0),
    views BIGINT NOT NULL DEFAULT 0 CHECK (views >= 0)
) WITHOUT ROWID;

-- The backfill: one pass over each table, once.
INSERT INTO site_daily (day, signups, posts, views)
SELECT day, SUM(signups), SUM(posts), SUM(views) FROM (
    SELECT date(created_at) AS day, COUNT(*) AS signups, 0 AS posts, 0 AS views
    FROM users GROUP BY date(created_at)
    UNION ALL
    SELECT date(created_at), 0, COUNT(*), 0 FROM posts GROUP BY date(created_at)
    UNION ALL
    SELECT day, 0, 0, SUM(views) FROM post_daily_views GROUP BY day
)
GROUP BY day;

CREATE TRIGGER site_daily_signups_after_insert AFTER INSERT ON users
BEGIN
    INSERT INTO site_daily (day, signups) VALUES (date(NEW.created_at), 1)
    ON CONFLICT (day) DO UPDATE SET signups = signups + 1;
END;

CREATE TRIGGER site_daily_signups_after_delete AFTER DELETE ON users
BEGIN
    UPDATE site_daily SET signups = MAX(signups - 1, 0) WHERE day = date(OLD.created_at);
END;

-- Only by hand (the app never moves a creation date).
CREATE TRIGGER site_daily_signups_after_update AFTER UPDATE OF created_at ON users
WHEN date(OLD.created_at) IS NOT date(NEW.created_at)
BEGIN
    UPDATE site_daily SET signups = MAX(signups - 1, 0) WHERE day = date(OLD.created_at);
    INSERT INTO site_daily (day, signups) VALUES (date(NEW.created_at), 1)
    ON CONFLICT (day) DO UPDATE SET signups = signups + 1;
END;

CREATE TRIGGER site_daily_posts_after_insert AFTER INSERT ON posts
BEGIN
    INSERT INTO site_daily (day, posts) VALUES (date(NEW.created_at), 1)
    ON CONFLICT (day) DO UPDATE SET posts = posts + 1;
END;

CREATE TRIGGER site_daily_posts_after_delete AFTER DELETE ON posts
BEGIN
    UPDATE site_daily SET posts = MAX(posts - 1, 0) WHERE day = date(OLD.created_at);
END;

CREATE TRIGGER site_daily_posts_after_update AFTER UPDATE OF created_at ON posts
WHEN date(OLD.created_at) IS NOT date(NEW.created_at)
BEGIN
    UPDATE site_daily SET posts = MAX(posts - 1, 0) WHERE day = date(OLD.created_at);
    INSERT INTO site_daily (day, posts) VALUES (date(NEW.created_at), 1)
    ON CONFLICT (day) DO UPDATE SET posts = posts + 1;
END;

-- A deleted post's daily rows (ON DELETE CASCADE) take its views out.
-- Every decrement here stops at 0: rows written around the counts (views
-- inserted by hand, a day's row edited) must not make a delete fail.
CREATE TRIGGER site_daily_views_after_delete AFTER DELETE ON post_daily_views
BEGIN
    UPDATE site_daily SET views = MAX(views - OLD.views, 0) WHERE day = OLD.day;
END;
