-- Each account's published and draft posts, and the number of accounts,
-- kept current by triggers (see the SQLite migration of the same version
-- for why). Differs from SQLite: plpgsql functions; one function for the
-- row triggers on posts (it sees TG_OP); TRUNCATE skips row triggers, so a
-- truncate of posts zeroes the counts and one of users zeroes the total.
ALTER TABLE users ADD COLUMN published_posts INTEGER NOT NULL DEFAULT 0
    CHECK (published_posts >= 0);
ALTER TABLE users ADD COLUMN draft_posts INTEGER NOT NULL DEFAULT 0
    CHECK (draft_posts >= 0);

UPDATE users SET
    published_posts = (SELECT COUNT(*) FROM posts WHERE posts.user_id = users.id AND posts.published),
    draft_posts = (SELECT COUNT(*) FROM posts WHERE posts.user_id = users.id AND NOT posts.published);

CREATE INDEX users_published_posts ON users (published_posts DESC, id);
CREATE INDEX users_role ON users (role);

CREATE FUNCTION users_post_counts_after_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE users SET
            published_posts = published_posts - (CASE WHEN OLD.published THEN 1 ELSE 0 END),
            draft_posts = draft_posts - (CASE WHEN OLD.published THEN 0 ELSE 1 END)
        WHERE id = OLD.user_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE users SET
            published_posts = published_posts + (CASE WHEN NEW.published THEN 1 ELSE 0 END),
            draft_posts = draft_posts + (CASE WHEN NEW.published THEN 0 ELSE 1 END)
        WHERE id = NEW.user_id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_post_counts_after_insert AFTER INSERT ON posts
FOR EACH ROW EXECUTE FUNCTION users_post_counts_after_change();

CREATE TRIGGER users_post_counts_after_delete AFTER DELETE ON posts
FOR EACH ROW EXECUTE FUNCTION users_post_counts_after_change();

CREATE TRIGGER users_post_counts_after_update AFTER UPDATE OF published, user_id ON posts
FOR EACH ROW
WHEN (OLD.published IS DISTINCT FROM NEW.published OR OLD.user_id IS DISTINCT FROM NEW.user_id)
EXECUTE FUNCTION users_post_counts_after_change();

CREATE FUNCTION users_post_counts_after_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE users SET published_posts = 0, draft_posts = 0
    WHERE published_posts <> 0 OR draft_posts <> 0;
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_post_counts_after_truncate AFTER TRUNCATE ON posts
FOR EACH STATEMENT EXECUTE FUNCTION users_post_counts_after_truncate();

CREATE TABLE user_totals (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    users INTEGER NOT NULL CHECK (users >= 0)
);

INSERT INTO user_totals (id, users) SELECT 1, COUNT(*) FROM users;

CREATE FUNCTION user_totals_after_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE user_totals
    SET users = CASE TG_OP WHEN 'INSERT' THEN users + 1
                           WHEN 'DELETE' THEN users - 1
                           ELSE 0 END
    WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER user_totals_after_insert AFTER INSERT ON users
FOR EACH ROW EXECUTE FUNCTION user_totals_after_change();

CREATE TRIGGER user_totals_after_delete AFTER DELETE ON users
FOR EACH ROW EXECUTE FUNCTION user_totals_after_change();

CREATE TRIGGER user_totals_after_truncate AFTER TRUNCATE ON users
FOR EACH STATEMENT EXECUTE FUNCTION user_totals_after_change();
