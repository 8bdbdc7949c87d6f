//! Trending: `GET /api/posts/trending` and the home page's block.

use diesel::prelude::*;
use portfolio::db::schema::{post_daily_views, posts};
use portfolio::domain::post_views;
use rocket::http::Status;

use crate::browser::Browser;
use crate::helpers::{spawn_app, TestApp};

/// Views of `post` on the day `days_ago` before today, written straight to
/// the table (as the batched counter would have on that day).
fn viewed(app: &TestApp, post: i32, days_ago: u64, views: i32) {
    let day = post_views::today() - chrono::Days::new(days_ago);
    diesel::insert_into(post_daily_views::table)
        .values((
            post_daily_views::post_id.eq(post),
            post_daily_views::day.eq(day),
            post_daily_views::views.eq(views),
        ))
        .execute(&mut app.conn())
        .unwrap();
}

/// `post`'s stored view count once it reaches `expected`, or after a minute
/// (a few milliseconds is normal; a minute means the batch never came).
async fn views_written(app: &TestApp, post: i32, expected: i32) -> i32 {
    let stored = || -> i32 {
        posts::table
            .find(post)
            .select(posts::views)
            .first(&mut app.conn())
            .unwrap()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while stored() < expected && std::time::Instant::now() < deadline {
        rocket::tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    stored()
}

fn ids_and_views(body: &serde_json::Value) -> Vec<(i64, i64)> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["id"].as_i64().unwrap(),
                item["recent_views"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[rocket::async_test]
async fn trending_sums_the_last_seven_days_of_published_posts() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let steady = app.create_post(&ada, "Steady", true).await;
    let spike = app.create_post(&ada, "Spike", true).await;
    let old = app.create_post(&ada, "Old news", true).await;
    let draft = app.create_post(&ada, "Draft", false).await;
    for days_ago in 0..7 {
        viewed(&app, steady, days_ago, 10); // 70 within the week
    }
    viewed(&app, steady, 7, 1000); // a day too old
    viewed(&app, spike, 1, 50);
    viewed(&app, old, 8, 5000);
    viewed(&app, draft, 0, 9999);

    let reply = app.get("/api/posts/trending", None).await;
    assert_eq!(reply.status, Status::Ok, "{:?}", reply.body);
    assert_eq!(reply.body["days"], 7);
    assert_eq!(
        ids_and_views(&reply.body),
        [(steady as i64, 70), (spike as i64, 50)]
    );
    let one = app.get("/api/posts/trending?limit=1", None).await;
    assert_eq!(ids_and_views(&one.body), [(steady as i64, 70)]);
    for bad in ["0", "51", "-1", "ten", "99999999999999999999"] {
        let reply = app
            .get(&format!("/api/posts/trending?limit={bad}"), None)
            .await;
        assert_eq!(reply.status, Status::UnprocessableEntity, "limit={bad}");
        assert!(reply.field_error("limit").is_some());
    }
}

#[rocket::async_test]
async fn page_views_reach_trending_through_the_batched_counter() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let post = app.create_post(&ada, "Read me", true).await;
    let mut browser = Browser::new(&app);
    // The first view is counted in memory; a view a second later writes
    // the batch (posts.views and today's row).
    assert_eq!(
        browser.visit(&format!("/posts/{post}")).await.status,
        Status::Ok
    );
    rocket::tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        browser.visit(&format!("/posts/{post}")).await.status,
        Status::Ok
    );

    // The batch is written in the background, after the page is sent:
    // wait for it (a few milliseconds; a minute means it never came).
    assert_eq!(views_written(&app, post, 2).await, 2);
    let reply = app.get("/api/posts/trending", None).await;
    assert_eq!(ids_and_views(&reply.body), [(post as i64, 2)]);

    let home = browser.get("/").await;
    assert!(home.html.contains("Trending this week"));
    assert!(
        home.html.contains(&format!(
            "<a href=\"&#x2F;posts&#x2F;{post}-read-me\">Read me</a> <span class=\"muted\">2 views in 7 days</span>"
        )),
        "{}",
        home.html
    );
}

#[rocket::async_test]
async fn deleting_a_post_removes_it_from_trending() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let post = app.create_post(&ada, "Gone soon", true).await;
    viewed(&app, post, 0, 3);
    assert_eq!(
        app.delete(&format!("/api/posts/{post}"), Some(&ada))
            .await
            .status,
        Status::NoContent
    );
    let reply = app.get("/api/posts/trending", None).await;
    assert!(ids_and_views(&reply.body).is_empty());
    let rows: i64 = post_daily_views::table
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(rows, 0, "the cascade removed its daily rows");
}

/// A batch of view counts adds to each post's total and today's row, twice
/// over for a second batch, and skips posts deleted meanwhile (the batch is
/// a few statements whatever its size, so this checks their grouping).
#[rocket::async_test]
async fn a_batch_of_views_adds_up_and_skips_deleted_posts() {
    let app = spawn_app().await;
    let author = app.create_user("counted").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            app.create_post(&author, &format!("Counted {n}"), true)
                .await,
        );
    }
    let gone = ids.pop().unwrap();
    app.delete(&format!("/api/posts/{gone}"), Some(&author))
        .await;
    let batch: std::collections::HashMap<i32, i32> = ids
        .iter()
        .enumerate()
        .map(|(n, &id)| (id, 1 + n as i32 % 2))
        .chain([(gone, 3), (999_999, 1)])
        .collect();
    let today = post_views::today();
    let mut conn = app.conn();
    post_views::write_batch(&mut conn, &batch, today).unwrap();
    post_views::write_batch(&mut conn, &batch, today).unwrap();
    for &id in &ids {
        let expected = 2 * batch[&id];
        let total: i32 = posts::table
            .find(id)
            .select(posts::views)
            .first(&mut conn)
            .unwrap();
        let daily: i32 = post_daily_views::table
            .filter(post_daily_views::post_id.eq(id))
            .filter(post_daily_views::day.eq(today))
            .select(post_daily_views::views)
            .first(&mut conn)
            .unwrap();
        assert_eq!((total, daily), (expected, expected), "post {id}");
    }
    let rows: i64 = post_daily_views::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(
        rows,
        ids.len() as i64,
        "no rows for deleted or unknown posts"
    );
}

#[rocket::async_test]
async fn counted_views_are_written_by_their_own_task_without_any_request() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let post = app.create_post(&ada, "Counted", true).await;
    // Views counted straight into the app's counter: no page is asked for,
    // so only the background task can write them.
    let counter = app
        .client
        .rocket()
        .state::<post_views::ViewCounter>()
        .expect("the app manages a view counter");
    for _ in 0..3 {
        counter.record(post);
    }
    assert_eq!(views_written(&app, post, 3).await, 3);
    let daily: i32 = post_daily_views::table
        .filter(post_daily_views::post_id.eq(post))
        .select(post_daily_views::views)
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(daily, 3);
    assert_eq!(counter.pending(post), 0, "nothing left to write");
}
