//! Suspending an account: no login, no session or token, posts hidden from
//! everyone but admins; lifting it brings everything back; the last admin
//! cannot be suspended.

use rocket::http::{Header, Status};
use serde_json::json;

use crate::browser::Browser;
use crate::helpers::*;

#[rocket::async_test]
async fn a_suspended_account_is_locked_out_and_hidden_until_lifted() {
    let app = spawn_app().await;
    let admin = app.create_admin("root").await;
    let ada = app.create_user("ada").await;
    let reader = app.create_user("reader").await;
    let published = app.create_post(&ada, "Visible notes", true).await;
    let draft = app.create_post(&ada, "A draft", false).await;
    let token = app
        .post("/api/tokens", &json!({ "name": "script" }), Some(&ada))
        .await;
    let api_token = token.body["token"].as_str().unwrap().to_owned();
    let total = |body: &serde_json::Value| body["total"].as_i64().unwrap();
    let before = total(&app.get("/api/posts", None).await.body);

    // Not an admin: refused, nothing changes.
    let refused = app
        .post(
            &format!("/api/users/{}/suspension", ada.id),
            &json!({ "reason": "spam" }),
            Some(&reader),
        )
        .await;
    assert_eq!(refused.status, Status::Forbidden);
    let no_reason = app
        .post(
            &format!("/api/users/{}/suspension", ada.id),
            &json!({ "reason": " " }),
            Some(&admin),
        )
        .await;
    assert_eq!(no_reason.status, Status::UnprocessableEntity);

    let suspended = app
        .post(
            &format!("/api/users/{}/suspension", ada.id),
            &json!({ "reason": "posting spam" }),
            Some(&admin),
        )
        .await;
    assert_eq!(suspended.status, Status::Ok, "{:?}", suspended.body);
    assert_eq!(suspended.body["suspension"]["reason"], "posting spam");

    // Her session and token stop at once; she cannot log in.
    assert_eq!(
        app.get("/api/me", Some(&ada)).await.status,
        Status::Unauthorized
    );
    let by_token = app
        .client
        .get("/api/me")
        .header(Header::new("Authorization", format!("Bearer {api_token}")))
        .dispatch()
        .await;
    assert_eq!(by_token.status(), Status::Unauthorized);
    let login = app
        .post(
            "/api/session",
            &json!({ "uid": "ada", "password": PASSWORD }),
            None,
        )
        .await;
    assert_eq!(login.status, Status::Forbidden);
    assert!(login.error_message().contains("suspended"));

    // Her posts are hidden from everyone but admins, and from the counts.
    let post = format!("/api/posts/{published}");
    assert_eq!(app.get(&post, None).await.status, Status::NotFound);
    assert_eq!(app.get(&post, Some(&reader)).await.status, Status::NotFound);
    assert_eq!(app.get(&post, Some(&admin)).await.status, Status::Ok);
    assert_eq!(total(&app.get("/api/posts", None).await.body), before - 1);
    let profile = app.get(&format!("/api/users/{}", ada.id), None).await;
    assert_eq!(profile.body["post_count"], 0);
    assert!(
        profile.body.get("suspension").is_none(),
        "the reason is for admins"
    );
    let found = app.get("/api/posts?q=visible", None).await;
    assert_eq!(found.body["total"], 0, "not in search either");

    // Lifted: everything as it was, the draft still a draft.
    let lifted = app
        .delete(&format!("/api/users/{}/suspension", ada.id), Some(&admin))
        .await;
    assert_eq!(lifted.status, Status::Ok);
    assert_eq!(lifted.body["suspension"], serde_json::Value::Null);
    assert_eq!(app.get(&post, None).await.status, Status::Ok);
    assert_eq!(
        app.get(&format!("/api/posts/{draft}"), None).await.status,
        Status::NotFound
    );
    assert_eq!(total(&app.get("/api/posts", None).await.body), before);
    assert_eq!(
        app.get("/api/me", Some(&ada)).await.status,
        Status::Ok,
        "the session works again"
    );
    app.log_in("ada", PASSWORD).await;
}

#[rocket::async_test]
async fn the_last_admin_cannot_be_suspended() {
    let app = spawn_app().await;
    let admin = app.create_admin("root").await;
    let alone = app
        .post(
            &format!("/api/users/{}/suspension", admin.id),
            &json!({ "reason": "testing" }),
            Some(&admin),
        )
        .await;
    assert_eq!(alone.status, Status::Conflict, "{:?}", alone.body);
    let second = app.create_admin("deputy").await;
    let ok = app
        .post(
            &format!("/api/users/{}/suspension", admin.id),
            &json!({ "reason": "on leave" }),
            Some(&second),
        )
        .await;
    assert_eq!(ok.status, Status::Ok);
    let last = app
        .post(
            &format!("/api/users/{}/suspension", second.id),
            &json!({ "reason": "no one left" }),
            Some(&second),
        )
        .await;
    assert_eq!(last.status, Status::Conflict);
}

#[rocket::async_test]
async fn admins_suspend_and_lift_from_the_users_table() {
    let app = spawn_app().await;
    app.create_admin("root").await;
    let ada = app.create_user("ada").await;
    let mut browser = Browser::new(&app);
    browser.log_in("root", PASSWORD).await;
    let done = browser
        .submit(
            "/admin/users",
            &format!("/admin/users/{}/suspend", ada.id),
            &[("reason", "posting spam")],
        )
        .await;
    assert_eq!(done.status, Status::SeeOther);
    let table = browser.follow(&done).await;
    assert!(
        table.html.contains("id=\"suspended-ada\""),
        "{}",
        table.html
    );
    assert!(table.html.contains("posting spam"));
    let profile = Browser::new(&app).get(&format!("/users/{}", ada.id)).await;
    assert!(profile.html.contains("id=\"account-suspended\""));
    assert!(
        !profile.html.contains("posting spam"),
        "the reason is for admins"
    );
    let mut her = Browser::new(&app);
    let login = her
        .submit(
            "/login",
            "/login",
            &[("uid", "ada"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(login.status, Status::UnprocessableEntity);
    assert!(login.html.contains("suspended"));
    let lifted = browser
        .submit(
            "/admin/users",
            &format!("/admin/users/{}/unsuspend", ada.id),
            &[],
        )
        .await;
    assert_eq!(lifted.status, Status::SeeOther);
    assert_eq!(app.get("/api/me", Some(&ada)).await.status, Status::Ok);
}
