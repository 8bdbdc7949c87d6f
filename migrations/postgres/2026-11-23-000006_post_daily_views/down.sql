DROP INDEX post_daily_views_day;
DROP TABLE post_daily_views;
