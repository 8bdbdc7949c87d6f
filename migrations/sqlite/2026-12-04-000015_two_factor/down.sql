DROP INDEX login_challenges_user_id;
DROP TABLE login_challenges;
DROP INDEX recovery_codes_user_id;
DROP TABLE recovery_codes;
DROP TABLE two_factor;
