//! Personal API tokens: `/api/tokens`, the `/tokens` page, Bearer auth.

use rocket::http::{ContentType, Header, Status};
use serde_json::{json, Value};

use crate::browser::Browser;
use crate::helpers::{spawn_app, TestApp, PASSWORD};

/// A request to the API with `Authorization: <authorization>` and no cookie.
async fn with_auth(
    app: &TestApp,
    method: rocket::http::Method,
    path: &str,
    authorization: &str,
    body: Option<Value>,
) -> (Status, Value) {
    let mut request = app
        .client
        .req(method, path.to_owned())
        .header(Header::new("Authorization", authorization.to_owned()));
    if let Some(body) = body {
        request = request.header(ContentType::JSON).body(body.to_string());
    }
    let response = request.dispatch().await;
    let status = response.status();
    let text = response.into_string().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn bearer(
    app: &TestApp,
    method: rocket::http::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (Status, Value) {
    with_auth(app, method, path, &format!("Bearer {token}"), body).await
}

#[rocket::async_test]
async fn a_token_acts_as_its_owner_until_revoked() {
    use rocket::http::Method::{Delete, Get, Post};
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;

    let made = app
        .post(
            "/api/tokens",
            &json!({"name": "  backup script "}),
            Some(&ada),
        )
        .await;
    assert_eq!(made.status, Status::Created, "{:?}", made.body);
    assert_eq!(made.body["name"], "backup script");
    let token = made.body["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("pft_") && token.len() > 40, "{token}");

    // Only the hash is stored.
    let stored: Vec<String> = {
        use diesel::prelude::*;
        portfolio::db::schema::api_tokens::table
            .select(portfolio::db::schema::api_tokens::token_hash)
            .load(&mut app.conn())
            .unwrap()
    };
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&token[4..]) && stored[0].len() == 64);

    // The token is Ada on every API route: reading who she is, writing.
    let (status, me) = bearer(&app, Get, "/api/me", &token, None).await;
    assert_eq!((status, me["uid"].as_str()), (Status::Ok, Some("ada")));
    let (status, post) = bearer(
        &app,
        Post,
        "/api/posts",
        &token,
        Some(json!({"title": "By script", "content": "Hello."})),
    )
    .await;
    assert_eq!(status, Status::Created, "{post}");
    assert_eq!(post["author"]["uid"], "ada");

    // The list never shows the secret.
    let listed = app.get("/api/tokens", Some(&ada)).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    assert!(listed.body["items"][0].get("token").is_none());
    assert!(!listed.body.to_string().contains(&token));

    // A token cannot manage tokens (a leaked one could mint successors) nor
    // delete the account: those need a login session.
    let id = made.body["id"].as_i64().unwrap();
    for (method, path, body) in [
        (
            Post,
            "/api/tokens".to_owned(),
            Some(json!({"name": "successor"})),
        ),
        (Get, "/api/tokens".to_owned(), None),
        (Delete, format!("/api/tokens/{id}"), None),
        (Delete, format!("/api/users/{}", ada.id), None),
    ] {
        let (status, _) = bearer(&app, method, &path, &token, body).await;
        assert_eq!(status, Status::Forbidden, "{method} {path}");
    }
    assert_eq!(app.count_users(), 1);

    // Revoked: the next request with it is a 401.
    let revoked = app.delete(&format!("/api/tokens/{id}"), Some(&ada)).await;
    assert_eq!(revoked.status, Status::NoContent);
    let (status, error) = bearer(&app, Get, "/api/me", &token, None).await;
    assert_eq!(status, Status::Unauthorized);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("token"),
        "{error}"
    );
    let (status, _) = bearer(
        &app,
        Post,
        "/api/posts",
        &token,
        Some(json!({"title": "Again", "content": "No."})),
    )
    .await;
    assert_eq!(status, Status::Unauthorized);
    assert_eq!(app.count_posts(), 1);
}

