//! Post views, counted in memory and written in batches.
//!
//! Writing `views = views + 1` on every page view would turn each read into
//! a write, queued behind the single writer. Instead views are added up
//! here, and a background task of their own ([`write_every`]) hands what
//! was counted to the writer once a second (so at most one such write a
//! second, and no visitor waits for it); the rest are written at shutdown.
//! Pages add the views not written yet when they show a count, so nobody
//! sees a number go back. A crash loses at most the last second's views:
//! views are a statistic, not acknowledged data.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::{Post, PostWithAuthor};
use crate::db::schema::{post_daily_views, posts, site_daily};
use crate::db::{DbConnection, Writer};
use crate::domain::error::AppResult;

/// How often the counted views are written.
pub const WRITE_EVERY: Duration = Duration::from_secs(1);

/// The views counted in memory. Clones share the same counts.
#[derive(Clone)]
pub struct ViewCounter {
    state: Arc<Mutex<Pending>>,
}

struct Pending {
    /// Counted since the last batch was handed out.
    views: HashMap<i32, i32>,
    /// The batch being written, until [`ViewCounter::written`] says how it
    /// went. One at a time: while the writer is slow, views keep adding up
    /// here instead of queueing a batch a second behind it.
    writing: Option<HashMap<i32, i32>>,
}

impl Default for ViewCounter {
    fn default() -> Self {
        ViewCounter {
            state: Arc::new(Mutex::new(Pending {
                views: HashMap::new(),
                writing: None,
            })),
        }
    }
}

impl Pending {
    fn unwritten(&self, post_id: i32) -> i32 {
        let writing = self.writing.as_ref().and_then(|batch| batch.get(&post_id));
        self.views.get(&post_id).copied().unwrap_or(0) + writing.copied().unwrap_or(0)
    }
}

impl ViewCounter {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        // A panic elsewhere cannot leave a half-updated map: use it anyway.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts one view of `post_id`; returns the views not written yet
    /// for it (this one included).
    pub fn record(&self, post_id: i32) -> i32 {
        let mut pending = self.lock();
        *pending.views.entry(post_id).or_insert(0) += 1;
        pending.unwritten(post_id)
    }

    /// The views counted since the last batch, to write now, unless the
    /// last batch is still being written or nothing was counted; once it is
    /// written (or not), say so with [`ViewCounter::written`].
    pub fn take_batch(&self) -> Option<HashMap<i32, i32>> {
        let mut pending = self.lock();
        if pending.writing.is_some() || pending.views.is_empty() {
            return None;
        }
        let batch = std::mem::take(&mut pending.views);
        pending.writing = Some(batch.clone());
        Some(batch)
    }

    /// Views of `post_id` counted but not written yet.
    pub fn pending(&self, post_id: i32) -> i32 {
        self.lock().unwritten(post_id)
    }

    /// The batch from [`ViewCounter::take_batch`] is committed (`true`), or
    /// could not be written (`false`): its views go back to be tried again
    /// with the next one.
    pub fn written(&self, committed: bool) {
        let mut pending = self.lock();
        let Some(batch) = pending.writing.take() else {
            return;
        };
        if !committed {
            for (id, views) in batch {
                *pending.views.entry(id).or_insert(0) += views;
            }
        }
    }

    /// Everything counted since the last batch (at shutdown). A batch still
    /// being written is not in it: it is queued at the writer already, and
    /// written before anything sent after it.
    pub fn take_all(&self) -> HashMap<i32, i32> {
        std::mem::take(&mut self.lock().views)
    }
}

/// Writes what `counter` counted every `every`, one batch at a time,
/// until `stop` resolves; run as a task of its own, so no request waits for
/// it. At a million posts a batch updates thousands of rows scattered over
/// the file, which took the request that used to write it 300 ms
/// (docs/PERFORMANCE.md). Views are a statistic: a batch the writer cannot
/// take now is logged and tried again with the next one.
pub async fn write_every(
    writer: Writer,
    counter: ViewCounter,
    every: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    use rocket::tokio;
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = &mut stop => break,
        }
        let Some(batch) = counter.take_batch() else {
            continue;
        };
        let result = writer
            .write(move |conn| write_batch(conn, &batch, today()))
            .await;
        if let Err(error) = &result {
            log::warn!("post views not written yet: {error}");
        }
        counter.written(result.is_ok());
    }
}

