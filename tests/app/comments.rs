//! Comments: the rules (who may comment, edit, delete), paging, kept
//! counts, suspension, the throttle, and the pages.

use diesel::prelude::*;
use portfolio::db::schema::{comments, posts};
use rocket::http::Status;
use serde_json::{json, Value};

use crate::browser::Browser;
use crate::helpers::{spawn_app, TestApp, TestUser, PASSWORD};

async fn comment(app: &TestApp, who: &TestUser, post: i32, body: &str) -> Value {
    let reply = app
        .post(
            &format!("/api/posts/{post}/comments"),
            &json!({ "body": body }),
            Some(who),
        )
        .await;
    assert_eq!(reply.status, Status::Created, "{:?}", reply.body);
    reply.body
}

/// The post's kept comment count.
fn kept(app: &TestApp, post: i32) -> i32 {
    posts::table
        .find(post)
        .select(posts::comments)
        .first(&mut app.conn())
        .unwrap()
}

fn bodies(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap().to_owned())
        .collect()
}

#[rocket::async_test]
async fn comments_are_listed_oldest_first_a_page_at_a_time() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let bob = app.create_user("bob").await;
    let post = app.create_post(&ada, "Engines", true).await;
    for n in 1..=5 {
        comment(&app, &bob, post, &format!("Comment {n}")).await;
    }
    let first = app
        .get(&format!("/api/posts/{post}/comments?per_page=2"), None)
        .await;
    assert_eq!(first.status, Status::Ok);
    assert_eq!(bodies(&first.body), ["Comment 1", "Comment 2"]);
    assert_eq!(first.body["total"], 5);
    assert_eq!(first.body["items"][0]["author"]["uid"], "bob");
    let second = app.get(first.body["next"].as_str().unwrap(), None).await;
    assert_eq!(bodies(&second.body), ["Comment 3", "Comment 4"]);
    let third = app.get(second.body["next"].as_str().unwrap(), None).await;
    assert_eq!(bodies(&third.body), ["Comment 5"]);
    assert_eq!(third.body["next"], Value::Null);
    let back = app.get(third.body["prev"].as_str().unwrap(), None).await;
    assert_eq!(bodies(&back.body), ["Comment 3", "Comment 4"]);
    let numbered = app
        .get(
            &format!("/api/posts/{post}/comments?page=3&per_page=2"),
            None,
        )
        .await;
    assert_eq!(bodies(&numbered.body), ["Comment 5"]);
    assert_eq!(kept(&app, post), 5);
    // The post says how many.
    let shown = app.get(&format!("/api/posts/{post}"), None).await;
    assert_eq!(shown.body["comments"], 5);
}

#[rocket::async_test]
async fn a_comment_renders_markdown_without_images_or_script() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let post = app.create_post(&ada, "Engines", true).await;
    let made = comment(
        &app,
        &ada,
        post,
        "**Yes** ![cat](https://example.org/cat.png) <img src=x onerror=alert(1)> <script>alert(2)</script>",
    )
    .await;
    let html = made["body_html"].as_str().unwrap();
    assert!(html.contains("<strong>Yes</strong>"), "{html}");
    for banned in ["<img", "<script", "onerror"] {
        assert!(!html.contains(banned), "{banned} in {html}");
    }
}

#[rocket::async_test]
async fn bad_comments_are_refused_with_the_field_named_and_nothing_written() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let post = app.create_post(&ada, "Engines", true).await;
    for body in [json!({"body": "  \n "}), json!({"body": "x".repeat(2_001)})] {
        let reply = app
            .post(&format!("/api/posts/{post}/comments"), &body, Some(&ada))
            .await;
        assert_eq!(reply.status, Status::UnprocessableEntity);
        assert!(reply.field_error("body").is_some(), "{:?}", reply.body);
    }
    for body in [
        json!({}),
        json!({"body": 5}),
        json!({"body": "x", "extra": 1}),
    ] {
        let reply = app
            .post(&format!("/api/posts/{post}/comments"), &body, Some(&ada))
            .await;
        assert!(
            reply.status.code == 400 || reply.status.code == 422,
            "{body}"
        );
    }
    let anonymous = app
        .post(
            &format!("/api/posts/{post}/comments"),
            &json!({"body": "hi"}),
            None,
        )
        .await;
    assert_eq!(anonymous.status, Status::Unauthorized);
    assert_eq!(kept(&app, post), 0);
    let rows: i64 = comments::table.count().get_result(&mut app.conn()).unwrap();
    assert_eq!(rows, 0);
}

