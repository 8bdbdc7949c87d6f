//! The API's contract held both ways: a method a path does not have is a
//! 405 naming the ones it has, a query parameter given twice is refused on
//! every route, and every string rule the document declares on a request
//! body is the server's rule (a value just outside it is a 422, one just
//! inside is accepted), so the document cannot drift from the server
//! unnoticed.

use rocket::http::{Header, Method, Status};
use serde_json::Value;

use crate::helpers::{spawn_app, TestApp};

/// Sends `method path` with a bearer-less, cookie-less request and returns
/// the status, the `Allow` header and the JSON body.
async fn bare(app: &TestApp, method: Method, path: &str) -> (Status, Option<String>, Value) {
    let response = app.client.req(method, path.to_owned()).dispatch().await;
    let status = response.status();
    let allow = response.headers().get_one("Allow").map(str::to_owned);
    let text = response.into_string().await.unwrap_or_default();
    (
        status,
        allow,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

#[rocket::async_test]
async fn an_undeclared_method_is_a_405_that_names_the_path_s_methods() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        (Method::Trace, "/api/users", "GET, HEAD, POST"),
        (Method::Put, "/api/users", "GET, HEAD, POST"),
        (Method::Put, "/api/posts/1", "GET, HEAD, PATCH, DELETE"),
        (Method::Post, "/api/posts/1", "GET, HEAD, PATCH, DELETE"),
        // Whatever the id: the path template is what has the methods.
        (
            Method::Put,
            "/api/posts/not-a-number",
            "GET, HEAD, PATCH, DELETE",
        ),
        (Method::Options, "/api/me", "GET, HEAD"),
        (Method::Get, "/api/posts/1/image", "PUT, DELETE"),
        (Method::Get, "/api/session", "POST, DELETE"),
        (Method::Patch, "/api/posts/trending", "GET, HEAD"),
    ] {
        let (status, allowed, body) = bare(&app, method, path).await;
        assert_eq!(status, Status::MethodNotAllowed, "{method} {path}: {body}");
        assert_eq!(allowed.as_deref(), Some(allow), "{method} {path}");
        assert_eq!(body["error"]["status"], 405, "{method} {path}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(allow),
            "{body}"
        );
    }
    // DELETE /api/session is declared: it is not a 405.
    let (status, _, _) = bare(&app, Method::Delete, "/api/session").await;
    assert_eq!(status, Status::NoContent);
}

#[rocket::async_test]
async fn head_is_answered_where_get_is_and_unknown_paths_stay_404() {
    let app = spawn_app().await;
    let (status, allow, _) = bare(&app, Method::Head, "/api/posts").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(allow, None);
    let (status, allow, body) = bare(&app, Method::Head, "/api/session").await;
    assert_eq!(status, Status::MethodNotAllowed, "{body}");
    assert_eq!(allow.as_deref(), Some("POST, DELETE"));
    for (method, path) in [
        (Method::Get, "/api/nothing-here"),
        (Method::Put, "/api/posts/1/nothing"),
        (Method::Get, "/api"),
    ] {
        let (status, allow, body) = bare(&app, method, path).await;
        assert_eq!(status, Status::NotFound, "{method} {path}: {body}");
        assert_eq!(allow, None);
        assert_eq!(body["error"]["status"], 404);
    }
    // A declared method whose resource is missing is still a 404.
    let (status, allow, _) = bare(&app, Method::Get, "/api/posts/12345").await;
    assert_eq!((status, allow), (Status::NotFound, None));
}

#[rocket::async_test]
async fn a_query_parameter_given_twice_is_refused_on_every_route() {
    let app = spawn_app().await;
    let author = app.create_user("twice").await;
    let post = app.create_post(&author, "Twice", true).await;
    for (method, path, field) in [
        (Method::Get, "/api/posts?page=1&page=x".to_owned(), "page"),
        (Method::Get, "/api/posts?tag=a&tag=b".to_owned(), "tag"),
        (
            Method::Get,
            "/api/posts?per_page=5&q=x&per_page=5".to_owned(),
            "per_page",
        ),
        (
            Method::Get,
            "/api/users?sort=posts&sort=posts".to_owned(),
            "sort",
        ),
        (
            Method::Get,
            "/api/posts/trending?limit=1&limit=2".to_owned(),
            "limit",
        ),
        (
            Method::Get,
            format!("/api/posts/{post}/comments?after=a&after=b"),
            "after",
        ),
        // Decoded names are compared; routes without query parameters too.
        (Method::Get, "/api/me?x=1&%78=2".to_owned(), "x"),
        (
            Method::Get,
            format!("/api/posts/{post}?page=1&page=1"),
            "page",
        ),
        (Method::Delete, "/api/session?a&a".to_owned(), "a"),
        (Method::Post, "/api/users?u=1&u=2".to_owned(), "u"),
    ] {
        let (status, _, body) = bare(&app, method, &path).await;
        assert_eq!(
            status,
            Status::UnprocessableEntity,
            "{method} {path}: {body}"
        );
        assert_eq!(body["error"]["status"], 422);
        assert!(
            body["error"]["fields"][field].is_string(),
            "{method} {path}: {body}"
        );
    }
    // Nothing was done: the session route did not run, no user was made.
    assert_eq!(app.count_users(), 1);
    // Once each is fine.
    let (status, _, body) = bare(&app, Method::Get, "/api/posts?page=1&per_page=5").await;
    assert_eq!(status, Status::Ok, "{body}");
    let response = app
        .client
        .get("/api/posts?tag=a&tag=b")
        .header(Header::new("Accept", "application/json"))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
}
