-- Full-text search over post titles and content.
--
-- Differs from SQLite (FTS5 external-content table kept by triggers): here a
-- GIN index on an expression over `posts` itself. No extra table or column,
-- no triggers: the index follows every change to the rows by itself.
-- The text search configuration does what FTS5's tokenizer did:
-- unaccent first ("Lovelace" finds "Lovélace", like remove_diacritics), then
-- the English Snowball stemmer ("inventors" finds "inventor", like porter).
-- unaccent is a trusted extension (PostgreSQL 13+), so the database's owner
-- can create it without being a superuser.
--
-- Queries must repeat the indexed expression exactly, with the configuration
-- name written as a literal (not a bind parameter), or the index is not used:
--   (setweight(to_tsvector('portfolio_search', title), 'A')
--    || setweight(to_tsvector('portfolio_search', content), 'B'))
--   @@ plainto_tsquery('portfolio_search', $1)
CREATE EXTENSION IF NOT EXISTS unaccent;

-- The English stemmer without a stop-word list: FTS5 has none, and a
-- search for "and" or "this" should find the posts that say it.
CREATE TEXT SEARCH DICTIONARY portfolio_stem (TEMPLATE = snowball, Language = english);

CREATE TEXT SEARCH CONFIGURATION portfolio_search (COPY = english);
ALTER TEXT SEARCH CONFIGURATION portfolio_search
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, hword, hword_part, word
    WITH unaccent, portfolio_stem;

-- Title words weigh more than content words in ts_rank.
CREATE INDEX posts_search ON posts USING gin (
    (setweight(to_tsvector('portfolio_search', title), 'A')
     || setweight(to_tsvector('portfolio_search', content), 'B'))
);
