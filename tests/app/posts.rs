//! Posts: writing, listing, reading, changing, deleting; drafts.

use rocket::http::Status;
use serde_json::json;

use crate::helpers::spawn_app;

#[rocket::async_test]
async fn creating_a_post_answers_201_with_its_location_and_author() {
    let app = spawn_app().await;
    let author = app.create_user("writer").await;
    let reply = app
        .post(
            "/api/posts",
            &json!({"title": "  Hello  ", "content": "# Hi\n\nSome *Markdown*."}),
            Some(&author),
        )
        .await;
    assert_eq!(reply.status, Status::Created, "{:?}", reply.body);
    let id = reply.body["id"].as_i64().unwrap();
    assert_eq!(
        reply.location.as_deref(),
        Some(format!("/api/posts/{id}").as_str())
    );
    assert_eq!(reply.body["title"], "Hello");
    assert_eq!(reply.body["content"], "# Hi\n\nSome *Markdown*.");
    assert_eq!(reply.body["published"], true);
    assert_eq!(reply.body["views"], 0);
    assert_eq!(reply.body["author"]["uid"], "writer");
    assert!(reply.body["created_at"].as_str().unwrap().ends_with('Z'));

    let fetched = app.get(&format!("/api/posts/{id}"), None).await;
    assert_eq!(fetched.status, Status::Ok);
    assert_eq!(fetched.body["title"], "Hello");
}

#[rocket::async_test]
async fn creating_a_post_needs_a_login() {
    let app = spawn_app().await;
    let reply = app
        .post("/api/posts", &json!({"title": "t", "content": "c"}), None)
        .await;
    assert_eq!(reply.status, Status::Unauthorized);
    assert_eq!(reply.body["error"]["status"], 401);
    assert_eq!(app.count_posts(), 0);
}

#[rocket::async_test]
async fn invalid_posts_name_each_bad_field() {
    let app = spawn_app().await;
    let author = app.create_user("writer").await;
    let reply = app
        .post(
            "/api/posts",
            &json!({"title": "x".repeat(201), "content": "   "}),
            Some(&author),
        )
        .await;
    assert_eq!(reply.status, Status::UnprocessableEntity);
    assert!(reply.field_error("title").is_some());
    assert!(reply.field_error("content").is_some());
    assert_eq!(app.count_posts(), 0);
}

#[rocket::async_test]
async fn posts_are_listed_newest_first_with_pagination_links() {
    let app = spawn_app().await;
    let author = app.create_user("writer").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(app.create_post(&author, &format!("post {n}"), true).await);
    }
    let page1 = app.get("/api/posts?per_page=2", None).await;
    assert_eq!(page1.status, Status::Ok);
    assert_eq!(page1.body["total"], 5);
    assert_eq!(page1.body["page"], 1);
    assert_eq!(page1.body["per_page"], 2);
    let titles: Vec<&str> = page1.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["post 4", "post 3"]);
    // `next` is a cursor (it stays put when newer posts arrive).
    let next = page1.body["next"].as_str().unwrap();
    assert!(
        next.starts_with("/api/posts?after=") && next.ends_with("&per_page=2"),
        "{next}"
    );
    let page2 = app.get(next, None).await;
    assert_eq!(page2.body["items"][0]["title"], "post 2");
    assert!(page2.body["page"].is_null());

    let page3 = app.get("/api/posts?page=3&per_page=2", None).await;
    assert_eq!(page3.body["items"][0]["title"], "post 0");
    assert!(page3.body["next"].is_null());
    assert_eq!(page3.body["prev"], "/api/posts?page=2&per_page=2");
}

#[rocket::async_test]
async fn an_edited_post_moves_to_the_top() {
    let app = spawn_app().await;
    let author = app.create_user("writer").await;
    let old = app.create_post(&author, "old", true).await;
    app.create_post(&author, "new", true).await;
    app.patch(
        &format!("/api/posts/{old}"),
        &json!({"title": "old, revised"}),
        Some(&author),
    )
    .await;
    let list = app.get("/api/posts", None).await;
    assert_eq!(list.body["items"][0]["title"], "old, revised");
}

#[rocket::async_test]
async fn the_user_filter_keeps_one_authors_posts_and_its_links_keep_it() {
    let app = spawn_app().await;
    let a = app.create_user("alice").await;
    let b = app.create_user("bobby").await;
    for n in 0..3 {
        app.create_post(&a, &format!("a{n}"), true).await;
    }
    app.create_post(&b, "b0", true).await;
    let reply = app
        .get(&format!("/api/posts?user={}&per_page=2", a.id), None)
        .await;
    assert_eq!(reply.body["total"], 3);
    assert!(reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["author"]["uid"] == "alice"));
    let next = reply.body["next"].as_str().unwrap();
    assert!(
        next.starts_with("/api/posts?after=")
            && next.ends_with(&format!("&per_page=2&user={}", a.id)),
        "{next}"
    );
}

