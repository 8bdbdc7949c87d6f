//! The authorization matrix: anonymous, another user, the owner and an admin
//! against every write route. Every refusal leaves the database unchanged.

use rocket::http::{Method, Status};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, TestUser};

struct Cast {
    owner: TestUser,
    other: TestUser,
    admin: TestUser,
    post: i32,
}

async fn cast(app: &TestApp) -> Cast {
    let owner = app.create_user("owner").await;
    let other = app.create_user("other").await;
    let admin = app.create_admin("admin").await;
    let post = app.create_post(&owner, "owned", true).await;
    Cast {
        owner,
        other,
        admin,
        post,
    }
}

/// Sends the request as `who` and checks the status; a refusal must leave
/// every row as it was.
async fn expect(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
    who: Option<&TestUser>,
    status: Status,
) {
    let before = app.snapshot();
    let body = body.map(|b| b.to_string());
    let reply = app.send(method, path, body.as_deref(), who).await;
    let who_name = who.map_or("anonymous", |u| u.uid.as_str());
    assert_eq!(
        reply.status, status,
        "{method} {path} as {who_name}: {:?}",
        reply.body
    );
    assert_eq!(
        reply.body["error"]["status"]
            .as_u64()
            .map(|s| s as u16)
            .unwrap_or(reply.status.code),
        reply.status.code
    );
    if status.code >= 400 {
        assert_eq!(
            app.snapshot(),
            before,
            "{method} {path} as {who_name} changed the database"
        );
    }
}

#[rocket::async_test]
async fn only_the_owner_or_an_admin_may_change_an_account() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    let path = format!("/api/users/{}", c.owner.id);
    let body = || Some(json!({"name": "Changed"}));
    expect(
        &app,
        Method::Patch,
        &path,
        body(),
        None,
        Status::Unauthorized,
    )
    .await;
    expect(
        &app,
        Method::Patch,
        &path,
        body(),
        Some(&c.other),
        Status::Forbidden,
    )
    .await;
    expect(
        &app,
        Method::Patch,
        &path,
        body(),
        Some(&c.owner),
        Status::Ok,
    )
    .await;
    expect(
        &app,
        Method::Patch,
        &path,
        body(),
        Some(&c.admin),
        Status::Ok,
    )
    .await;
}

#[rocket::async_test]
async fn only_an_admin_may_change_a_role() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    let path = format!("/api/users/{}", c.owner.id);
    expect(
        &app,
        Method::Patch,
        &path,
        Some(json!({"role": "admin"})),
        Some(&c.owner),
        Status::Forbidden,
    )
    .await;
    expect(
        &app,
        Method::Patch,
        &path,
        Some(json!({"role": "admin"})),
        Some(&c.other),
        Status::Forbidden,
    )
    .await;
    expect(
        &app,
        Method::Patch,
        &path,
        Some(json!({"role": "admin"})),
        Some(&c.admin),
        Status::Ok,
    )
    .await;
}

#[rocket::async_test]
async fn only_the_owner_or_an_admin_may_delete_an_account() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    let path = format!("/api/users/{}", c.owner.id);
    expect(
        &app,
        Method::Delete,
        &path,
        None,
        None,
        Status::Unauthorized,
    )
    .await;
    expect(
        &app,
        Method::Delete,
        &path,
        None,
        Some(&c.other),
        Status::Forbidden,
    )
    .await;
    expect(
        &app,
        Method::Delete,
        &path,
        None,
        Some(&c.owner),
        Status::NoContent,
    )
    .await;

    let path = format!("/api/users/{}", c.other.id);
    expect(
        &app,
        Method::Delete,
        &path,
        None,
        Some(&c.admin),
        Status::NoContent,
    )
    .await;
    assert_eq!(app.count_users(), 1);
}

#[rocket::async_test]
async fn only_the_author_or_an_admin_may_change_a_post() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    let path = format!("/api/posts/{}", c.post);
    let body = || Some(json!({"title": "Changed"}));
    expect(
        &app,
        Method::Patch,
        &path,
        body(),
        None,
        Status::Unauthorized,
    )
    .await;
    expect(
        &app,
        Method::Patch,
        &path,
        body(),
        Some(&c.other),
        Status::Forbidden,
    )
    .await;
    expect(
        &app,
        Method::Patch,
        &path,
        body(),
        Some(&c.owner),
        Status::Ok,
    )
    .await;
    expect(
        &app,
        Method::Patch,
        &path,
        body(),
        Some(&c.admin),
        Status::Ok,
    )
    .await;
}

#[rocket::async_test]
async fn only_the_author_or_an_admin_may_delete_a_post() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    let path = format!("/api/posts/{}", c.post);
    expect(
        &app,
        Method::Delete,
        &path,
        None,
        None,
        Status::Unauthorized,
    )
    .await;
    expect(
        &app,
        Method::Delete,
        &path,
        None,
        Some(&c.other),
        Status::Forbidden,
    )
    .await;
    expect(
        &app,
        Method::Delete,
        &path,
        None,
        Some(&c.owner),
        Status::NoContent,
    )
    .await;

    let second = app.create_post(&c.owner, "second", true).await;
    let path = format!("/api/posts/{second}");
    expect(
        &app,
        Method::Delete,
        &path,
        None,
        Some(&c.admin),
        Status::NoContent,
    )
    .await;
    assert_eq!(app.count_posts(), 0);
}

#[rocket::async_test]
async fn writing_a_post_needs_any_login() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    let body = || Some(json!({"title": "t", "content": "c"}));
    expect(
        &app,
        Method::Post,
        "/api/posts",
        body(),
        None,
        Status::Unauthorized,
    )
    .await;
    for who in [&c.owner, &c.other, &c.admin] {
        expect(
            &app,
            Method::Post,
            "/api/posts",
            body(),
            Some(who),
            Status::Created,
        )
        .await;
    }
}

#[rocket::async_test]
async fn someone_elses_draft_cannot_be_changed_and_is_not_revealed() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    let draft = app.create_post(&c.owner, "draft", false).await;
    let path = format!("/api/posts/{draft}");
    expect(
        &app,
        Method::Patch,
        &path,
        Some(json!({"title": "x"})),
        Some(&c.other),
        Status::NotFound,
    )
    .await;
    expect(
        &app,
        Method::Delete,
        &path,
        None,
        Some(&c.other),
        Status::NotFound,
    )
    .await;
    expect(
        &app,
        Method::Patch,
        &path,
        Some(json!({"published": true})),
        Some(&c.admin),
        Status::Ok,
    )
    .await;
}
