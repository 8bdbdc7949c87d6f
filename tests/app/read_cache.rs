//! Posts read again and again are served from a cache on SQLite
//! (`db::ReadCache`): every change must show on the very next read,
//! whoever made it: the app, or another connection to the file (the CLI,
//! the `sqlite3` shell). On PostgreSQL nothing is cached; the same
//! assertions hold there.

use diesel::prelude::*;
use portfolio::db::schema::{posts, users};
use rocket::http::Status;
use serde_json::json;

use crate::helpers::{spawn_app, TestApp};

/// The post's page, anonymously, following the 301 from `/posts/<id>` to
/// its readable address. Read twice, so the second read is a kept one.
async fn page(app: &TestApp, id: i32) -> String {
    let moved = app.get(&format!("/posts/{id}"), None).await;
    if moved.status == Status::NotFound {
        return String::new();
    }
    assert_eq!(moved.status, Status::MovedPermanently, "{:?}", moved.body);
    let at = moved.location.expect("a 301 names the address");
    let mut html = String::new();
    for _ in 0..2 {
        let reply = app.get(&at, None).await;
        assert_eq!(reply.status, Status::Ok);
        html = reply.body.as_str().unwrap_or_default().to_owned();
    }
    html
}

/// The post through the API, anonymously, read twice like [`page`].
async fn api(app: &TestApp, id: i32) -> (Status, serde_json::Value) {
    let first = app.get(&format!("/api/posts/{id}"), None).await;
    let again = app.get(&format!("/api/posts/{id}"), None).await;
    assert_eq!(first.status, again.status);
    (again.status, again.body)
}

#[rocket::async_test]
async fn a_post_read_again_shows_each_change_the_app_makes() {
    let app = spawn_app().await;
    let author = app.create_user("cached").await;
    let id = app.create_post(&author, "First title", true).await;
    assert_eq!(api(&app, id).await.1["title"], "First title");
    assert!(page(&app, id).await.contains("First title"));

    let edited = app
        .patch(
            &format!("/api/posts/{id}"),
            &json!({"title": "Second title", "content": "A *new* text.", "tags": ["lamp"]}),
            Some(&author),
        )
        .await;
    assert_eq!(edited.status, Status::Ok, "{:?}", edited.body);
    let (_, body) = api(&app, id).await;
    assert_eq!(body["title"], "Second title");
    assert_eq!(body["content"], "A *new* text.");
    assert_eq!(body["tags"], json!(["lamp"]));
    let html = page(&app, id).await;
    assert!(html.contains("Second title") && html.contains("<em>new</em>"));
    assert!(html.contains("/tags/lamp"));

    // Unpublished: gone for readers at once, still there for its author.
    let hidden = app
        .patch(
            &format!("/api/posts/{id}"),
            &json!({"published": false}),
            Some(&author),
        )
        .await;
    assert_eq!(hidden.status, Status::Ok, "{:?}", hidden.body);
    assert_eq!(api(&app, id).await.0, Status::NotFound);
    let own = app.get(&format!("/api/posts/{id}"), Some(&author)).await;
    assert_eq!(own.status, Status::Ok);
    assert_eq!(own.body["published"], false);

    assert_eq!(
        app.delete(&format!("/api/posts/{id}"), Some(&author))
            .await
            .status,
        Status::NoContent
    );
    assert_eq!(api(&app, id).await.0, Status::NotFound);
    assert_eq!(page(&app, id).await, "");
}

#[rocket::async_test]
async fn a_post_read_again_shows_a_change_made_by_another_connection() {
    let app = spawn_app().await;
    let author = app.create_user("elsewhere").await;
    let id = app.create_post(&author, "Kept title", true).await;
    assert_eq!(api(&app, id).await.1["content"], "About *Kept title*.");
    assert!(page(&app, id).await.contains("<em>Kept title</em>"));

    // As someone with the sqlite3 shell (or another instance) would.
    let mut conn = app.conn();
    diesel::update(posts::table.find(id))
        .set(posts::content.eq("Changed *outside* the app."))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(
        api(&app, id).await.1["content"],
        "Changed *outside* the app."
    );
    assert!(page(&app, id).await.contains("<em>outside</em>"));

    diesel::update(users::table.filter(users::uid.eq("elsewhere")))
        .set(users::name.eq("Renamed Elsewhere"))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(api(&app, id).await.1["author"]["name"], "Renamed Elsewhere");
    assert!(page(&app, id).await.contains("Renamed Elsewhere"));

    diesel::update(posts::table.find(id))
        .set(posts::published.eq(false))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(api(&app, id).await.0, Status::NotFound);
    assert_eq!(page(&app, id).await, "");
}

#[rocket::async_test]
async fn a_kept_page_counts_each_view_and_is_never_shown_to_someone_logged_in() {
    let app = spawn_app().await;
    let author = app.create_user("counted").await;
    let id = app.create_post(&author, "Counted views", true).await;
    let at = app
        .get(&format!("/posts/{id}"), None)
        .await
        .location
        .expect("a 301 names the address");
    for seen in 1..=4 {
        let html = app.get(&at, None).await.body.as_str().unwrap().to_owned();
        let expected = if seen == 1 {
            "1 view<".to_owned()
        } else {
            format!("{seen} views<")
        };
        assert!(html.contains(&expected), "view {seen}: {html}");
        assert!(!html.contains("<!--views-->"));
        assert!(!html.contains("id=\"edit-post\""));
    }
    // Another query is another page: its pager links keep the query.
    let other = app.get(&format!("{at}?page=1"), None).await;
    assert_eq!(other.status, Status::Ok);
    assert!(other.body.as_str().unwrap().contains("5 views<"));

    // The author, logged in, gets their own page: the edit buttons, the
    // log-out form's token, the same count.
    let (status, html) = app.page_html(&at, &author).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("id=\"edit-post\""));
    assert!(html.contains("name=\"csrf_token\""));
    assert!(html.contains("6 views<"));
}
