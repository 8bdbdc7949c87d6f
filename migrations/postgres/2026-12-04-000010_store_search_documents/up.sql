-- The search document of each post, stored (and indexed) instead of worked
-- out from the text on every look.
--
-- Migration 000005 indexed an expression over title and content. The index
-- finds the posts with a rare word; but for a common word the planner rightly
-- walks the newest posts instead (a search takes the newest 1,000 matches),
-- and then computed `to_tsvector` for every row it passed, and again for the
-- ranks: 45 µs a row, about 100 ms a search (docs/PERFORMANCE.md). A stored
-- generated column is computed once per write, by PostgreSQL itself, so rows
-- changed with psql stay right too.
--
-- SQLite's counterpart is its FTS5 table (000005); its migration 000010 does
-- nothing. (The schema test leaves generated columns out of the comparison.)
ALTER TABLE posts ADD COLUMN search_document tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('portfolio_search', title), 'A')
    || setweight(to_tsvector('portfolio_search', content), 'B')
) STORED;

DROP INDEX posts_search;
CREATE INDEX posts_search ON posts USING gin (search_document);
