//! Full-text search: `GET /api/posts?q=` and the `/search` page.

use diesel::connection::SimpleConnection;
use rocket::http::Status;
use serde_json::json;

use crate::browser::Browser;
use crate::helpers::{spawn_app, TestApp, TestUser};

async fn post(
    app: &TestApp,
    author: &TestUser,
    title: &str,
    content: &str,
    published: bool,
) -> i32 {
    let reply = app
        .post(
            "/api/posts",
            &json!({"title": title, "content": content, "published": published}),
            Some(author),
        )
        .await;
    assert_eq!(reply.status, Status::Created, "{:?}", reply.body);
    reply.body["id"].as_i64().unwrap() as i32
}

fn ids(body: &serde_json::Value) -> Vec<i64> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_i64().unwrap())
        .collect()
}

#[rocket::async_test]
async fn search_ranks_title_hits_first_and_highlights_the_words() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let in_content = post(
        &app,
        &ada,
        "Notes",
        "The analytical engine weaves patterns.",
        true,
    )
    .await;
    let in_title = post(
        &app,
        &ada,
        "The Analytical Engine",
        "Babbage's design.",
        true,
    )
    .await;
    post(&app, &ada, "Unrelated", "Nothing to see here.", true).await;

    let reply = app.get("/api/posts?q=analytical%20engines", None).await;
    assert_eq!(reply.status, Status::Ok);
    // Every word must match ("engines" finds "engine": stemming); the title
    // hit ranks first.
    assert_eq!(ids(&reply.body), [in_title as i64, in_content as i64]);
    assert_eq!(reply.body["total"], 2);
    let snippet = reply.body["items"][1]["snippet_html"].as_str().unwrap();
    assert!(
        snippet.contains("<mark>analytical</mark> <mark>engine</mark>"),
        "{snippet}"
    );
    // Without q, no snippets.
    let plain = app.get("/api/posts", None).await;
    assert!(plain.body["items"][0].get("snippet_html").is_none());
}

/// The rank is relevance, not age: older posts with more or better hits
/// come before newer ones with fewer, and a long post's single hit counts
/// for less than a short one's.
#[rocket::async_test]
async fn search_ranks_by_hits_whatever_the_age() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let titled = post(&app, &ada, "Lamps", "On light.", true).await;
    let thrice = post(&app, &ada, "Notes", "A lamp, a lamp and a lamp.", true).await;
    let short = post(&app, &ada, "Notes", "One lamp here.", true).await;
    let long_text = format!("One lamp here. {}", "Words about other things. ".repeat(40));
    let long = post(&app, &ada, "Notes", &long_text, true).await;

    let reply = app.get("/api/posts?q=lamp", None).await;
    assert_eq!(reply.status, Status::Ok);
    let order = ids(&reply.body);
    let place = |id: i32| order.iter().position(|&found| found == i64::from(id));
    // (How three hits in a short post compare with one in a shorter post
    // is each backend's own formula; these hold on both.)
    assert_eq!(place(titled), Some(0), "{order:?}");
    assert!(place(thrice) < place(long), "{order:?}");
    assert!(place(short) < place(long), "{order:?}");
    assert_eq!(order.len(), 4);
}

#[rocket::async_test]
async fn search_skips_others_drafts_but_finds_your_own() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let bob = app.create_user("bob").await;
    let draft = post(
        &app,
        &ada,
        "Secret plans",
        "A draft about zeppelins.",
        false,
    )
    .await;
    let public = post(&app, &bob, "Zeppelins", "Airships, published.", true).await;

    let anonymous = app.get("/api/posts?q=zeppelins", None).await;
    assert_eq!(ids(&anonymous.body), [public as i64]);
    assert_eq!(
        ids(&app.get("/api/posts?q=zeppelins", Some(&bob)).await.body),
        [public as i64]
    );
    let mut own = ids(&app.get("/api/posts?q=zeppelins", Some(&ada)).await.body);
    own.sort();
    assert_eq!(own, [draft as i64, public as i64]);
}

#[rocket::async_test]
async fn the_index_follows_edits_deletes_and_changes_made_with_sqlite3() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let id = post(&app, &ada, "Looms", "Punched cards drive the loom.", true).await;
    let found = |q: &'static str| {
        let app = &app;
        async move { ids(&app.get(&format!("/api/posts?q={q}"), None).await.body) }
    };
    assert_eq!(found("punched").await, [id as i64]);

    let reply = app
        .patch(
            &format!("/api/posts/{id}"),
            &json!({"content": "Jacquard's invention."}),
            Some(&ada),
        )
        .await;
    assert_eq!(reply.status, Status::Ok);
    assert!(found("punched").await.is_empty(), "old words gone");
    assert_eq!(found("jacquard").await, [id as i64]);

    app.conn()
        .batch_execute(&format!(
            "UPDATE posts SET title = 'Weaving' WHERE id = {id}"
        ))
        .unwrap();
    assert_eq!(found("weaving").await, [id as i64]);
    assert!(found("looms").await.is_empty());

    app.delete(&format!("/api/posts/{id}"), Some(&ada)).await;
    assert!(found("jacquard").await.is_empty());
}

