DROP INDEX posts_search;
ALTER TABLE posts DROP COLUMN search_document;
CREATE INDEX posts_search ON posts USING gin (
    (setweight(to_tsvector('portfolio_search', title), 'A')
     || setweight(to_tsvector('portfolio_search', content), 'B'))
);