#[rocket::async_test]
async fn drafts_are_seen_only_by_their_author_and_admins() {
    let app = spawn_app().await;
    let author = app.create_user("author").await;
    let other = app.create_user("other").await;
    let admin = app.create_admin("boss").await;
    let draft = app.create_post(&author, "secret draft", false).await;
    app.create_post(&author, "public", true).await;

    let path = format!("/api/posts/{draft}");
    assert_eq!(app.get(&path, None).await.status, Status::NotFound);
    assert_eq!(app.get(&path, Some(&other)).await.status, Status::NotFound);
    assert_eq!(app.get(&path, Some(&author)).await.status, Status::Ok);
    assert_eq!(app.get(&path, Some(&admin)).await.status, Status::Ok);

    assert_eq!(app.get("/api/posts", None).await.body["total"], 1);
    assert_eq!(app.get("/api/posts", Some(&other)).await.body["total"], 1);
    let own = app.get("/api/posts", Some(&author)).await;
    assert_eq!(own.body["total"], 2, "the author lists their own draft");
}

#[rocket::async_test]
async fn the_author_edits_and_deletes_their_post() {
    let app = spawn_app().await;
    let author = app.create_user("author").await;
    let id = app.create_post(&author, "first", true).await;
    let path = format!("/api/posts/{id}");

    let edited = app
        .patch(
            &path,
            &json!({"content": "changed", "published": false}),
            Some(&author),
        )
        .await;
    assert_eq!(edited.status, Status::Ok, "{:?}", edited.body);
    assert_eq!(edited.body["title"], "first");
    assert_eq!(edited.body["content"], "changed");
    assert_eq!(edited.body["published"], false);
    assert_ne!(edited.body["updated_at"], edited.body["created_at"]);

    assert_eq!(
        app.delete(&path, Some(&author)).await.status,
        Status::NoContent
    );
    assert_eq!(app.get(&path, Some(&author)).await.status, Status::NotFound);
    assert_eq!(app.count_posts(), 0);
}

#[rocket::async_test]
async fn concurrent_writers_all_succeed() {
    let app = spawn_app().await;
    let author = app.create_user("busy").await;
    let requests = (0..40).map(|n| {
        let body = json!({"title": format!("post {n}"), "content": "c"});
        let app = &app;
        let author = &author;
        async move { app.post("/api/posts", &body, Some(author)).await.status }
    });
    let statuses = futures::future::join_all(requests).await;
    assert!(
        statuses.iter().all(|s| *s == Status::Created),
        "{statuses:?}"
    );
    assert_eq!(app.count_posts(), 40);
}

#[rocket::async_test]
async fn the_listed_total_stays_true_however_posts_change() {
    use diesel::connection::SimpleConnection;
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let bob = app.create_user("bob").await;
    let mut ada_posts = Vec::new();
    for (n, published) in [true, true, true, false, false].into_iter().enumerate() {
        ada_posts.push(app.create_post(&ada, &format!("Ada {n}"), published).await);
    }
    app.create_post(&bob, "Bob's", true).await;
    app.create_post(&bob, "Bob's draft", false).await;

    // The total each viewer is told: anonymous, Ada, Bob.
    let (app, ada, bob) = (&app, &ada, &bob);
    let check = |expected: [i64; 3]| async move {
        let seen = [
            app.get("/api/posts", None).await.body["total"].as_i64(),
            app.get("/api/posts", Some(ada)).await.body["total"].as_i64(),
            app.get("/api/posts", Some(bob)).await.body["total"].as_i64(),
        ];
        assert_eq!(seen, expected.map(Some));
    };
    check([4, 6, 5]).await;

    // Changes made through the API...
    let reply = app
        .patch(
            &format!("/api/posts/{}", ada_posts[3]),
            &json!({"published": true}),
            Some(ada),
        )
        .await;
    assert_eq!(reply.status, Status::Ok, "{:?}", reply.body);
    check([5, 6, 6]).await;
    assert_eq!(
        app.delete(&format!("/api/posts/{}", ada_posts[0]), Some(ada))
            .await
            .status,
        Status::NoContent
    );
    check([4, 5, 5]).await;

    // ... with sqlite3 behind the app's back ...
    app.conn()
        .batch_execute(&format!(
            "UPDATE posts SET published = FALSE WHERE id = {id};
             DELETE FROM posts WHERE id = {draft};",
            id = ada_posts[1],
            draft = ada_posts[4]
        ))
        .unwrap();
    check([3, 4, 4]).await;

    // ... and by the cascade when an account goes.
    assert_eq!(
        app.delete(&format!("/api/users/{}", bob.id), Some(bob))
            .await
            .status,
        Status::NoContent
    );
    assert_eq!(app.get("/api/posts", None).await.body["total"], 2);
    assert_eq!(app.get("/api/posts", Some(ada)).await.body["total"], 3);
}
