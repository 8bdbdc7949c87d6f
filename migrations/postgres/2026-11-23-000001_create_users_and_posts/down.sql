DROP INDEX posts_updated_at;
DROP INDEX posts_user_id;
DROP TABLE posts;
DROP INDEX users_email_key;
DROP INDEX users_uid_key;
DROP TABLE users;
