//! Hostile input: every case asserts a clear 4xx (never a 500) AND that the
//! database did not change.

use proptest::prelude::*;
use rocket::http::{ContentType, Method, Status};
use serde_json::json;

use crate::helpers::{spawn_app, TestApp, TestUser};

/// Sends a raw request and checks: a 4xx, an error body in our shape for
/// `/api`, and no change in the database.
async fn refused(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<&[u8]>,
    who: Option<&TestUser>,
) -> Status {
    let before = app.snapshot();
    let mut request = app
        .client
        .req(method, path.to_owned())
        .header(ContentType::JSON);
    if let Some(body) = body {
        request = request.body(body);
    }
    if let Some(user) = who {
        request = request.cookie(rocket::http::Cookie::new(
            "portfolio_session",
            user.cookie.clone(),
        ));
    }
    let response = request.dispatch().await;
    let status = response.status();
    let text = response.into_string().await.unwrap_or_default();
    assert!(
        (400..500).contains(&status.code),
        "{method} {path}: {status} {text}"
    );
    if path.starts_with("/api") {
        let body: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{path}: not JSON: {text}"));
        assert_eq!(body["error"]["status"], status.code, "{path}: {text}");
    }
    assert_eq!(
        app.snapshot(),
        before,
        "{method} {path} changed the database"
    );
    status
}

