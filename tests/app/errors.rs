//! Every error answers in one JSON shape with the right status, and bad
//! input never causes a 500 or a write.

use rocket::http::{ContentType, Status};
use serde_json::json;

use crate::helpers::spawn_app;

#[rocket::async_test]
async fn unknown_api_paths_answer_json_404() {
    let app = spawn_app().await;
    let reply = app.get("/api/nothing/here", None).await;
    assert_eq!(reply.status, Status::NotFound);
    assert_eq!(reply.body["error"]["status"], 404);
    assert!(!reply.error_message().is_empty());
    assert_eq!(
        app.get("/api/posts/12345", None).await.body["error"]["status"],
        404
    );
    assert_eq!(
        app.get("/api/users/12345", None).await.body["error"]["status"],
        404
    );
}

#[rocket::async_test]
async fn malformed_json_is_a_400() {
    let app = spawn_app().await;
    for body in ["{", "not json", "{\"uid\": }", ""] {
        let reply = app
            .send(rocket::http::Method::Post, "/api/users", Some(body), None)
            .await;
        assert_eq!(
            reply.status,
            Status::BadRequest,
            "{body:?}: {:?}",
            reply.body
        );
        assert_eq!(reply.body["error"]["status"], 400);
    }
    assert_eq!(app.count_users(), 0);
}

#[rocket::async_test]
async fn wrong_types_missing_and_unknown_fields_are_422s() {
    let app = spawn_app().await;
    let wrong_type = app
        .post(
            "/api/users",
            &json!({"uid": 5, "name": "n", "password": "p"}),
            None,
        )
        .await;
    assert_eq!(wrong_type.status, Status::UnprocessableEntity);

    let missing = app
        .post(
            "/api/users",
            &json!({"name": "n", "password": "pppppppp"}),
            None,
        )
        .await;
    assert_eq!(missing.status, Status::UnprocessableEntity);
    assert!(missing.field_error("uid").is_some(), "{:?}", missing.body);

    let unknown = app
        .post(
            "/api/users",
            &json!({"uid": "abc", "name": "n", "password": "pppppppp", "role": "admin"}),
            None,
        )
        .await;
    assert_eq!(unknown.status, Status::UnprocessableEntity);
    assert!(unknown.field_error("role").is_some(), "{:?}", unknown.body);
    assert_eq!(app.count_users(), 0, "nobody can sign themself up as admin");
}

#[rocket::async_test]
async fn a_body_over_the_json_limit_is_a_413() {
    let app = spawn_app().await;
    let author = app.create_user("big").await;
    let huge = json!({"title": "t", "content": "x".repeat(1024 * 1024 + 10)});
    let reply = app.post("/api/posts", &huge, Some(&author)).await;
    assert_eq!(reply.status, Status::PayloadTooLarge);
    assert_eq!(reply.body["error"]["status"], 413);
    assert_eq!(app.count_posts(), 0);
}

#[rocket::async_test]
async fn invalid_utf8_is_a_400() {
    let app = spawn_app().await;
    let response = app
        .client
        .post("/api/users")
        .header(ContentType::JSON)
        .body(&b"{\"uid\": \"\xff\xfe\"}"[..])
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::BadRequest);
    assert_eq!(app.count_users(), 0);
}

#[rocket::async_test]
async fn nul_bytes_and_control_characters_are_refused() {
    let app = spawn_app().await;
    let author = app.create_user("nul").await;
    let reply = app
        .post(
            "/api/posts",
            &json!({"title": "a\u{0}b", "content": "c\u{0}d"}),
            Some(&author),
        )
        .await;
    assert_eq!(reply.status, Status::UnprocessableEntity);
    assert!(reply.field_error("title").is_some() && reply.field_error("content").is_some());
    assert_eq!(app.count_posts(), 0);
    // Nor is a NUL in a login handle an error (PostgreSQL refuses such text).
    let login = app
        .post(
            "/api/session",
            &json!({"uid": "n\u{0}ul", "password": crate::helpers::PASSWORD}),
            None,
        )
        .await;
    assert_eq!(login.status, Status::Unauthorized, "{:?}", login.body);
}

#[rocket::async_test]
async fn bad_page_numbers_are_422s_not_500s() {
    let app = spawn_app().await;
    for query in [
        "page=0",
        "page=-1",
        "page=abc",
        "page=99999999999999999999",
        "per_page=0",
        "per_page=101",
        "user=abc",
    ] {
        let reply = app.get(&format!("/api/posts?{query}"), None).await;
        assert_eq!(
            reply.status,
            Status::UnprocessableEntity,
            "{query}: {:?}",
            reply.body
        );
        assert_eq!(reply.body["error"]["status"], 422);
    }
    // Numbered pages go as deep as is cheap; past the end of a short list
    // they are empty, past the cheap depth a 422 that says what to use.
    let empty = app.get("/api/posts?page=51", None).await;
    assert_eq!(empty.status, Status::Ok);
    assert_eq!(empty.body["items"], json!([]));
    let far = app.get("/api/posts?page=4000000000", None).await;
    assert_eq!(far.status, Status::UnprocessableEntity);
    assert!(
        far.field_error("page").unwrap().contains("next"),
        "{:?}",
        far.body
    );
}

#[rocket::async_test]
async fn non_numeric_and_huge_ids_are_4xx() {
    let app = spawn_app().await;
    for path in [
        "/api/posts/abc",
        "/api/posts/-1",
        "/api/posts/0",
        "/api/posts/99999999999999",
        "/api/users/..%2F..%2Fetc",
    ] {
        let reply = app.get(path, None).await;
        assert!(
            reply.status.code >= 400 && reply.status.code < 500,
            "{path}: {}",
            reply.status
        );
        assert!(
            reply.body["error"]["status"].is_u64(),
            "{path}: {:?}",
            reply.body
        );
    }
}

#[rocket::async_test]
async fn sql_injection_strings_are_stored_verbatim_and_harmless() {
    let app = spawn_app().await;
    let author = app.create_user("bobby").await;
    let title = "Robert'); DROP TABLE posts;--";
    let id = app.create_post(&author, title, true).await;
    let reply = app.get(&format!("/api/posts/{id}"), None).await;
    assert_eq!(reply.body["title"], title);
    assert_eq!(app.count_posts(), 1);
    let login = app
        .post(
            "/api/session",
            &json!({"uid": "' OR 1=1 --", "password": "' OR 1=1 --"}),
            None,
        )
        .await;
    assert_eq!(login.status, Status::Unauthorized);
}
