DROP INDEX posts_image;