#[rocket::async_test]
async fn only_published_posts_open_to_comments_take_them() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let bob = app.create_user("bob").await;
    let draft = app.create_post(&ada, "Draft", false).await;
    // Someone else's draft does not exist for them; its author is told why.
    let on_draft = app
        .post(
            &format!("/api/posts/{draft}/comments"),
            &json!({"body": "hi"}),
            Some(&bob),
        )
        .await;
    assert_eq!(on_draft.status, Status::NotFound);
    assert_eq!(
        app.get(&format!("/api/posts/{draft}/comments"), None)
            .await
            .status,
        Status::NotFound
    );
    let own_draft = app
        .post(
            &format!("/api/posts/{draft}/comments"),
            &json!({"body": "hi"}),
            Some(&ada),
        )
        .await;
    assert_eq!(own_draft.status, Status::Forbidden);

    let post = app.create_post(&ada, "Open", true).await;
    comment(&app, &bob, post, "Before closing").await;
    let closed = app
        .patch(
            &format!("/api/posts/{post}"),
            &json!({"comments_closed": true}),
            Some(&ada),
        )
        .await;
    assert_eq!(closed.body["comments_closed"], true);
    let refused = app
        .post(
            &format!("/api/posts/{post}/comments"),
            &json!({"body": "late"}),
            Some(&bob),
        )
        .await;
    assert_eq!(refused.status, Status::Forbidden);
    assert!(refused.error_message().contains("closed"));
    // What was said stays, and can still be read.
    let listed = app.get(&format!("/api/posts/{post}/comments"), None).await;
    assert_eq!(bodies(&listed.body), ["Before closing"]);
    // Someone else cannot reopen it.
    let reopen = app
        .patch(
            &format!("/api/posts/{post}"),
            &json!({"comments_closed": false}),
            Some(&bob),
        )
        .await;
    assert_eq!(reopen.status, Status::Forbidden);
    app.patch(
        &format!("/api/posts/{post}"),
        &json!({"comments_closed": false}),
        Some(&ada),
    )
    .await;
    comment(&app, &bob, post, "Open again").await;
}

#[rocket::async_test]
async fn authors_edit_their_comments_and_authors_of_posts_and_admins_delete_any() {
    let app = spawn_app().await;
    let admin = app.create_admin("root").await;
    let ada = app.create_user("ada").await;
    let bob = app.create_user("bob").await;
    let eve = app.create_user("eve").await;
    let post = app.create_post(&ada, "Engines", true).await;
    let bobs = comment(&app, &bob, post, "Bob's").await["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/comments/{bobs}");

    for who in [&ada, &eve, &admin] {
        let edit = app
            .patch(&path, &json!({"body": "not theirs"}), Some(who))
            .await;
        assert_eq!(edit.status, Status::Forbidden, "{}", who.uid);
    }
    let edited = app
        .patch(&path, &json!({"body": "Bob's, edited"}), Some(&bob))
        .await;
    assert_eq!(edited.status, Status::Ok);
    assert_eq!(edited.body["body"], "Bob's, edited");
    assert!(edited.body["updated_at"] != edited.body["created_at"]);

    assert_eq!(
        app.delete(&path, Some(&eve)).await.status,
        Status::Forbidden
    );
    assert_eq!(
        app.delete(&path, Some(&bob)).await.status,
        Status::NoContent
    );
    assert_eq!(app.get(&path, None).await.status, Status::NotFound);
    for who in [&ada, &admin] {
        let id = comment(&app, &bob, post, "Again").await["id"]
            .as_i64()
            .unwrap();
        let gone = app.delete(&format!("/api/comments/{id}"), Some(who)).await;
        assert_eq!(gone.status, Status::NoContent, "{}", who.uid);
    }
    assert_eq!(kept(&app, post), 0);
}

#[rocket::async_test]
async fn a_suspended_or_deleted_accounts_comments_go_with_it() {
    let app = spawn_app().await;
    let admin = app.create_admin("root").await;
    let ada = app.create_user("ada").await;
    let bob = app.create_user("bob").await;
    let eve = app.create_user("eve").await;
    let post = app.create_post(&ada, "Engines", true).await;
    let bobs = comment(&app, &bob, post, "Bob's").await["id"]
        .as_i64()
        .unwrap();
    comment(&app, &eve, post, "Eve's").await;
    assert_eq!(kept(&app, post), 2);

    let suspended = app
        .post(
            &format!("/api/users/{}/suspension", bob.id),
            &json!({"reason": "spam"}),
            Some(&admin),
        )
        .await;
    assert_eq!(suspended.status, Status::Ok);
    assert_eq!(kept(&app, post), 1);
    let listed = app.get(&format!("/api/posts/{post}/comments"), None).await;
    assert_eq!(bodies(&listed.body), ["Eve's"]);
    assert_eq!(listed.body["total"], 1);
    assert_eq!(
        app.get(&format!("/api/comments/{bobs}"), None).await.status,
        Status::NotFound
    );
    app.delete(&format!("/api/users/{}/suspension", bob.id), Some(&admin))
        .await;
    assert_eq!(kept(&app, post), 2);

    let deleted = app
        .delete(&format!("/api/users/{}", eve.id), Some(&eve))
        .await;
    assert_eq!(deleted.status, Status::NoContent);
    assert_eq!(kept(&app, post), 1);
    let listed = app.get(&format!("/api/posts/{post}/comments"), None).await;
    assert_eq!(bodies(&listed.body), ["Bob's"]);
}

