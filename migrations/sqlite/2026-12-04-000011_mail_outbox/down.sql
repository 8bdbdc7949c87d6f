DROP INDEX outbox_due;
DROP TABLE outbox;
