//! "Trending this week", for the API and the home page: read from the
//! instance's [`TrendingBoard`], which a background task remakes every
//! `trending_refresh_secs`, so that no request sums a week of view rows.

use std::time::Duration;

use rocket::fairing::AdHoc;
use rocket::tokio;

use crate::db::Db;
use crate::domain::error::AppResult;
use crate::domain::post_views::{self, Trending, TrendingBoard};

/// The `limit` most viewed published posts of the window, most viewed
/// first. Costs `limit` rows; only an instance's very first call ranks (on a
/// blocking thread, with the slow reads' budget).
pub async fn top(db: &Db<'_>, board: &TrendingBoard, limit: usize) -> AppResult<Vec<Trending>> {
    let ranking = match board.latest() {
        Some(ranking) => ranking,
        None => board.publish(
            db.read_slow(|conn| post_views::rank(conn, post_views::today()))
                .await?,
        ),
    };
    db.read(move |conn| post_views::top(conn, &ranking, limit))
        .await
}

/// Remakes the board every `every` until the server shuts down, on a
/// blocking thread with the slow reads' time budget; a failure is logged
/// and the last ranking stays.
pub fn refresher(every: Duration) -> AdHoc {
    AdHoc::on_liftoff("Trending board", move |rocket| {
        Box::pin(async move {
            let (Some(readers), Some(board)) = (
                Db::readers(rocket),
                rocket.state::<TrendingBoard>().cloned(),
            ) else {
                return;
            };
            let mut shutdown = rocket.shutdown();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(every) => {}
                        _ = &mut shutdown => break,
                    }
                    let readers = readers.clone();
                    let made = tokio::task::spawn_blocking(move || {
                        crate::db::read_within(&readers, crate::db::SLOW_READ_BUDGET, |conn| {
                            post_views::rank(conn, post_views::today())
                        })
                    })
                    .await;
                    match made {
                        Ok(Ok(ranking)) => {
                            board.publish(ranking);
                        }
                        Ok(Err(error)) => log::warn!("could not rank trending posts: {error}"),
                        Err(error) => log::warn!("ranking trending posts failed: {error}"),
                    }
                }
            });
        })
    })
}
