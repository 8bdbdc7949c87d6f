//! Scheduled posts: a post whose `publish_at` is still to come is a draft
//! (`published = false`) until a background task publishes it at that time.
//!
//! Why a task that writes, rather than lists that compare times on read:
//! every list, count, tag page, feed, sitemap and search already keys on
//! `published` through indexes and counting triggers. Flipping that one
//! column at the right moment keeps all of them exact and index-ordered with
//! no time test on any reading path, and the counts (kept by triggers) follow
//! on their own. The task looks once a second (an indexed read of the
//! first due entry: nothing is written until something is due), so a
//! post appears within a second of its time, restarts included: a post that
//! fell due while the server was down is published on the first look.
//! Several instances on PostgreSQL may each look; the update is idempotent.

use std::future::Future;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::dsl::not;
use diesel::prelude::*;
use diesel::r2d2;

use crate::db::schema::posts;
use crate::db::{ConnectionManager, DbConnection, Writer};
use crate::domain::error::{AppError, AppResult};

/// How often the task looks for due posts.
pub const LOOK_EVERY: Duration = Duration::from_secs(1);

/// The posts waiting for their time: not published, with a time, and not
/// held by a suspension (whose lifting decides for them). `NOT published`
/// as written in the partial index `posts_scheduled`, so SQLite uses it.
macro_rules! waiting {
    () => {
        posts::table.filter(
            not(posts::published)
                .and(posts::publish_at.is_not_null())
                .and(posts::held_published.is_null()),
        )
    };
}

/// Whether a waiting post is due by `now`: the first entry of the
/// `posts_scheduled` range up to `now`, if any.
pub fn any_due(conn: &mut DbConnection, now: NaiveDateTime) -> AppResult<bool> {
    let found: Option<i32> = crate::natively!(conn, |c| waiting!()
        .filter(posts::publish_at.le(now))
        .select(posts::id)
        .first(c)
        .optional())?;
    Ok(found.is_some())
}

/// Publishes every waiting post due by `now`; returns how many. Each one's
/// `updated_at` becomes `now`, the moment it appears (within a second of
/// its time, or later if the server was down or its author suspended), so
/// it arrives at the top of the lists and moves its feeds' `Last-Modified`
/// forward; `publish_at` keeps the time it was published as of.
pub fn publish_due(conn: &mut DbConnection, now: NaiveDateTime) -> AppResult<usize> {
    Ok(crate::natively!(conn, |c| diesel::update(
        waiting!().filter(posts::publish_at.le(now))
    )
    .set((posts::published.eq(true), posts::updated_at.eq(now)))
    .execute(c))?)
}

/// The task: publishes due posts as their time comes, until `stop`.
pub async fn publish_until(
    readers: r2d2::Pool<ConnectionManager>,
    writer: Writer,
    stop: impl Future<Output = ()>,
) {
    let mut stop = std::pin::pin!(stop);
    loop {
        if let Err(error) = publish_if_due(&readers, &writer).await {
            log::warn!("scheduled posts: {error}");
        }
        rocket::tokio::select! {
            _ = &mut stop => break,
            _ = rocket::tokio::time::sleep(LOOK_EVERY) => {}
        }
    }
}

async fn publish_if_due(readers: &r2d2::Pool<ConnectionManager>, writer: &Writer) -> AppResult<()> {
    let readers = readers.clone();
    let now = super::now();
    let due = rocket::tokio::task::spawn_blocking(move || {
        crate::db::read_within(&readers, crate::db::READ_BUDGET, |conn| any_due(conn, now))
    })
    .await
    .map_err(AppError::internal)??;
    if due {
        let published = writer.write(move |conn| publish_due(conn, now)).await?;
        log::info!("scheduled posts: published {published}");
    }
    Ok(())
}
