-- Full-text search over post titles and content (SQLite FTS5, compiled into
-- the bundled SQLite). An external-content index: the text lives once, in
-- `posts`; the index holds only the tokens. Triggers keep it in step, so
-- rows changed with sqlite3 stay searchable too.
-- porter: "inventors" finds "inventor"; remove_diacritics: "Lovelace" finds "Lovélace".
CREATE VIRTUAL TABLE posts_search USING fts5(
    title,
    content,
    content = 'posts',
    content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

INSERT INTO posts_search (posts_search) VALUES ('rebuild');

CREATE TRIGGER posts_search_after_insert AFTER INSERT ON posts
BEGIN
    INSERT INTO posts_search (rowid, title, content)
    VALUES (NEW.id, NEW.title, NEW.content);
END;

CREATE TRIGGER posts_search_after_delete AFTER DELETE ON posts
BEGIN
    INSERT INTO posts_search (posts_search, rowid, title, content)
    VALUES ('delete', OLD.id, OLD.title, OLD.content);
END;

CREATE TRIGGER posts_search_after_update AFTER UPDATE OF title, content ON posts
BEGIN
    INSERT INTO posts_search (posts_search, rowid, title, content)
    VALUES ('delete', OLD.id, OLD.title, OLD.content);
    INSERT INTO posts_search (rowid, title, content)
    VALUES (NEW.id, NEW.title, NEW.content);
END;
