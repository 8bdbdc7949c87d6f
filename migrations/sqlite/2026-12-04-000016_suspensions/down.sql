-- Put back what suspensions held, then drop the columns.
UPDATE posts SET published = held_published WHERE held_published IS NOT NULL;
ALTER TABLE posts DROP COLUMN held_published;
ALTER TABLE users DROP COLUMN suspension_reason;
ALTER TABLE users DROP COLUMN suspended_at;