#[rocket::async_test]
async fn bad_and_foreign_tokens_are_refused_and_change_nothing() {
    use rocket::http::Method::{Delete, Get, Post};
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let bob = app.create_user("bob").await;
    let bobs = app
        .post("/api/tokens", &json!({"name": "bob's"}), Some(&bob))
        .await;
    let bobs_id = bobs.body["id"].as_i64().unwrap();
    let ada_token = app
        .post("/api/tokens", &json!({"name": "ada's"}), Some(&ada))
        .await;
    let ada_secret = ada_token.body["token"].as_str().unwrap();
    let before = app.snapshot();

    for authorization in [
        "Bearer pft_not-a-real-token",
        "Bearer ",
        "Bearer",
        "bearer pft_",
        "Basic YWRhOnBvcnRmb2xpbw==",
        "pft_missing-scheme",
        "Bearer ' OR 1=1 --",
    ] {
        let (status, _) = with_auth(&app, Get, "/api/me", authorization, None).await;
        assert_eq!(status, Status::Unauthorized, "{authorization}");
        let (status, _) = with_auth(
            &app,
            Post,
            "/api/posts",
            authorization,
            Some(json!({"title": "x", "content": "y"})),
        )
        .await;
        assert_eq!(status, Status::Unauthorized, "{authorization}");
    }
    // Ada cannot see or revoke Bob's token: 404, as if it did not exist.
    let (status, _) = bearer(
        &app,
        Delete,
        &format!("/api/tokens/{bobs_id}"),
        ada_secret,
        None,
    )
    .await;
    assert_eq!(status, Status::Forbidden, "tokens do not manage tokens");
    assert_eq!(
        app.delete(&format!("/api/tokens/{bobs_id}"), Some(&ada))
            .await
            .status,
        Status::NotFound
    );
    let listed = app.get("/api/tokens", Some(&ada)).await;
    assert_eq!(
        listed.body["items"].as_array().unwrap().len(),
        1,
        "only her own"
    );
    // Anonymous: 401.
    assert_eq!(
        app.get("/api/tokens", None).await.status,
        Status::Unauthorized
    );
    assert_eq!(
        app.post("/api/tokens", &json!({"name": "x"}), None)
            .await
            .status,
        Status::Unauthorized
    );
    // Bad names: 422 with the field, nothing stored.
    for name in [
        json!(""),
        json!("   "),
        json!("x".repeat(101)),
        json!(5),
        json!("a\u{0}b"),
    ] {
        let reply = app
            .post("/api/tokens", &json!({"name": name}), Some(&ada))
            .await;
        assert_eq!(
            reply.status,
            Status::UnprocessableEntity,
            "{name}: {:?}",
            reply.body
        );
    }
    assert_eq!(app.snapshot(), before, "nothing changed");
    let tokens: i64 = {
        use diesel::prelude::*;
        portfolio::db::schema::api_tokens::table
            .count()
            .get_result(&mut app.conn())
            .unwrap()
    };
    assert_eq!(tokens, 2, "Bob's and Ada's, nothing more, nothing less");
}

#[rocket::async_test]
async fn deleting_the_account_deletes_its_tokens() {
    use rocket::http::Method::Get;
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let made = app
        .post("/api/tokens", &json!({"name": "ci"}), Some(&ada))
        .await;
    let token = made.body["token"].as_str().unwrap().to_owned();
    let raw = app
        .client
        .post("/api/tokens")
        .header(ContentType::JSON)
        .cookie(rocket::http::Cookie::new(
            "portfolio_session",
            ada.cookie.clone(),
        ))
        .body(r#"{"name": "headers"}"#)
        .dispatch()
        .await;
    assert_eq!(raw.headers().get_one("Cache-Control"), Some("no-store"));
    let gone = app
        .send(
            rocket::http::Method::Delete,
            &format!("/api/users/{}", ada.id),
            None,
            Some(&ada),
        )
        .await;
    assert_eq!(gone.status, Status::NoContent);
    let (status, _) = bearer(&app, Get, "/api/me", &token, None).await;
    assert_eq!(status, Status::Unauthorized);
}

#[rocket::async_test]
async fn a_new_password_ends_every_api_token() {
    use rocket::http::Method::Get;
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let made = app
        .post("/api/tokens", &json!({"name": "ci"}), Some(&ada))
        .await;
    let token = made.body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        bearer(&app, Get, "/api/me", &token, None).await.0,
        Status::Ok
    );
    let changed = app
        .patch(
            &format!("/api/users/{}", ada.id),
            &json!({"password": "a brand new password", "current_password": PASSWORD}),
            Some(&ada),
        )
        .await;
    assert_eq!(changed.status, Status::Ok, "{:?}", changed.body);
    assert_eq!(
        bearer(&app, Get, "/api/me", &token, None).await.0,
        Status::Unauthorized
    );
}

