-- What the admin dashboard (/admin) shows, kept so that the page reads a
-- handful of rows at any size of site (see the SQLite migration of the
-- same version for what each figure means and why it is kept so).
-- Differs from SQLite: plpgsql trigger functions (one per table, it sees
-- TG_OP); the counts are BIGINT, what COUNT(*) and SUM give; TRUNCATE skips
-- row triggers, so a truncate of posts, users, comments, api_tokens or
-- post_daily_views (directly, or by TRUNCATE ... CASCADE) zeroes what it
-- counted here.

ALTER TABLE post_totals ADD COLUMN drafts BIGINT NOT NULL DEFAULT 0 CHECK (drafts >= 0);
UPDATE post_totals SET drafts = (SELECT COUNT(*) FROM posts WHERE NOT published) WHERE id = 1;

CREATE TABLE site_totals (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    comments   BIGINT NOT NULL CHECK (comments >= 0),
    api_tokens BIGINT NOT NULL CHECK (api_tokens >= 0)
);

INSERT INTO site_totals (id, comments, api_tokens)
SELECT 1, (SELECT COUNT(*) FROM comments), (SELECT COUNT(*) FROM api_tokens);

CREATE TABLE site_daily (
    day     DATE PRIMARY KEY,
    signups BIGINT NOT NULL DEFAULT 0 CHECK (signups >= 0),
    posts   BIGINT NOT NULL DEFAULT 0 CHECK (posts >= 0),
    views   BIGINT NOT NULL DEFAULT 0 CHECK (views >= 0)
);

INSERT INTO site_daily (day, signups, posts, views)
SELECT day, SUM(signups), SUM(posts), SUM(views) FROM (
    SELECT created_at::date AS day, COUNT(*) AS signups, 0 AS posts, 0 AS views
    FROM users GROUP BY created_at::date
    UNION ALL
    SELECT created_at::date, 0, COUNT(*), 0 FROM posts GROUP BY created_at::date
    UNION ALL
    SELECT day, 0, 0, SUM(views) FROM post_daily_views GROUP BY day
) AS counted
GROUP BY day;

-- Posts: drafts in post_totals, and the day each was created.
CREATE FUNCTION site_counts_posts_after_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        IF NOT OLD.published THEN
            UPDATE post_totals SET drafts = drafts - 1 WHERE id = 1;
        END IF;
        UPDATE site_daily SET posts = GREATEST(posts - 1, 0) WHERE day = OLD.created_at::date;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        IF NOT NEW.published THEN
            UPDATE post_totals SET drafts = drafts + 1 WHERE id = 1;
        END IF;
        INSERT INTO site_daily (day, posts) VALUES (NEW.created_at::date, 1)
        ON CONFLICT (day) DO UPDATE SET posts = site_daily.posts + 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER site_counts_posts_after_insert AFTER INSERT ON posts
FOR EACH ROW EXECUTE FUNCTION site_counts_posts_after_change();
CREATE TRIGGER site_counts_posts_after_delete AFTER DELETE ON posts
FOR EACH ROW EXECUTE FUNCTION site_counts_posts_after_change();
CREATE TRIGGER site_counts_posts_after_update AFTER UPDATE OF published, created_at ON posts
FOR EACH ROW
WHEN (OLD.published IS DISTINCT FROM NEW.published
      OR OLD.created_at::date IS DISTINCT FROM NEW.created_at::date)
EXECUTE FUNCTION site_counts_posts_after_change();

CREATE FUNCTION site_counts_posts_after_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE post_totals SET drafts = 0 WHERE id = 1;
    UPDATE site_daily SET posts = 0 WHERE posts <> 0;
    RETURN NULL;
END;
$$;

CREATE TRIGGER site_counts_posts_after_truncate AFTER TRUNCATE ON posts
FOR EACH STATEMENT EXECUTE FUNCTION site_counts_posts_after_truncate();

-- Accounts: the day each was created.
CREATE FUNCTION site_counts_users_after_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE site_daily SET signups = 0 WHERE signups <> 0;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE site_daily SET signups = GREATEST(signups - 1, 0) WHERE day = OLD.created_at::date;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO site_daily (day, signups) VALUES (NEW.created_at::date, 1)
        ON CONFLICT (day) DO UPDATE SET signups = site_daily.signups + 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER site_counts_users_after_insert AFTER INSERT ON users
FOR EACH ROW EXECUTE FUNCTION site_counts_users_after_change();
CREATE TRIGGER site_counts_users_after_delete AFTER DELETE ON users
FOR EACH ROW EXECUTE FUNCTION site_counts_users_after_change();
CREATE TRIGGER site_counts_users_after_update AFTER UPDATE OF created_at ON users
FOR EACH ROW WHEN (OLD.created_at::date IS DISTINCT FROM NEW.created_at::date)
EXECUTE FUNCTION site_counts_users_after_change();
CREATE TRIGGER site_counts_users_after_truncate AFTER TRUNCATE ON users
FOR EACH STATEMENT EXECUTE FUNCTION site_counts_users_after_change();

-- Comments and API tokens: one function for both totals.
CREATE FUNCTION site_totals_after_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    change BIGINT := CASE TG_OP WHEN 'INSERT' THEN 1 WHEN 'DELETE' THEN -1 ELSE 0 END;
BEGIN
    IF TG_TABLE_NAME = 'comments' THEN
        UPDATE site_totals
        SET comments = CASE WHEN TG_OP = 'TRUNCATE' THEN 0 ELSE comments + change END
        WHERE id = 1;
    ELSE
        UPDATE site_totals
        SET api_tokens = CASE WHEN TG_OP = 'TRUNCATE' THEN 0 ELSE api_tokens + change END
        WHERE id = 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER site_totals_comments_after_insert AFTER INSERT ON comments
FOR EACH ROW EXECUTE FUNCTION site_totals_after_change();
CREATE TRIGGER site_totals_comments_after_delete AFTER DELETE ON comments
FOR EACH ROW EXECUTE FUNCTION site_totals_after_change();
CREATE TRIGGER site_totals_comments_after_truncate AFTER TRUNCATE ON comments
FOR EACH STATEMENT EXECUTE FUNCTION site_totals_after_change();
CREATE TRIGGER site_totals_api_tokens_after_insert AFTER INSERT ON api_tokens
FOR EACH ROW EXECUTE FUNCTION site_totals_after_change();
CREATE TRIGGER site_totals_api_tokens_after_delete AFTER DELETE ON api_tokens
FOR EACH ROW EXECUTE FUNCTION site_totals_after_change();
CREATE TRIGGER site_totals_api_tokens_after_truncate AFTER TRUNCATE ON api_tokens
FOR EACH STATEMENT EXECUTE FUNCTION site_totals_after_change();

-- A deleted post's daily rows (ON DELETE CASCADE) take its views out.
-- Every decrement of a day stops at 0 (see the SQLite migration).
CREATE FUNCTION site_daily_views_after_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE site_daily SET views = 0 WHERE views <> 0;
    ELSE
        UPDATE site_daily SET views = GREATEST(views - OLD.views, 0) WHERE day = OLD.day;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER site_daily_views_after_delete AFTER DELETE ON post_daily_views
FOR EACH ROW EXECUTE FUNCTION site_daily_views_after_change();
CREATE TRIGGER site_daily_views_after_truncate AFTER TRUNCATE ON post_daily_views
FOR EACH STATEMENT EXECUTE FUNCTION site_daily_views_after_change();
