-- The number of published posts, kept current by triggers, so that a page of
-- the post list does not count 10,000 index entries to say how many pages
-- there are (measured on SQLite: ~0.2 ms a request, as much as reading the
-- page). Triggers rather than application code, so that rows changed with
-- psql (and rows removed by ON DELETE CASCADE) are counted too.
--
-- Differs from SQLite: PostgreSQL triggers call functions (plpgsql, one per
-- trigger, same conditions as SQLite's WHEN clauses). `published` is BIGINT,
-- what COUNT(*) gives and what Diesel's schema says. One more trigger than
-- SQLite: TRUNCATE skips row triggers (SQLite has no TRUNCATE), so truncating
-- posts, directly or by TRUNCATE users CASCADE, sets the count to 0.
-- The single row is id 1, as on SQLite; no identity needed.
CREATE TABLE post_totals (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    published BIGINT NOT NULL
);

INSERT INTO post_totals (id, published)
SELECT 1, COUNT(*) FROM posts WHERE published;

CREATE FUNCTION post_totals_after_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE post_totals SET published = published + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER post_totals_after_insert AFTER INSERT ON posts
FOR EACH ROW WHEN (NEW.published)
EXECUTE FUNCTION post_totals_after_insert();

CREATE FUNCTION post_totals_after_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE post_totals SET published = published - 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER post_totals_after_delete AFTER DELETE ON posts
FOR EACH ROW WHEN (OLD.published)
EXECUTE FUNCTION post_totals_after_delete();

CREATE FUNCTION post_totals_after_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE post_totals
    SET published = published + (CASE WHEN NEW.published THEN 1 ELSE -1 END)
    WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER post_totals_after_update AFTER UPDATE OF published ON posts
FOR EACH ROW WHEN (OLD.published IS DISTINCT FROM NEW.published)
EXECUTE FUNCTION post_totals_after_update();

CREATE FUNCTION post_totals_after_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE post_totals SET published = 0 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER post_totals_after_truncate AFTER TRUNCATE ON posts
FOR EACH STATEMENT
EXECUTE FUNCTION post_totals_after_truncate();
