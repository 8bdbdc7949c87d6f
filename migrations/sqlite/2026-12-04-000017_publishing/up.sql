-- The publishing platform: scheduled posts, tags and comments.

-- When a post was (or, while it is not published yet, will be) published.
-- A draft has none. A background task publishes a scheduled post at its
-- time by setting `published`, so every list, count, index and trigger that
-- already keys on `published` treats it as published from then on, with no
-- time test on the reading paths.
ALTER TABLE posts ADD COLUMN publish_at TIMESTAMP;
UPDATE posts SET publish_at = created_at WHERE published;
-- The scheduler's question, "which are due?", walks only scheduled posts.
CREATE INDEX posts_scheduled ON posts (publish_at) WHERE NOT published AND publish_at IS NOT NULL;

-- Comments on the post (visible ones, kept by triggers below) and whether
-- its author has closed them.
ALTER TABLE posts ADD COLUMN comments INTEGER NOT NULL DEFAULT 0 CHECK (comments >= 0);
ALTER TABLE posts ADD COLUMN comments_closed BOOLEAN NOT NULL DEFAULT 0;

-- A tag and how many published posts carry it (kept by triggers).
CREATE TABLE tags (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    posts INTEGER NOT NULL DEFAULT 0 CHECK (posts >= 0)
);
-- "Popular tags": read in index order.
CREATE INDEX tags_popular ON tags (posts DESC, name);

-- A post's tags. `published` and `updated_at` copy the post's (triggers
-- keep them), so a tag's page walks `post_tags_listing` in order like the
-- post list walks `posts_published_updated_at`, at any size of tag.
CREATE TABLE post_tags (
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    published BOOLEAN NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (post_id, tag_id)
);
CREATE INDEX post_tags_listing ON post_tags (tag_id, published, updated_at, post_id);

CREATE TRIGGER post_tags_follow_post AFTER UPDATE OF published, updated_at ON posts
WHEN OLD.published IS NOT NEW.published OR OLD.updated_at IS NOT NEW.updated_at
BEGIN
    UPDATE post_tags SET published = NEW.published, updated_at = NEW.updated_at
    WHERE post_id = NEW.id;
END;

CREATE TRIGGER tags_count_after_insert AFTER INSERT ON post_tags
WHEN NEW.published
BEGIN
    UPDATE tags SET posts = posts + 1 WHERE id = NEW.tag_id;
END;

CREATE TRIGGER tags_count_after_delete AFTER DELETE ON post_tags
WHEN OLD.published
BEGIN
    UPDATE tags SET posts = posts - 1 WHERE id = OLD.tag_id;
END;

CREATE TRIGGER tags_count_after_update AFTER UPDATE OF published ON post_tags
WHEN OLD.published IS NOT NEW.published
BEGIN
    UPDATE tags SET posts = posts + (CASE WHEN NEW.published THEN 1 ELSE -1 END)
    WHERE id = NEW.tag_id;
END;

-- Comments, oldest first per post. `hidden`: its author is suspended.
CREATE TABLE comments (
    id INTEGER PRIMARY KEY NOT NULL,
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    hidden BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX comments_on_post ON comments (post_id, hidden, id);
CREATE INDEX comments_by_user ON comments (user_id);

CREATE TRIGGER posts_comments_after_insert AFTER INSERT ON comments
WHEN NOT NEW.hidden
BEGIN
    UPDATE posts SET comments = comments + 1 WHERE id = NEW.post_id;
END;

CREATE TRIGGER posts_comments_after_delete AFTER DELETE ON comments
WHEN NOT OLD.hidden
BEGIN
    UPDATE posts SET comments = comments - 1 WHERE id = OLD.post_id;
END;

CREATE TRIGGER posts_comments_after_update AFTER UPDATE OF hidden ON comments
WHEN OLD.hidden IS NOT NEW.hidden
BEGIN
    UPDATE posts SET comments = comments + (CASE WHEN NEW.hidden THEN -1 ELSE 1 END)
    WHERE id = NEW.post_id;
END;