#[rocket::async_test]
async fn more_than_ten_comments_a_minute_are_refused() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let bob = app.create_user("bob").await;
    let post = app.create_post(&ada, "Engines", true).await;
    for n in 0..10 {
        comment(&app, &bob, post, &format!("{n}")).await;
    }
    let eleventh = app
        .send(
            rocket::http::Method::Post,
            &format!("/api/posts/{post}/comments"),
            Some(&json!({"body": "one too many"}).to_string()),
            Some(&bob),
        )
        .await;
    assert_eq!(eleventh.status, Status::TooManyRequests);
    assert_eq!(kept(&app, post), 10);
    // Others are not held back by Bob.
    comment(&app, &ada, post, "Mine").await;
}

#[rocket::async_test]
async fn comments_on_the_pages() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    app.create_user("bob").await;
    let post = app.create_post(&ada, "Engines", true).await;
    let mut visitor = Browser::new(&app);
    let page = visitor.visit(&format!("/posts/{post}")).await;
    assert!(page.html.contains("0 comments"));
    assert!(
        page.html.contains("to comment."),
        "a visitor is asked to log in"
    );

    let mut bob = Browser::new(&app);
    bob.log_in("bob", PASSWORD).await;
    let address = visitor
        .get(&format!("/posts/{post}"))
        .await
        .location
        .unwrap();
    let action = format!("/posts/{post}/comments");
    let added = bob
        .submit(&address, &action, &[("body", "Nice *engine*")])
        .await;
    assert_eq!(added.status, Status::SeeOther);
    let to = added.location.clone().unwrap();
    assert!(to.starts_with(&format!("{address}?before=")), "{to}");
    let shown = bob.follow(&added).await;
    assert!(shown.html.contains("Comment added."));
    assert!(shown.html.contains("Nice <em>engine</em>"));
    assert!(shown.html.contains("1 comment</h2>"));

    // Without the form's token: refused, nothing written.
    let forged = bob.post(&action, &[("body", "forged")]).await;
    assert_eq!(forged.status, Status::Forbidden);
    // A mistake: the page again, the text kept, the message beside it.
    let long = "y".repeat(2_001);
    let refused = bob.submit(&address, &action, &[("body", &long)]).await;
    assert_eq!(refused.status, Status::UnprocessableEntity);
    assert!(refused
        .html
        .contains("Your comment must be at most 2000 characters long"));
    assert!(refused.html.contains(&long), "the text is kept");
    assert_eq!(kept(&app, post), 1);

    // Edit and delete through the pages.
    let id = to.rsplit("#comment-").next().unwrap().to_owned();
    let edit = format!("/comments/{id}/edit");
    let saved = bob
        .submit(&edit, &edit, &[("body", "Nice engine, really")])
        .await;
    assert_eq!(saved.status, Status::SeeOther);
    assert!(bob
        .follow(&saved)
        .await
        .html
        .contains("Nice engine, really"));
    let mut ada_browser = Browser::new(&app);
    ada_browser.log_in("ada", PASSWORD).await;
    assert_eq!(ada_browser.get(&edit).await.status, Status::Forbidden);
    let delete = format!("/comments/{id}/delete");
    let deleted = ada_browser.submit(&delete, &delete, &[]).await;
    assert_eq!(deleted.status, Status::SeeOther);
    assert!(ada_browser
        .follow(&deleted)
        .await
        .html
        .contains("Comment deleted."));
    assert_eq!(kept(&app, post), 0);

    // Closed from the post form: the page says so and shows no form.
    app.patch(
        &format!("/api/posts/{post}"),
        &json!({"comments_closed": true}),
        Some(&ada),
    )
    .await;
    let closed = bob.get(&address).await;
    assert!(closed.html.contains("Comments are closed."));
    assert!(!closed.html.contains("id=\"comment-form\""));
}

#[rocket::async_test]
async fn a_new_comment_is_shown_on_the_page_it_lands_on_however_many_came_before() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let post = app.create_post(&ada, "Busy", true).await;
    // More than a page (50) of comments, written straight into the table.
    {
        let now = portfolio::domain::now();
        let mut conn = app.conn();
        for n in 0..60 {
            diesel::insert_into(comments::table)
                .values((
                    comments::post_id.eq(post),
                    comments::user_id.eq(ada.id),
                    comments::body.eq(format!("Earlier {n}")),
                    comments::created_at.eq(now),
                    comments::updated_at.eq(now),
                ))
                .execute(&mut conn)
                .unwrap();
        }
    }
    let mut browser = Browser::new(&app);
    browser.log_in("ada", PASSWORD).await;
    let address = browser
        .get(&format!("/posts/{post}"))
        .await
        .location
        .unwrap();
    let added = browser
        .submit(
            &address,
            &format!("/posts/{post}/comments"),
            &[("body", "The newest word")],
        )
        .await;
    let page = browser.follow(&added).await;
    assert!(
        page.html.contains("The newest word"),
        "the new comment is on the page"
    );
    assert!(page.html.contains("61 comments"));
    assert!(
        !page.html.contains("Earlier 0<"),
        "the first page is not the one shown"
    );
}
