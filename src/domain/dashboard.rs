//! The admin dashboard's figures: the site's totals, and sign-ups, posts and
//! views per day over the last [`DAYS`] days.
//!
//! Every figure is read from a count the database keeps (migrations
//! `000004`, `000009` and `000018_site_daily`): three single-row tables and
//! at most [`DAYS`] rows of `site_daily`, found by its primary key. So the
//! dashboard costs the same at a million posts as at ten; nothing here
//! counts or sums a table on the request.
//!
//! What the daily figures mean (see the migration): `signups` and `posts`
//! are the accounts and posts created that day (UTC) that are still there;
//! `views` are the views counted that day of the posts still there. The view
//! writer (`post_views::write_batch`) adds each batch's views to its day.

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::db::schema::{post_totals, site_daily, site_totals, user_totals};
use crate::db::DbConnection;
use crate::domain::error::AppResult;

/// How many days the daily figures cover, today included.
pub const DAYS: u64 = 30;

/// The site's totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub people: i64,
    /// Published posts.
    pub posts: i64,
    /// Posts not published: drafts, scheduled posts, posts held by a
    /// suspension.
    pub drafts: i64,
    /// Every comment, hidden ones too.
    pub comments: i64,
    pub api_tokens: i64,
}

/// One day's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    pub day: NaiveDate,
    pub signups: i64,
    pub posts: i64,
    pub views: i64,
}

impl Day {
    fn empty(day: NaiveDate) -> Day {
        Day {
            day,
            signups: 0,
            posts: 0,
            views: 0,
        }
    }
}

/// What the dashboard shows of the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figures {
    pub totals: Totals,
    /// The last [`DAYS`] days, oldest first, each one there (0 when
    /// nothing happened).
    pub days: Vec<Day>,
    /// How many bytes the database takes.
    pub database_bytes: i64,
}

/// The totals, the daily figures up to `today` and the database's size:
/// three single-row reads, one primary-key range of at most [`DAYS`] rows,
/// and the size (pragmas or `pg_database_size`).
pub fn figures(conn: &mut DbConnection, today: NaiveDate) -> AppResult<Figures> {
    let people: i32 = user_totals::table
        .select(user_totals::users)
        .first(conn)
        .optional()?
        .unwrap_or(0);
    let (posts, drafts): (i64, i64) = post_totals::table
        .select((post_totals::published, post_totals::drafts))
        .first(conn)
        .optional()?
        .unwrap_or((0, 0));
    let (comments, api_tokens): (i64, i64) = site_totals::table
        .select((site_totals::comments, site_totals::api_tokens))
        .first(conn)
        .optional()?
        .unwrap_or((0, 0));
    let since = today - chrono::Days::new(DAYS - 1);
    let kept: Vec<(NaiveDate, i64, i64, i64)> = site_daily::table
        .filter(site_daily::day.between(since, today))
        .order(site_daily::day)
        .select((
            site_daily::day,
            site_daily::signups,
            site_daily::posts,
            site_daily::views,
        ))
        .load(conn)?;
    Ok(Figures {
        totals: Totals {
            people: i64::from(people),
            posts,
            drafts,
            comments,
            api_tokens,
        },
        days: every_day(since, today, kept),
        database_bytes: crate::db::database_bytes(conn)?,
    })
}

/// One [`Day`] for each day from `since` to `today`, from the rows kept
/// (days without a row had nothing).
fn every_day(
    since: NaiveDate,
    today: NaiveDate,
    kept: Vec<(NaiveDate, i64, i64, i64)>,
) -> Vec<Day> {
    let mut kept = kept.into_iter().peekable();
    since
        .iter_days()
        .take_while(|day| *day <= today)
        .map(|day| {
            while kept.next_if(|row| row.0 < day).is_some() {}
            match kept.next_if(|row| row.0 == day) {
                Some((day, signups, posts, views)) => Day {
                    day,
                    signups,
                    posts,
                    views,
                },
                None => Day::empty(day),
            }
        })
        .collect()
}

/// Sets each day's views to the sum of that day's `post_daily_views`: after
/// `db import`, which writes those rows directly (the view writer adds
/// views as it writes them; nothing else does). Reads the whole table: for
/// imports, never for requests.
pub fn recount_views(conn: &mut DbConnection) -> AppResult<()> {
    // Both backends have this upsert (`WHERE true` keeps SQLite from reading
    // `ON` as a join's); Diesel's MultiConnection cannot express it.
    diesel::sql_query(
        "INSERT INTO site_daily (day, views) \
         SELECT day, SUM(views) FROM post_daily_views WHERE true GROUP BY day \
         ON CONFLICT (day) DO UPDATE SET views = excluded.views",
    )
    .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, n).unwrap()
    }

    #[test]
    fn every_day_of_the_window_is_there_oldest_first() {
        let days = every_day(day(1), day(5), vec![(day(2), 1, 2, 3), (day(5), 0, 0, 9)]);
        assert_eq!(days.len(), 5);
        assert_eq!(days[0], Day::empty(day(1)));
        assert_eq!((days[1].signups, days[1].posts, days[1].views), (1, 2, 3));
        assert_eq!(days[2], Day::empty(day(3)));
        assert_eq!(days[4].views, 9);
        assert!(days.windows(2).all(|pair| pair[0].day < pair[1].day));
    }

    #[test]
    fn rows_outside_the_window_are_passed_over() {
        let days = every_day(day(3), day(4), vec![(day(1), 5, 5, 5), (day(4), 1, 0, 0)]);
        assert_eq!(
            days,
            vec![
                Day::empty(day(3)),
                Day {
                    signups: 1,
                    ..Day::empty(day(4))
                }
            ]
        );
    }
}