/// Adds a batch of views in one transaction: to each post's total, to its
/// count for `today` (for trending), and to the site's views of `today`
/// (`site_daily`, for the admin dashboard: one statement for the batch, so
/// that no request sums a day's rows). Posts deleted meanwhile are simply
/// not there to update, and their views are not counted anywhere.
pub fn write_batch(
    conn: &mut DbConnection,
    batch: &HashMap<i32, i32>,
    today: NaiveDate,
) -> AppResult<()> {
    metrics::histogram!("portfolio_view_batch_posts").record(batch.len() as f64);
    // Few statements per batch, not two per post: on PostgreSQL each
    // statement is a round trip, and a busy second brings thousands of
    // posts. Totals: one UPDATE per distinct count (most posts in a batch
    // were seen once or twice). Daily rows: multi-row upserts.
    let mut by_count: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    for (&id, &views) in batch {
        if views > 0 {
            by_count.entry(views).or_default().push(id);
        }
    }
    crate::db::write_transaction(conn, |conn| {
        let mut rows = Vec::new();
        let mut site_views: i64 = 0;
        for (&views, ids) in &by_count {
            for chunk in ids.chunks(CHUNK) {
                // Only the posts still there come back: those deleted
                // meanwhile get no daily row (their id would break the
                // foreign key).
                let present: Vec<i32> =
                    diesel::update(posts::table.filter(posts::id.eq_any(chunk)))
                        .set(posts::views.eq(posts::views + views))
                        .returning(posts::id)
                        .get_results(conn)?;
                site_views += i64::from(views) * present.len() as i64;
                rows.extend(present.into_iter().map(|id| {
                    (
                        post_daily_views::post_id.eq(id),
                        post_daily_views::day.eq(today),
                        post_daily_views::views.eq(views),
                    )
                }));
            }
        }
        for chunk in rows.chunks(CHUNK) {
            let add_to_today = diesel::insert_into(post_daily_views::table)
                .values(chunk)
                .on_conflict((post_daily_views::post_id, post_daily_views::day))
                .do_update()
                .set(
                    post_daily_views::views
                        .eq(post_daily_views::views + excluded(post_daily_views::views)),
                );
            // Both backends have this upsert, but Diesel's MultiConnection
            // cannot express it: run the same statement on the one in use.
            match conn {
                DbConnection::Sqlite(c) => add_to_today.execute(c),
                DbConnection::Postgres(c) => add_to_today.execute(c),
            }?;
        }
        if site_views > 0 {
            let add_to_site = diesel::insert_into(site_daily::table)
                .values((site_daily::day.eq(today), site_daily::views.eq(site_views)))
                .on_conflict(site_daily::day)
                .do_update()
                .set(site_daily::views.eq(site_daily::views + excluded(site_daily::views)));
            match conn {
                DbConnection::Sqlite(c) => add_to_site.execute(c),
                DbConnection::Postgres(c) => add_to_site.execute(c),
            }?;
        }
        Ok(())
    })
}

/// Rows per statement: well under both backends' limits on parameters.
const CHUNK: usize = 500;

/// Today, as trending counts it (UTC).
pub fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// A published post and its views over the trending window.
#[derive(Debug, Clone)]
pub struct Trending {
    pub post: PostWithAuthor,
    pub recent_views: i64,
}

/// How many days "trending" looks back, today included.
pub const TRENDING_DAYS: u64 = 7;

/// How many posts a [`Ranking`] keeps: more than the largest `limit` a
/// request may ask for (50), so that posts unpublished or deleted since it
/// was made can be passed over.
pub const RANKING_SIZE: i64 = 200;

/// The most viewed published posts of the trending window, as of one
/// moment: post ids and their views, most viewed first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ranking {
    pub top: Vec<(i32, i64)>,
}

