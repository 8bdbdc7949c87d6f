-- Serving an image looks up the post that shows it (to refuse others'
-- drafts' images); only posts with an image are in this index.
-- Same partial index as on SQLite.
CREATE INDEX posts_image ON posts (image) WHERE image IS NOT NULL;
