DROP INDEX api_tokens_user_id;
DROP TABLE api_tokens;
