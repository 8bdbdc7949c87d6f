//! The publishing platform's reading side: tags (API, pages, counts),
//! readable post addresses and scheduled posts.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use portfolio::db::schema::{posts, tags};
use rocket::http::Status;
use serde_json::{json, Value};

use crate::browser::Browser;
use crate::helpers::{spawn_app, TestApp, TestUser};

async fn write(app: &TestApp, author: &TestUser, body: Value) -> Value {
    let reply = app.post("/api/posts", &body, Some(author)).await;
    assert_eq!(reply.status, Status::Created, "{:?}", reply.body);
    reply.body
}

fn titles(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|post| post["title"].as_str().unwrap().to_owned())
        .collect()
}

fn kept_count(app: &TestApp, name: &str) -> Option<i32> {
    tags::table
        .filter(tags::name.eq(name))
        .select(tags::posts)
        .first(&mut app.conn())
        .optional()
        .unwrap()
}

#[rocket::async_test]
async fn tags_are_set_listed_and_counted_with_the_data() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let first = write(
        &app,
        &ada,
        json!({"title": "Engines", "content": "x", "tags": ["Rust", "#engines", "rust"]}),
    )
    .await;
    assert_eq!(
        first["tags"],
        json!(["engines", "rust"]),
        "lower-cased, repeats dropped"
    );
    let id = first["id"].as_i64().unwrap();
    write(
        &app,
        &ada,
        json!({"title": "Notes", "content": "x", "tags": ["rust"]}),
    )
    .await;
    write(
        &app,
        &ada,
        json!({"title": "Hidden", "content": "x", "tags": ["rust"], "published": false}),
    )
    .await;

    let listed = app.get("/api/posts?tag=rust", None).await;
    assert_eq!(listed.status, Status::Ok);
    assert_eq!(
        titles(&listed.body),
        ["Notes", "Engines"],
        "newest first, no drafts"
    );
    assert_eq!(listed.body["total"], 2);
    // The author's own draft is not listed under a tag either: tag lists
    // are the public ones.
    let own = app.get("/api/posts?tag=rust", Some(&ada)).await;
    assert_eq!(titles(&own.body), ["Notes", "Engines"]);
    assert_eq!(kept_count(&app, "rust"), Some(2));

    // Retagging moves the post between tags; unpublishing takes it out.
    let patched = app
        .patch(
            &format!("/api/posts/{id}"),
            &json!({"tags": ["history"]}),
            Some(&ada),
        )
        .await;
    assert_eq!(patched.body["tags"], json!(["history"]));
    assert_eq!(kept_count(&app, "rust"), Some(1));
    assert_eq!(kept_count(&app, "engines"), Some(0));
    assert_eq!(kept_count(&app, "history"), Some(1));
    app.patch(
        &format!("/api/posts/{id}"),
        &json!({"published": false}),
        Some(&ada),
    )
    .await;
    assert_eq!(kept_count(&app, "history"), Some(0));
    let none = app.get("/api/posts?tag=history", None).await;
    assert_eq!(
        (none.status, none.body["total"].clone()),
        (Status::Ok, json!(0))
    );
    let unknown = app.get("/api/posts?tag=never-used", None).await;
    assert_eq!(unknown.status, Status::Ok);
    assert_eq!(titles(&unknown.body), Vec::<String>::new());

    // Deleting a post (and so its tag links) keeps the count right.
    let notes = listed.body["items"][0]["id"].as_i64().unwrap();
    app.delete(&format!("/api/posts/{notes}"), Some(&ada)).await;
    assert_eq!(kept_count(&app, "rust"), Some(0));
}

