-- Serving an image looks up the post that shows it (to refuse others'
-- drafts' images); only posts with an image are in this index.
CREATE INDEX posts_image ON posts (image) WHERE image IS NOT NULL;
