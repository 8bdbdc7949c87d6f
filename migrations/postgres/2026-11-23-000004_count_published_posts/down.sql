DROP TRIGGER post_totals_after_truncate ON posts;
DROP TRIGGER post_totals_after_update ON posts;
DROP TRIGGER post_totals_after_delete ON posts;
DROP TRIGGER post_totals_after_insert ON posts;
DROP FUNCTION post_totals_after_truncate();
DROP FUNCTION post_totals_after_update();
DROP FUNCTION post_totals_after_delete();
DROP FUNCTION post_totals_after_insert();
DROP TABLE post_totals;
