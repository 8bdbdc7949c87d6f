//! Keyset cursors: following `next` and `prev` walks a listing exactly once
//! each way, on the API and the pages; forged and stale cursors are a 422
//! or simply the page from there, never a 500.

use rocket::http::Status;
use serde_json::Value;

use crate::browser::Browser;
use crate::helpers::{spawn_app, TestApp, TestUser};

/// Follows `next` links from `start` to the end; returns every item's id in
/// order and the last page's body.
async fn walk(app: &TestApp, start: &str, who: Option<&TestUser>) -> (Vec<i64>, Value) {
    let mut ids = Vec::new();
    let mut url = start.to_owned();
    loop {
        let reply = app.get(&url, who).await;
        assert_eq!(reply.status, Status::Ok, "{url}: {:?}", reply.body);
        ids.extend(
            reply.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item["id"].as_i64().unwrap()),
        );
        match reply.body["next"].as_str() {
            Some(next) => url = next.to_owned(),
            None => return (ids, reply.body),
        }
    }
}

/// Follows `prev` links from the page `body` back to the start.
async fn walk_back(app: &TestApp, mut body: Value, who: Option<&TestUser>) -> Vec<i64> {
    let mut ids: Vec<i64> = Vec::new();
    loop {
        let page: Vec<i64> = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["id"].as_i64().unwrap())
            .collect();
        ids.splice(0..0, page);
        let Some(prev) = body["prev"].as_str().map(str::to_owned) else {
            return ids;
        };
        let reply = app.get(&prev, who).await;
        assert_eq!(reply.status, Status::Ok, "{prev}: {:?}", reply.body);
        body = reply.body;
    }
}

#[rocket::async_test]
async fn next_and_prev_cursors_walk_every_post_once_in_order() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let bob = app.create_user("bob").await;
    let mut expected = Vec::new();
    for n in 0..23 {
        let author = if n % 3 == 0 { &bob } else { &ada };
        expected.push(i64::from(
            app.create_post(author, &format!("Post {n}"), n != 5).await,
        ));
    }
    expected.reverse(); // newest first
    let published: Vec<i64> = expected
        .iter()
        .copied()
        .filter(|id| *id != expected[23 - 1 - 5])
        .collect();

    let (ids, last) = walk(&app, "/api/posts?per_page=4", None).await;
    assert_eq!(ids, published, "anonymous: published posts, newest first");
    assert!(last["page"].is_null(), "deep pages are by cursor");
    assert_eq!(walk_back(&app, last, None).await, published);

    // The author also walks their own draft, in its place.
    let (ids, _) = walk(&app, "/api/posts?per_page=5", Some(&ada)).await;
    assert_eq!(ids, expected);

    // One author's posts, through their index.
    let (ids, _) = walk(
        &app,
        &format!("/api/posts?per_page=2&user={}", bob.id),
        None,
    )
    .await;
    let bobs: Vec<i64> = published
        .iter()
        .copied()
        .filter(|id| (id - expected[22]) % 3 == 0)
        .collect();
    assert_eq!(ids, bobs);
}

#[rocket::async_test]
async fn a_cursor_stays_put_while_newer_posts_arrive() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    for n in 0..6 {
        app.create_post(&ada, &format!("Old {n}"), true).await;
    }
    let first = app.get("/api/posts?per_page=3", None).await;
    let next = first.body["next"].as_str().unwrap().to_owned();
    // New posts on top do not shift the next page (as OFFSET would).
    for n in 0..4 {
        app.create_post(&ada, &format!("New {n}"), true).await;
    }
    let second = app.get(&next, None).await;
    let titles: Vec<&str> = second.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Old 2", "Old 1", "Old 0"]);
    assert_eq!(second.body["total"], 10);
}

#[rocket::async_test]
async fn forged_and_stale_cursors_are_422s_or_just_a_page() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(app.create_post(&ada, &format!("Post {n}"), true).await);
    }
    for bad in [
        "after=",
        "after=%00",
        "after=not-a-cursor!",
        "before=bm90IGEgY3Vyc29y",
        "after=MTIzNDU2Nzg5MDEyMzQ1Njc4OTAuMQ",
        "page=2&after=MS4x",
        "after=MS4x&before=MS4x",
    ] {
        for base in ["/api/posts", "/api/users"] {
            let reply = app.get(&format!("{base}?{bad}"), None).await;
            assert_eq!(reply.status, Status::UnprocessableEntity, "{base}?{bad}");
            assert_eq!(reply.body["error"]["status"], 422);
        }
        let page = app.get(&format!("/posts?{bad}"), None).await;
        assert_eq!(page.status, Status::UnprocessableEntity, "/posts?{bad}");
    }
    // Well-formed but made up: any number is a place in the order.
    for key in [
        "-9223372036854775808.0",
        "9223372036854775807.2147483647",
        "0.-5",
    ] {
        let cursor = base64_url(key);
        for base in [
            "/api/posts",
            "/api/users",
            "/api/users?sort=posts&x=1",
            "/posts",
            "/users",
        ] {
            let joiner = if base.contains('?') { '&' } else { '?' };
            for direction in ["after", "before"] {
                let url = format!("{base}{joiner}{direction}={cursor}");
                let reply = app.get(&url, None).await;
                assert_eq!(reply.status, Status::Ok, "{url}: {:?}", reply.body);
            }
        }
    }
    // A cursor whose post is gone still gives the page after its place.
    let first = app.get("/api/posts?per_page=2", None).await;
    let next = first.body["next"].as_str().unwrap().to_owned();
    let last_shown = first.body["items"][1]["id"].as_i64().unwrap();
    assert_eq!(
        app.delete(&format!("/api/posts/{last_shown}"), Some(&ada))
            .await
            .status,
        Status::NoContent
    );
    let after = app.get(&next, None).await;
    let ids_after: Vec<i64> = after.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids_after, [i64::from(ids[1]), i64::from(ids[0])]);
    // And search, ranked, is paged by number only.
    let search = app.get("/api/posts?q=post&after=MS4x", None).await;
    assert_eq!(search.status, Status::UnprocessableEntity);
}