#[rocket::async_test]
async fn bad_tags_are_refused_with_the_field_named() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let eleven: Vec<String> = (0..11).map(|n| format!("t{n}")).collect();
    for (tags, expected) in [
        (json!(["two words"]), "may only contain"),
        (json!(["café"]), "may only contain"),
        (json!([""]), "1 to 32"),
        (json!(["a".repeat(33)]), "1 to 32"),
        (json!(eleven), "10 at most"),
    ] {
        let reply = app
            .post(
                "/api/posts",
                &json!({"title": "T", "content": "x", "tags": tags}),
                Some(&ada),
            )
            .await;
        assert_eq!(reply.status, Status::UnprocessableEntity, "{tags}");
        let message = reply.field_error("tags").unwrap_or_default();
        assert!(message.contains(expected), "{tags}: {message}");
    }
    let not_a_list = app
        .post(
            "/api/posts",
            &json!({"title": "T", "content": "x", "tags": "rust"}),
            Some(&ada),
        )
        .await;
    assert_eq!(not_a_list.status, Status::UnprocessableEntity);
    let bad_filter = app.get("/api/posts?tag=no%20spaces", None).await;
    assert_eq!(bad_filter.status, Status::UnprocessableEntity);
    assert!(bad_filter.field_error("tag").is_some());
    let mixed = app.get("/api/posts?tag=rust&user=1", None).await;
    assert_eq!(mixed.status, Status::UnprocessableEntity);
    assert_eq!(app.count_posts(), 0, "nothing was written");
}

#[rocket::async_test]
async fn tag_pages_go_as_deep_as_the_tag_and_unused_tags_are_404() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    for n in 0..25 {
        write(
            &app,
            &ada,
            json!({"title": format!("Walk {n}"), "content": "x", "tags": ["walks"]}),
        )
        .await;
    }
    write(
        &app,
        &ada,
        json!({"title": "Other", "content": "x", "tags": ["other"]}),
    )
    .await;
    let mut browser = Browser::new(&app);
    let first = browser.get("/tags/walks").await;
    assert_eq!(first.status, Status::Ok);
    assert!(first.html.contains("#walks"));
    assert!(first.html.contains("25 posts tagged walks"));
    assert!(first.html.contains("Walk 24") && !first.html.contains(">Other<"));
    // The next page is there, and so is the one after a cursor (WriteFreely
    // #615: hashtag pages that 404 past the first).
    let second = browser.get("/tags/walks?page=2").await;
    assert_eq!(second.status, Status::Ok);
    assert!(second.html.contains("Walk 0"));
    let next = first
        .html
        .split("href=\"")
        .filter_map(|rest| rest.split('"').next())
        .map(|href| href.replace("&#x2F;", "/").replace("&amp;", "&"))
        .find(|href| href.starts_with("/tags/walks?"))
        .expect("a link to the next page");
    assert_eq!(browser.get(&next).await.status, Status::Ok);

    for missing in ["/tags/never-used", "/tags/Not%20A%20Tag"] {
        let page = browser.get(missing).await;
        assert_eq!(page.status, Status::NotFound, "{missing}");
        assert!(
            page.html.contains("<html"),
            "{missing}: a page, not a bare error"
        );
    }

    let home = browser.get("/").await;
    assert!(home.html.contains("Popular tags"));
    let popular = &home.html[home.html.find("Popular tags").unwrap()..];
    let walks = popular.find("href=\"/tags/walks\"").unwrap();
    let other = popular.find("href=\"/tags/other\"").unwrap();
    assert!(walks < other, "the most used tag first");
}

#[rocket::async_test]
async fn the_post_form_sets_tags_and_shows_them() {
    let app = spawn_app().await;
    app.create_user("ada").await;
    let mut browser = Browser::new(&app);
    browser.log_in("ada", crate::helpers::PASSWORD).await;
    let created = browser
        .submit(
            "/posts/new",
            "/posts/new",
            &[
                ("title", "Tagged"),
                ("content", "Body"),
                ("tags", "rust, web  notes"),
                ("published", "true"),
            ],
        )
        .await;
    assert_eq!(created.status, Status::SeeOther);
    let page = browser.follow(&created).await;
    for tag in ["rust", "web", "notes"] {
        assert!(
            page.html.contains(&format!("href=\"/tags/{tag}\"")),
            "{tag}"
        );
    }
    let refused = browser
        .submit(
            "/posts/new",
            "/posts/new",
            &[
                ("title", "Bad"),
                ("content", "Body"),
                ("tags", "no_underscores"),
            ],
        )
        .await;
    assert_eq!(refused.status, Status::UnprocessableEntity);
    assert!(refused.html.contains("Tags may only contain"));
    assert!(
        refused.html.contains("value=\"no_underscores\""),
        "the input is kept"
    );
}

