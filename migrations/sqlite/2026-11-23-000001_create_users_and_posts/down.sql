DROP INDEX posts_updated_at;
DROP INDEX posts_user_id;
DROP TABLE posts;
DROP TABLE users;
