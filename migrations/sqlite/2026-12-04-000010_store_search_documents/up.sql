-- Nothing to do on SQLite. On PostgreSQL this version stores each post's
-- search document; here the search index is the FTS5 table of migration
-- 000005, which already holds its tokens. (Both backends keep the same
-- versions, so that `/health` and `db status` read alike.)
SELECT 1;