#[rocket::async_test]
async fn a_post_lives_at_a_readable_address_and_old_ones_redirect() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let post = write(
        &app,
        &ada,
        json!({"title": "Café à Paris: Notes!", "content": "x"}),
    )
    .await;
    let id = post["id"].as_i64().unwrap();
    let mut browser = Browser::new(&app);
    let current = format!("/posts/{id}-cafe-a-paris-notes");
    assert_eq!(browser.get(&current).await.status, Status::Ok);
    for old in [format!("/posts/{id}"), format!("/posts/{id}-cafe")] {
        let moved = browser.get(&old).await;
        assert_eq!(moved.status, Status::MovedPermanently, "{old}");
        assert_eq!(moved.location.as_deref(), Some(current.as_str()), "{old}");
    }
    // The query goes along.
    let moved = browser.get(&format!("/posts/{id}?page=2")).await;
    assert_eq!(moved.location, Some(format!("{current}?page=2")));

    // A new title moves the page; links to the old one still arrive.
    app.patch(
        &format!("/api/posts/{id}"),
        &json!({"title": "Lyon"}),
        Some(&ada),
    )
    .await;
    let moved = browser.get(&current).await;
    assert_eq!(moved.status, Status::MovedPermanently);
    assert_eq!(moved.location, Some(format!("/posts/{id}-lyon")));

    // Browsers keep the redirect an hour, not for ever: the title may
    // change back.
    let moved = app.client.get(format!("/posts/{id}")).dispatch().await;
    assert_eq!(
        moved.headers().get_one("Cache-Control"),
        Some("max-age=3600")
    );

    // Not addresses; and a draft's title is not given away by a redirect.
    for path in ["/posts/abc", "/posts/-5", "/posts/+5", "/posts/5x-title"] {
        let page = browser.get(path).await;
        assert!(
            page.status.code == 404 || page.status.code == 422,
            "{path}: {}",
            page.status
        );
        assert!(page.location.is_none(), "{path}");
    }
    let draft = app.create_post(&ada, "Secret plans", false).await;
    let stranger = browser.get(&format!("/posts/{draft}")).await;
    assert_eq!(stranger.status, Status::NotFound);
    assert!(stranger.location.is_none());
    // The API keeps ids.
    assert_eq!(
        app.get(&format!("/api/posts/{id}"), None).await.status,
        Status::Ok
    );
}

/// Waits (up to 10 s) for `check` to hold; the scheduler looks once a second.
async fn eventually(mut check: impl AsyncFnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if check().await {
            return true;
        }
        rocket::tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[rocket::async_test]
async fn a_scheduled_post_appears_at_its_time_without_anything_else_happening() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let at = chrono::Utc::now() + chrono::TimeDelta::seconds(2);
    let post = write(
        &app,
        &ada,
        json!({"title": "Later", "content": "x", "tags": ["soon"], "publish_at": at.to_rfc3339()}),
    )
    .await;
    let id = post["id"].as_i64().unwrap();
    assert_eq!(post["published"], false);
    let stored: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(post["publish_at"].clone()).unwrap();
    assert!(
        (stored - at).num_milliseconds().abs() < 1,
        "{stored} against {at}"
    );

    // Until then: a draft for everyone but its author.
    assert_eq!(
        app.get(&format!("/api/posts/{id}"), None).await.status,
        Status::NotFound
    );
    assert_eq!(app.get("/api/posts", None).await.body["total"], 0);
    assert_eq!(kept_count(&app, "soon"), Some(0));

    let appeared =
        eventually(async || app.get(&format!("/api/posts/{id}"), None).await.status == Status::Ok)
            .await;
    assert!(appeared, "published by the scheduler");
    assert!(chrono::Utc::now() >= at, "not before its time");
    let listed = app.get("/api/posts?tag=soon", None).await;
    assert_eq!(titles(&listed.body), ["Later"]);
    assert_eq!(app.get("/api/posts", None).await.body["total"], 1);
    // It arrives at the top of the lists when it appears, and keeps the
    // time it was published as of.
    let (updated, publish_at): (chrono::NaiveDateTime, Option<chrono::NaiveDateTime>) =
        posts::table
            .find(id as i32)
            .select((posts::updated_at, posts::publish_at))
            .first(&mut app.conn())
            .unwrap();
    assert_eq!(publish_at, Some(stored.naive_utc()));
    assert!(Some(updated) >= publish_at);
}

