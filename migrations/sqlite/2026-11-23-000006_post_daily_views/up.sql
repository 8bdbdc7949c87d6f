-- Views per post per day (UTC), for "trending this week". Written with the
-- batched view counts (at most once a second, see src/models/post_views.rs),
-- so a page view never waits for a write. `posts.views` keeps the total.
CREATE TABLE post_daily_views (
    post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    day     DATE NOT NULL,
    views   INTEGER NOT NULL CHECK (views > 0),
    PRIMARY KEY (post_id, day)
) WITHOUT ROWID;

-- Trending reads the last seven days across all posts.
CREATE INDEX post_daily_views_day ON post_daily_views (day, post_id, views);