/// The [`RANKING_SIZE`] most viewed posts of the last [`TRENDING_DAYS`]
/// days up to `today`, most viewed first (newer first on a tie). This sums
/// every view row of the window, so it costs as much as the week's
/// activity: [`TrendingBoard`] makes it in the background, and requests read
/// the result. It reads the day index alone: [`top`] passes over drafts.
/// (Joined with `posts` to leave drafts out here, each ranking read a
/// random row of `posts` per view row, and while it did, point reads in
/// the same process stalled: p99 165 ms against 0.5 ms, at 1,000,000
/// posts and 400,000 view rows; docs/PERFORMANCE.md.)
pub fn rank(conn: &mut DbConnection, today: NaiveDate) -> AppResult<Ranking> {
    use diesel::dsl::sum;
    let since = today - chrono::Days::new(TRENDING_DAYS - 1);
    let recent = sum(post_daily_views::views);
    let counts: Vec<(i32, Option<i64>)> = post_daily_views::table
        .filter(post_daily_views::day.ge(since))
        .filter(post_daily_views::day.le(today))
        .group_by(post_daily_views::post_id)
        .select((post_daily_views::post_id, recent))
        .order((recent.desc(), post_daily_views::post_id.desc()))
        .limit(RANKING_SIZE)
        .load(conn)?;
    Ok(Ranking {
        top: counts
            .into_iter()
            .map(|(id, views)| (id, views.unwrap_or(0)))
            .collect(),
    })
}

/// The first `limit` posts of `ranking` that are still there and
/// published, with their authors: `limit` rows read, a few more when some
/// were unpublished or deleted since the ranking was made.
pub fn top(conn: &mut DbConnection, ranking: &Ranking, limit: usize) -> AppResult<Vec<Trending>> {
    let mut found = Vec::with_capacity(limit);
    for chunk in ranking.top.chunks(limit.max(1)) {
        let ids: Vec<i32> = chunk.iter().map(|(id, _)| *id).collect();
        let views: HashMap<i32, i64> = chunk.iter().copied().collect();
        for post in Post::find_many(conn, &ids)? {
            if post.post.visible_to(None) && found.len() < limit {
                found.push(Trending {
                    recent_views: views.get(&post.post.id).copied().unwrap_or(0),
                    post,
                });
            }
        }
        if found.len() >= limit {
            break;
        }
    }
    Ok(found)
}

/// The latest [`Ranking`], shared by every request of this instance and
/// remade in the background every `trending_refresh_secs` (see
/// `lib.rs`); the first request of an instance makes the first one. So a
/// request reads `limit` posts, never the week's view rows; the price is
/// that views reach trending up to that many seconds late.
#[derive(Clone, Default)]
pub struct TrendingBoard {
    latest: std::sync::Arc<std::sync::RwLock<Option<std::sync::Arc<Ranking>>>>,
}

impl TrendingBoard {
    pub fn latest(&self) -> Option<std::sync::Arc<Ranking>> {
        self.latest
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub fn publish(&self, ranking: Ranking) -> std::sync::Arc<Ranking> {
        let ranking = std::sync::Arc::new(ranking);
        *self
            .latest
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(ranking.clone());
        ranking
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_add_up_until_a_batch_is_taken() {
        let counter = ViewCounter::default();
        assert_eq!(
            counter.take_batch(),
            None,
            "nothing counted, nothing to write"
        );
        assert_eq!(counter.record(7), 1);
        assert_eq!(counter.record(7), 2);
        assert_eq!(counter.pending(7), 2);
        assert_eq!(counter.pending(8), 0);
        counter.record(8);
        let batch = counter.take_batch();
        assert_eq!(batch.unwrap(), HashMap::from([(7, 2), (8, 1)]));
        // Being written, not written yet: still shown.
        assert_eq!(counter.pending(7), 2);
        counter.written(true);
        assert_eq!(counter.pending(7), 0);
        assert!(counter.take_all().is_empty());
    }

    #[test]
    fn one_batch_at_a_time_and_a_failed_one_comes_back() {
        let counter = ViewCounter::default();
        counter.record(1);
        let first = counter.take_batch();
        assert_eq!(first.unwrap(), HashMap::from([(1, 1)]));
        // More views, but the first batch is still being written.
        assert_eq!(counter.record(1), 2);
        assert_eq!(counter.take_batch(), None);
        counter.written(false);
        assert_eq!(counter.pending(1), 2);
        counter.record(2);
        let retry = counter.take_batch();
        assert_eq!(retry.unwrap(), HashMap::from([(1, 2), (2, 1)]));
    }
}
