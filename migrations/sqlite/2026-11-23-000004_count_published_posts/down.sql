DROP TRIGGER post_totals_after_update;
DROP TRIGGER post_totals_after_delete;
DROP TRIGGER post_totals_after_insert;
DROP TABLE post_totals;
