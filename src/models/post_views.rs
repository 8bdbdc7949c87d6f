//! Post views, counted in memory and written in batches.
//!
//! Writing `views = views + 1` on every page view would turn each read into
//! a write, queued behind the single writer. Instead views are added up
//! here, and the first view after a second has passed writes the whole
//! batch in one transaction (so at most one such write a second); the rest
//! are written at shutdown. Pages add the pending views when they show a
//! count, so nobody sees a number go back. A crash loses at most the last
//! second's views: views are a statistic, not acknowledged data.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use diesel::prelude::*;

use crate::db::schema::posts;
use crate::db::DbConnection;
use crate::error::AppResult;

const FLUSH_EVERY: Duration = Duration::from_secs(1);

pub struct ViewCounter {
    state: Mutex<Pending>,
}

struct Pending {
    views: HashMap<i32, i32>,
    since: Instant,
}

impl Default for ViewCounter {
    fn default() -> Self {
        ViewCounter {
            state: Mutex::new(Pending {
                views: HashMap::new(),
                since: Instant::now(),
            }),
        }
    }
}

impl ViewCounter {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        // A panic elsewhere cannot leave a half-updated map: use it anyway.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts one view of `post_id`. Returns the views not yet written for
    /// it, and the batch to write now if it is time.
    pub fn record(&self, post_id: i32) -> (i32, Option<HashMap<i32, i32>>) {
        let mut pending = self.lock();
        let count = pending.views.entry(post_id).or_insert(0);
        *count += 1;
        let unwritten = *count;
        let batch = (pending.since.elapsed() >= FLUSH_EVERY).then(|| {
            pending.since = Instant::now();
            std::mem::take(&mut pending.views)
        });
        (unwritten, batch)
    }

    /// Views of `post_id` counted but not written yet.
    pub fn pending(&self, post_id: i32) -> i32 {
        self.lock().views.get(&post_id).copied().unwrap_or(0)
    }

    /// Puts back a batch that could not be written, to try again later.
    pub fn restore(&self, batch: HashMap<i32, i32>) {
        let mut pending = self.lock();
        for (id, views) in batch {
            *pending.views.entry(id).or_insert(0) += views;
        }
    }

    /// Everything not written yet (at shutdown).
    pub fn take_all(&self) -> HashMap<i32, i32> {
        std::mem::take(&mut self.lock().views)
    }
}

/// Adds a batch of views in one transaction. Posts deleted meanwhile are
/// simply not there to update.
pub fn write_batch(conn: &mut DbConnection, batch: &HashMap<i32, i32>) -> AppResult<()> {
    crate::db::write_transaction(conn, |conn| {
        for (id, views) in batch {
            diesel::update(posts::table.find(id))
                .set(posts::views.eq(posts::views + views))
                .execute(conn)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_add_up_until_a_batch_is_due() {
        let counter = ViewCounter::default();
        assert_eq!(counter.record(7).0, 1);
        assert_eq!(counter.record(7).0, 2);
        assert_eq!(counter.pending(7), 2);
        assert_eq!(counter.pending(8), 0);
        counter.lock().since -= FLUSH_EVERY;
        let (_, batch) = counter.record(8);
        assert_eq!(batch.unwrap(), HashMap::from([(7, 2), (8, 1)]));
        assert_eq!(counter.pending(7), 0);
        assert!(counter.take_all().is_empty());
    }
}