/// The `href` of the pager's link with `rel` (`next`, `prev`), unescaped.
fn link(html: &str, rel: &str) -> Option<String> {
    let marker = format!("rel=\"{rel}\"");
    let at = html.find(&marker)?;
    let tag_start = html[..at].rfind("<a ")?;
    let href = html[tag_start..at]
        .split("href=\"")
        .nth(1)?
        .split('"')
        .next()?;
    Some(
        href.replace("&amp;", "&")
            .replace("&#x2F;", "/")
            .replace("&#x3D;", "="),
    )
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[rocket::async_test]
async fn people_are_listed_by_post_count_through_cursors() {
    let app = spawn_app().await;
    let mut people = Vec::new();
    for (n, posts) in [2, 0, 5, 2, 1, 3].into_iter().enumerate() {
        let user = app.create_user(&format!("writer{n}")).await;
        for p in 0..posts {
            app.create_post(&user, &format!("Post {p}"), true).await;
        }
        // A draft is not a post to count.
        app.create_post(&user, "Draft", false).await;
        people.push((user.id, posts));
    }
    let mut expected = people.clone();
    expected.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let (ids, last) = walk(&app, "/api/users?sort=posts&per_page=2", None).await;
    let expected_ids: Vec<i64> = expected.iter().map(|(id, _)| i64::from(*id)).collect();
    assert_eq!(ids, expected_ids);
    assert_eq!(walk_back(&app, last, None).await, expected_ids);
    let first = app.get("/api/users?sort=posts&per_page=1", None).await;
    assert_eq!(first.body["items"][0]["post_count"], 5);
    assert_eq!(first.body["total"], 6);
    let (oldest, _) = walk(&app, "/api/users?per_page=4", None).await;
    let mut by_age: Vec<i64> = people.iter().map(|(id, _)| i64::from(*id)).collect();
    by_age.sort();
    assert_eq!(oldest, by_age);
    let bad = app.get("/api/users?sort=name", None).await;
    assert_eq!(bad.status, Status::UnprocessableEntity);
    assert!(bad.field_error("sort").is_some());
}

#[rocket::async_test]
async fn the_pages_pager_goes_by_number_then_by_cursor() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    for n in 0..12 {
        app.create_post(&ada, &format!("Paged {n}"), true).await;
    }
    let mut browser = Browser::new(&app);
    // The profile shows 10 a page; "Older" is a cursor link, and "Newer"
    // from there leads back to the first ten.
    let profile = browser.get(&format!("/users/{}", ada.id)).await;
    assert_eq!(profile.status, Status::Ok);
    let next = link(&profile.html, "next").expect("an Older link");
    assert!(
        next.starts_with(&format!("/users/{}?after=", ada.id)),
        "{next}"
    );
    let second = browser.get(&next).await;
    assert!(second.html.contains("Paged 0") && !second.html.contains("Paged 11"));
    assert!(link(&second.html, "next").is_none());
    let back = browser
        .get(&link(&second.html, "prev").expect("a Newer link"))
        .await;
    assert!(back.html.contains("Paged 11") && !back.html.contains("Paged 0"));
    // Numbered pages work as far as they are cheap.
    let numbered = browser.get(&format!("/users/{}?page=2", ada.id)).await;
    assert!(numbered.html.contains("Paged 0") && numbered.html.contains("Page 2 of 2"));
    // Past the cheap depth, the link is a cursor that works.
    let deep = browser.get("/posts?page=51").await;
    assert_eq!(deep.status, Status::Ok);
    let far = browser.get("/posts?page=52").await;
    assert_eq!(far.status, Status::UnprocessableEntity);
    let list = browser.get("/posts").await;
    assert!(list.html.contains("Paged 11"));
    assert!(
        !list.html.contains("rel=\"next\""),
        "12 posts fit one page of 20"
    );
}