#[rocket::async_test]
async fn hostile_search_strings_are_plain_words_never_errors() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let id = post(
        &app,
        &ada,
        "Quotes \"and\" stars*",
        "NEAR(this) OR that; content:x",
        true,
    )
    .await;
    let before = app.snapshot();
    let hostile = [
        "",
        "%20%20",
        "%22",
        "%22%22%22",
        "*",
        "stars*",
        "NEAR(",
        "NEAR(this%20that)",
        "(((",
        ")",
        "AND",
        "OR%20NOT",
        "content:x",
        "title:%22",
        "%5E",
        "-",
        "'%3B%20DROP%20TABLE%20posts%3B--",
        "%00",
        "a%00b",
        "zeppelin%00%22",
        "%E2%80%AE",
    ];
    for q in hostile {
        let api = app.get(&format!("/api/posts?q={q}"), None).await;
        assert_eq!(api.status, Status::Ok, "q={q}: {:?}", api.body);
        let page = Browser::new(&app).get(&format!("/search?q={q}")).await;
        assert_eq!(page.status, Status::Ok, "/search?q={q}");
    }
    // Operators are words: "near(this)" finds the post that says it.
    assert_eq!(
        ids(&app.get("/api/posts?q=NEAR(this)", None).await.body),
        [id as i64]
    );
    assert_eq!(
        ids(&app.get("/api/posts?q=%22and%22", None).await.body),
        [id as i64]
    );
    assert_eq!(app.snapshot(), before, "searching changes nothing");
    // A very long query is still an answer, not an error.
    let long = "word%20".repeat(2000);
    assert_eq!(
        app.get(&format!("/api/posts?q={long}"), None).await.status,
        Status::Ok
    );
}

#[rocket::async_test]
async fn search_results_are_paginated_and_the_links_keep_the_query() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    for n in 0..5 {
        post(
            &app,
            &ada,
            &format!("Orrery {n}"),
            "A model of the solar system.",
            true,
        )
        .await;
    }
    let first = app
        .get("/api/posts?q=solar%20system&per_page=2", None)
        .await;
    assert_eq!(first.body["total"], 5);
    assert_eq!(ids(&first.body).len(), 2);
    let next = first.body["next"].as_str().unwrap();
    assert!(next.contains("q=solar%20system"), "{next}");
    let second = app.get(next, None).await;
    assert_eq!(ids(&second.body).len(), 2);
    assert!(ids(&second.body)
        .iter()
        .all(|id| !ids(&first.body).contains(id)));
}

#[rocket::async_test]
async fn the_search_page_shows_highlighted_results_and_keeps_the_query() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    post(
        &app,
        &ada,
        "<script>alert(1)</script> engines",
        "Difference engine <b>two</b>.",
        true,
    )
    .await;
    let mut browser = Browser::new(&app);
    let empty = browser.get("/search").await;
    assert_eq!(empty.status, Status::Ok);
    assert!(empty.html.contains("name=\"q\""));

    let page = browser.get("/search?q=engine").await;
    assert_eq!(page.status, Status::Ok);
    assert!(
        page.html.contains("value=\"engine\""),
        "the query stays in the box"
    );
    assert!(page.html.contains("1 post found"), "{}", page.html);
    // The best column's snippet: here the title, escaped, the hit marked.
    assert!(
        page.html
            .contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt; <mark>engines</mark>")
            || page
                .html
                .contains("&lt;script&gt;alert(1)&lt;/script&gt; <mark>engines</mark>"),
        "{}",
        page.html
    );
    let page = browser.get("/search?q=difference").await;
    assert!(
        page.html.contains("<mark>Difference</mark>"),
        "{}",
        page.html
    );
    assert!(
        !page.html.contains("<script>alert(1)"),
        "titles stay escaped"
    );
    assert!(!page.html.contains("<b>two</b>"), "snippets stay escaped");
    assert!(
        page.html.contains("&lt;b&gt;two&lt;&#x2F;b&gt;")
            || page.html.contains("&lt;b&gt;two&lt;/b&gt;")
    );

    let none = browser.get("/search?q=%22unbalanced").await;
    assert!(none.html.contains("0 posts found"), "{}", none.html);
}