#[rocket::async_test]
async fn malformed_and_mistyped_bodies_are_refused() {
    let app = spawn_app().await;
    let user = app.create_user("target").await;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("not json", b"title=x&content=y".to_vec()),
        ("truncated", br#"{"title": "x", "content": "#.to_vec()),
        ("array", br#"[{"title": "x", "content": "y"}]"#.to_vec()),
        ("wrong types", br#"{"title": 42, "content": true}"#.to_vec()),
        ("null title", br#"{"title": null, "content": "y"}"#.to_vec()),
        ("missing content", br#"{"title": "x"}"#.to_vec()),
        (
            "unknown field",
            br#"{"title": "x", "content": "y", "user_id": 1}"#.to_vec(),
        ),
        (
            "published as text",
            br#"{"title": "x", "content": "y", "published": "yes"}"#.to_vec(),
        ),
        (
            "invalid utf-8",
            b"{\"title\": \"\xc3\x28\", \"content\": \"y\"}".to_vec(),
        ),
        (
            "nul byte",
            b"{\"title\": \"a\\u0000b\", \"content\": \"y\"}".to_vec(),
        ),
        (
            "deep nesting",
            format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes(),
        ),
    ];
    for (name, body) in cases {
        let status = refused(&app, Method::Post, "/api/posts", Some(&body), Some(&user)).await;
        assert!(
            status == Status::BadRequest || status == Status::UnprocessableEntity,
            "{name}: {status}"
        );
    }
}

#[rocket::async_test]
async fn bodies_over_the_limits_are_413() {
    let app = spawn_app().await;
    let user = app.create_user("target").await;
    let ten_megabytes = json!({"title": "x", "content": "y".repeat(10 * 1024 * 1024)}).to_string();
    let status = refused(
        &app,
        Method::Post,
        "/api/posts",
        Some(ten_megabytes.as_bytes()),
        Some(&user),
    )
    .await;
    assert_eq!(status, Status::PayloadTooLarge);
    let status = refused(
        &app,
        Method::Patch,
        &format!("/api/users/{}", user.id),
        Some(ten_megabytes.as_bytes()),
        Some(&user),
    )
    .await;
    assert_eq!(status, Status::PayloadTooLarge);

    // Forms have their own, smaller limit (256 KiB).
    let before = app.snapshot();
    let form = format!(
        "uid=abc&name=n&email=&dob=&password=longenough&csrf_token=x&extra={}",
        "z".repeat(300 * 1024)
    );
    let response = app
        .client
        .post("/signup")
        .header(ContentType::Form)
        .body(form)
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::PayloadTooLarge);
    assert_eq!(app.snapshot(), before);
}

#[rocket::async_test]
async fn strange_ids_and_page_numbers_are_4xx() {
    let app = spawn_app().await;
    let user = app.create_user("target").await;
    for path in [
        "/api/posts/0",
        "/api/posts/-1",
        "/api/posts/abc",
        "/api/posts/1.5",
        "/api/posts/99999999999999999999",
        "/api/users/-5",
        "/api/posts?page=-1",
        "/api/posts?page=0",
        "/api/posts?page=1e3",
        "/api/posts?per_page=1000000",
        "/api/posts?user=%27%20OR%201%3D1",
        "/api/users?page=%00",
    ] {
        refused(&app, Method::Get, path, None, Some(&user)).await;
    }
    for path in [
        "/api/posts/-1",
        "/api/posts/99999999999999999999",
        "/api/users/0",
    ] {
        refused(
            &app,
            Method::Patch,
            path,
            Some(br#"{"title": "x"}"#),
            Some(&user),
        )
        .await;
        refused(&app, Method::Delete, path, None, Some(&user)).await;
    }
}

#[rocket::async_test]
async fn wrong_methods_are_4xx() {
    let app = spawn_app().await;
    let user = app.create_user("target").await;
    let post = app.create_post(&user, "p", true).await;
    for (method, path) in [
        (Method::Put, format!("/api/posts/{post}")),
        (Method::Delete, "/api/posts".to_owned()),
        (Method::Post, format!("/api/posts/{post}")),
        (Method::Patch, "/api/session".to_owned()),
        (Method::Put, "/api/users".to_owned()),
        (Method::Delete, "/api/me".to_owned()),
    ] {
        refused(&app, method, &path, Some(b"{}"), Some(&user)).await;
    }
}

#[rocket::async_test]
async fn path_traversal_reaches_nothing() {
    let app = spawn_app().await;
    for path in [
        "/api/users/..%2F..%2Fetc%2Fpasswd",
        "/api/posts/%2e%2e%2fCargo.toml",
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/..%2FCargo.toml",
        "/static/%2e%2e%2f%2e%2e%2fetc/passwd",
        "/posts/..%2f..%2fetc%2fpasswd",
    ] {
        let response = app.client.get(path).dispatch().await;
        let status = response.status();
        let body = response.into_string().await.unwrap_or_default();
        assert!((400..500).contains(&status.code), "{path}: {status}");
        assert!(
            !body.contains("[package]") && !body.contains("root:"),
            "{path} leaked a file"
        );
    }
}

#[rocket::async_test]
async fn sql_injection_in_every_text_field_is_stored_verbatim() {
    let app = spawn_app().await;
    let payload = "x'); DROP TABLE users; --";
    let user = app.create_user("bobby").await;
    let reply = app
        .patch(
            &format!("/api/users/{}", user.id),
            &json!({"name": payload}),
            Some(&user),
        )
        .await;
    assert_eq!(reply.status, Status::Ok);
    assert_eq!(reply.body["name"], payload);
    let id = app.create_post(&user, payload, true).await;
    assert_eq!(
        app.get(&format!("/api/posts/{id}"), None).await.body["title"],
        payload
    );
    assert_eq!(app.count_users(), 1);
    let login = app
        .post(
            "/api/session",
            &json!({"uid": "bobby' --", "password": "' OR '1'='1"}),
            None,
        )
        .await;
    assert_eq!(login.status, Status::Unauthorized);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    /// Whatever the title, the API answers 201 with it stored as given
    /// (trimmed), or 422 naming the field; never anything else.
    #[test]
    fn any_title_is_stored_as_given_or_refused_with_a_field_message(title in "\\PC{0,210}|[\\x00-\\x1f]{1,3}") {
        let (status, body, stored) = rocket::execute(async {
            let app = spawn_app().await;
            let user = app.create_user("fuzzer").await;
            let reply = app.post("/api/posts", &json!({"title": title, "content": "c"}), Some(&user)).await;
            (reply.status, reply.body, app.count_posts())
        });
        match status {
            Status::Created => {
                prop_assert_eq!(body["title"].as_str().unwrap(), title.trim());
                prop_assert_eq!(stored, 1);
            }
            Status::UnprocessableEntity => {
                prop_assert!(body["error"]["fields"]["title"].is_string(), "{}", body);
                prop_assert_eq!(stored, 0);
            }
            other => prop_assert!(false, "unexpected {} for {:?}: {}", other, title, body),
        }
    }
}

#[rocket::async_test]
async fn a_json_body_not_sent_as_json_is_415_so_forms_cannot_forge_it() {
    let app = spawn_app().await;
    app.create_user("victim").await;
    let before = app.snapshot();
    // What a cross-site <form enctype="text/plain"> can send.
    for kind in [
        ContentType::Plain,
        ContentType::Form,
        ContentType::new("multipart", "form-data"),
    ] {
        let response = app
            .client
            .post("/api/session")
            .header(kind.clone())
            .body(json!({"uid": "victim", "password": crate::helpers::PASSWORD}).to_string())
            .dispatch()
            .await;
        assert_eq!(response.status(), Status::UnsupportedMediaType, "{kind}");
        assert!(response.headers().get_one("Set-Cookie").is_none());
    }
    let no_type = app.client.post("/api/users").body("{}").dispatch().await;
    assert_eq!(no_type.status(), Status::UnsupportedMediaType);
    assert_eq!(app.snapshot(), before);
}

/// The account routes' JSON bodies, malformed every way: a clear 4xx and
/// nothing written, on each.
#[rocket::async_test]
async fn account_routes_refuse_hostile_bodies() {
    let app = spawn_app().await;
    let user = app.create_user("target").await;
    let nul = "a\u{0}b";
    let bodies: Vec<Vec<u8>> = vec![
        b"{not json".to_vec(),
        b"[]".to_vec(),
        b"\"a string\"".to_vec(),
        json!({"unknown": 1}).to_string().into_bytes(),
        json!({"token": 5, "code": [], "password": {}, "email": false, "uid": 1.5})
            .to_string()
            .into_bytes(),
        json!({"token": nul, "password": nul, "code": nul, "challenge": nul, "days": -1})
            .to_string()
            .into_bytes(),
        vec![0xff, 0xfe, 0x00],
    ];
    for path in [
        "/api/password-resets",
        "/api/password-resets/complete",
        "/api/email-verifications/complete",
        "/api/session",
        "/api/invites",
        "/api/me/two-factor/confirm",
        "/api/me/two-factor/disable",
    ] {
        for body in &bodies {
            let status = refused(&app, Method::Post, path, Some(body), Some(&user)).await;
            assert!(
                status.code >= 400 && status.code < 500,
                "{path} {:?}: {status}",
                String::from_utf8_lossy(body)
            );
        }
    }
}

#[rocket::async_test]
async fn publishing_fields_and_comments_refuse_hostile_input() {
    let app = spawn_app().await;
    let user = app.create_user("target").await;
    let post = app.create_post(&user, "p", true).await;
    let post_bodies: Vec<Vec<u8>> = vec![
        br#"{"title": "x", "content": "y", "tags": "rust"}"#.to_vec(),
        br#"{"title": "x", "content": "y", "tags": [1, 2]}"#.to_vec(),
        br#"{"title": "x", "content": "y", "tags": [null]}"#.to_vec(),
        br#"{"title": "x", "content": "y", "tags": ["a\u0000b"]}"#.to_vec(),
        br#"{"title": "x", "content": "y", "tags": ["'); DROP TABLE tags; --"]}"#.to_vec(),
        format!(
            r#"{{"title": "x", "content": "y", "tags": {:?}}}"#,
            (0..11).map(|n| format!("t{n}")).collect::<Vec<_>>()
        )
        .into_bytes(),
        format!(
            r#"{{"title": "x", "content": "y", "tags": ["{}"]}}"#,
            "a".repeat(10_000)
        )
        .into_bytes(),
        br#"{"title": "x", "content": "y", "publish_at": "tomorrow"}"#.to_vec(),
        br#"{"title": "x", "content": "y", "publish_at": 1733300000}"#.to_vec(),
        br#"{"title": "x", "content": "y", "publish_at": "99999-01-01T00:00:00Z"}"#.to_vec(),
        br#"{"title": "x", "content": "y", "publish_at": "2026-13-45T25:61:00Z"}"#.to_vec(),
        br#"{"title": "x", "content": "y", "comments_closed": "no"}"#.to_vec(),
    ];
    for body in &post_bodies {
        let status = refused(&app, Method::Post, "/api/posts", Some(body), Some(&user)).await;
        assert!(
            status == Status::BadRequest || status == Status::UnprocessableEntity,
            "{}: {status}",
            String::from_utf8_lossy(body)
        );
    }
    let path = format!("/api/posts/{post}/comments");
    for body in [
        br#"{"body": ""}"#.to_vec(),
        br#"{"body": null}"#.to_vec(),
        br#"{"body": ["a"]}"#.to_vec(),
        br#"{"body": "a\u0000b"}"#.to_vec(),
        br#"{"body": "x", "post_id": 9}"#.to_vec(),
        format!(r#"{{"body": "{}"}}"#, "y".repeat(2_001)).into_bytes(),
    ] {
        refused(&app, Method::Post, &path, Some(&body), Some(&user)).await;
    }
    for path in [
        "/api/posts/0/comments",
        "/api/posts/abc/comments",
        "/api/posts/1/comments?page=0",
        "/api/posts/1/comments?after=not-a-cursor",
        "/api/comments/-1",
        "/api/posts?tag=%00",
        "/api/posts?tag=a%20b",
    ] {
        refused(&app, Method::Get, path, None, Some(&user)).await;
    }
    for path in [
        "/tags/%00",
        "/tags/..%2f..%2fetc%2fpasswd",
        "/tags/a%20b/feed.xml",
    ] {
        let response = app.client.get(path).dispatch().await;
        assert!((400..500).contains(&response.status().code), "{path}");
    }
}
