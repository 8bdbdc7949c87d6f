-- An admin can suspend an account, with a reason: it cannot log in, its
-- sessions and tokens stop working (they are looked up with the account),
-- and its posts are hidden from everyone but admins.
ALTER TABLE users ADD COLUMN suspended_at TIMESTAMP;
ALTER TABLE users ADD COLUMN suspension_reason TEXT;

-- Hiding a suspended account's posts is unpublishing them, so every list,
-- count, search and feed leaves them out through the indexes and triggers
-- it already has. Whether each was published is held here meanwhile
-- (NULL: not held), and put back when the suspension is lifted.
ALTER TABLE posts ADD COLUMN held_published BOOLEAN;