#[rocket::async_test]
async fn publication_fields_that_contradict_each_other_are_refused() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let past = (chrono::Utc::now() - chrono::TimeDelta::days(1)).to_rfc3339();
    let future = (chrono::Utc::now() + chrono::TimeDelta::days(1)).to_rfc3339();
    for body in [
        json!({"title": "T", "content": "x", "published": false, "publish_at": past}),
        json!({"title": "T", "content": "x", "published": true, "publish_at": future}),
        json!({"title": "T", "content": "x", "publish_at": "tomorrow"}),
        // Years that do not sort as times in SQLite's text (a sign, a fifth
        // digit), or that PostgreSQL cannot store.
        json!({"title": "T", "content": "x", "publish_at": "+10000-01-01T00:00:00Z"}),
        json!({"title": "T", "content": "x", "publish_at": "-5000-01-01T00:00:00Z"}),
        json!({"title": "T", "content": "x", "publish_at": "1899-12-31T23:59:59Z"}),
    ] {
        let reply = app.post("/api/posts", &body, Some(&ada)).await;
        assert_eq!(reply.status, Status::UnprocessableEntity, "{body}");
    }
    assert_eq!(app.count_posts(), 0);

    // A past time publishes as of then; `published` on a scheduled post
    // publishes it now; `false` makes a draft again.
    let backdated = write(
        &app,
        &ada,
        json!({"title": "Old", "content": "x", "publish_at": past}),
    )
    .await;
    assert_eq!(backdated["published"], true);
    let scheduled = write(
        &app,
        &ada,
        json!({"title": "New", "content": "x", "publish_at": future}),
    )
    .await;
    let id = scheduled["id"].as_i64().unwrap();
    let now = app
        .patch(
            &format!("/api/posts/{id}"),
            &json!({"published": true}),
            Some(&ada),
        )
        .await;
    assert_eq!(now.body["published"], true);
    let publish_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(now.body["publish_at"].clone()).unwrap();
    assert!(publish_at <= chrono::Utc::now());
    let draft = app
        .patch(
            &format!("/api/posts/{id}"),
            &json!({"published": false}),
            Some(&ada),
        )
        .await;
    assert_eq!(
        (
            draft.body["published"].clone(),
            draft.body["publish_at"].clone()
        ),
        (json!(false), Value::Null)
    );
}

#[rocket::async_test]
async fn the_form_takes_the_writers_local_time_and_stores_utc() {
    let app = spawn_app().await;
    app.create_user("ada").await;
    let mut browser = Browser::new(&app);
    browser.log_in("ada", crate::helpers::PASSWORD).await;
    // 10:30 at UTC+01:00 is 09:30 UTC.
    let created = browser
        .submit(
            "/posts/new",
            "/posts/new",
            &[
                ("title", "New year"),
                ("content", "Body"),
                ("published", "true"),
                ("publish_at", "2031-01-01T10:30"),
                ("utc_offset", "60"),
            ],
        )
        .await;
    assert_eq!(created.status, Status::SeeOther);
    let page = browser.follow(&created).await;
    assert!(
        page.html
            .contains("Post scheduled for 2031-01-01 09:30 UTC."),
        "{}",
        page.html
    );
    assert!(page.html.contains("Scheduled for 2031-01-01 09:30 UTC"));
    let stored: Option<chrono::NaiveDateTime> = posts::table
        .select(posts::publish_at)
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(
        stored.map(|at| at.to_string()),
        Some("2031-01-01 09:30:00".to_owned())
    );
    // The edit form gives the time back (in UTC, for the page's script to
    // show in local time).
    let id = created
        .location
        .unwrap()
        .trim_start_matches("/posts/")
        .split('-')
        .next()
        .unwrap()
        .to_owned();
    let edit = browser.get(&format!("/posts/{id}/edit")).await;
    assert!(edit.html.contains("data-utc-value=\"2031-01-01T09:30\""));

    let bad = browser
        .submit(
            "/posts/new",
            "/posts/new",
            &[
                ("title", "Bad"),
                ("content", "Body"),
                ("publish_at", "soon"),
            ],
        )
        .await;
    assert_eq!(bad.status, Status::UnprocessableEntity);
    assert!(bad.html.contains("Publish at: must be a date and time"));
}

