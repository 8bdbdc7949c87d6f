-- Views per post per day (UTC), for "trending this week". Written with the
-- batched view counts (at most once a second, see src/models/post_views.rs),
-- so a page view never waits for a write. `posts.views` keeps the total.
--
-- Differs from SQLite: no WITHOUT ROWID (PostgreSQL has no such thing; the
-- rows live in a heap with the primary key as an ordinary index).
CREATE TABLE post_daily_views (
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    day     DATE NOT NULL,
    views   INTEGER NOT NULL CHECK (views > 0),
    PRIMARY KEY (post_id, day)
);

-- Trending reads the last seven days across all posts (index-only).
CREATE INDEX post_daily_views_day ON post_daily_views (day, post_id, views);