#[rocket::async_test]
async fn the_tokens_page_shows_a_new_token_once_and_revokes() {
    let app = spawn_app().await;
    app.create_user("ada").await;
    let mut browser = Browser::new(&app);
    assert_eq!(
        browser.get("/tokens").await.status,
        Status::SeeOther,
        "log in first"
    );
    browser.log_in("ada", PASSWORD).await;

    let form = browser.get("/tokens").await;
    assert_eq!(form.status, Status::Ok);
    assert!(form.html.contains("No tokens yet"));

    // A bad name keeps the input and says why; nothing is made.
    let invalid = browser
        .submit("/tokens", "/tokens", &[("name", "   ")])
        .await;
    assert_eq!(invalid.status, Status::UnprocessableEntity);
    assert!(
        invalid.html.contains("must not be empty"),
        "{}",
        invalid.html
    );

    let made = browser
        .submit("/tokens", "/tokens", &[("name", "deploy <script>")])
        .await;
    assert_eq!(made.status, Status::Ok);
    assert_eq!(
        made.header("Cache-Control"),
        Some("no-store"),
        "no cache keeps the secret"
    );
    let secret = made
        .html
        .split("id=\"new-token-secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the secret is shown")
        .to_owned();
    assert!(secret.starts_with("pft_"));
    assert!(
        made.html.contains("deploy &lt;script&gt;"),
        "names are escaped"
    );
    let (status, me) = bearer(&app, rocket::http::Method::Get, "/api/me", &secret, None).await;
    assert_eq!((status, me["uid"].as_str()), (Status::Ok, Some("ada")));

    // Shown once: the list page never has it again.
    let again = browser.get("/tokens").await;
    assert!(!again.html.contains(&secret));
    assert!(again.html.contains("deploy &lt;script&gt;"));

    // Revoking without the form token is a 403 and keeps the token.
    let id: i64 = {
        use diesel::prelude::*;
        portfolio::db::schema::api_tokens::table
            .select(portfolio::db::schema::api_tokens::id)
            .first::<i32>(&mut app.conn())
            .unwrap()
            .into()
    };
    let forged = browser
        .post(&format!("/tokens/{id}/revoke"), &[("csrf_token", "forged")])
        .await;
    assert_eq!(forged.status, Status::Forbidden);
    assert_eq!(
        bearer(&app, rocket::http::Method::Get, "/api/me", &secret, None)
            .await
            .0,
        Status::Ok
    );

    // Someone else cannot revoke it: 404, and it keeps working.
    app.create_user("bob").await;
    let mut bob = Browser::new(&app);
    bob.log_in("bob", PASSWORD).await;
    let foreign = bob
        .submit("/tokens", &format!("/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(foreign.status, Status::NotFound);
    assert_eq!(
        bearer(&app, rocket::http::Method::Get, "/api/me", &secret, None)
            .await
            .0,
        Status::Ok
    );

    let revoked = browser
        .submit("/tokens", &format!("/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(revoked.status, Status::SeeOther);
    assert_eq!(
        bearer(&app, rocket::http::Method::Get, "/api/me", &secret, None)
            .await
            .0,
        Status::Unauthorized
    );
}