#[rocket::async_test]
async fn the_demo_posts_are_tagged_so_the_home_page_shows_popular_tags() {
    let app = crate::helpers::spawn_app_with(true).await;
    assert_eq!(kept_count(&app, "electricity"), Some(4));
    let home = Browser::new(&app).get("/").await;
    let popular = &home.html[home.html.find("Popular tags").unwrap()..];
    assert!(popular.starts_with("Popular tags</h2>"));
    assert!(
        popular.find("#electricity") < popular.find("#radio"),
        "most used first"
    );
    let tag = Browser::new(&app).get("/tags/electricity").await;
    assert!(tag.html.contains("4 posts tagged electricity"));
}

#[rocket::async_test]
async fn saving_a_post_rewrites_only_the_tags_that_changed() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let post = write(
        &app,
        &ada,
        json!({"title": "T", "content": "x", "tags": ["a", "b"]}),
    )
    .await;
    let id = post["id"].as_i64().unwrap();
    let ids = |app: &TestApp| -> Vec<(String, i32)> {
        tags::table
            .select((tags::name, tags::id))
            .order(tags::name)
            .load(&mut app.conn())
            .unwrap()
    };
    let before = ids(&app);
    for _ in 0..3 {
        app.patch(
            &format!("/api/posts/{id}"),
            &json!({"tags": ["b", "a"]}),
            Some(&ada),
        )
        .await;
    }
    let c = app
        .patch(
            &format!("/api/posts/{id}"),
            &json!({"tags": ["b", "c"]}),
            Some(&ada),
        )
        .await;
    assert_eq!(c.body["tags"], json!(["b", "c"]));
    let after = ids(&app);
    assert_eq!(&after[..2], &before[..], "a and b kept their ids");
    // The new tag's id follows the last one made: saves used up none.
    assert_eq!(after[2], ("c".to_owned(), before[1].1 + 1));
    assert_eq!(kept_count(&app, "a"), Some(0));
    assert_eq!(kept_count(&app, "b"), Some(1));
}

#[rocket::async_test]
async fn a_suspended_authors_post_cannot_be_published_until_the_suspension_is_lifted() {
    let app = spawn_app().await;
    let admin = app.create_admin("root").await;
    let ada = app.create_user("ada").await;
    let id = app.create_post(&ada, "Held", true).await;
    app.post(
        &format!("/api/users/{}/suspension", ada.id),
        &json!({"reason": "a test"}),
        Some(&admin),
    )
    .await;
    let refused = app
        .patch(
            &format!("/api/posts/{id}"),
            &json!({"published": true}),
            Some(&admin),
        )
        .await;
    assert_eq!(refused.status, Status::Conflict);
    assert!(refused.error_message().contains("suspended"));
    // Other edits go through, and the post stays hidden.
    let retitled = app
        .patch(
            &format!("/api/posts/{id}"),
            &json!({"title": "Held, retitled"}),
            Some(&admin),
        )
        .await;
    assert_eq!(retitled.status, Status::Ok);
    assert_eq!(
        app.get(&format!("/api/posts/{id}"), None).await.status,
        Status::NotFound
    );
    app.delete(&format!("/api/users/{}/suspension", ada.id), Some(&admin))
        .await;
    assert_eq!(
        app.get(&format!("/api/posts/{id}"), None).await.status,
        Status::Ok
    );
}
