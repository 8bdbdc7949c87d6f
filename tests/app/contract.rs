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

/// Where each request body schema is sent to probe its rules: the method,
/// the path, who sends it, and a valid body to vary one field of.
struct Probe {
    method: Method,
    path: String,
    who: Option<crate::helpers::TestUser>,
    base: Value,
}

/// Request body fields the walk cannot probe, and why.
const NOT_PROBED: [(&str, &str); 1] = [(
    "PasswordResetComplete.password",
    "read only after the emailed token is found; the same rule as SignUp.password",
)];

/// The `pattern`s a string schema declares, its own and its `allOf`'s.
fn patterns(schema: &Value) -> Vec<String> {
    let mut found: Vec<String> = schema["pattern"]
        .as_str()
        .map(str::to_owned)
        .into_iter()
        .collect();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        found.extend(patterns(part));
    }
    found
}

/// Whether `value` keeps every rule `schema` declares for a string.
fn document_accepts(schema: &Value, value: &str) -> bool {
    let chars = value.chars().count() as u64;
    let min_ok = schema["minLength"].as_u64().is_none_or(|min| chars >= min);
    let max_ok = schema["maxLength"].as_u64().is_none_or(|max| chars <= max);
    min_ok
        && max_ok
        && patterns(schema).iter().all(|pattern| {
            regex::RegexBuilder::new(pattern)
                .size_limit(1 << 30)
                .build()
                .unwrap_or_else(|e| panic!("{pattern}: {e}"))
                .is_match(value)
        })
}

/// An email address of exactly `length` characters (at least 70).
fn email_of_length(length: usize) -> String {
    let mut email = format!("{}@", "a".repeat(64));
    while length - email.len() > 64 + 4 {
        email.push_str(&"b".repeat(63));
        email.push('.');
    }
    let rest = length - email.len();
    email.push_str(&"c".repeat(rest - 3));
    email.push_str(".de");
    email
}

/// Values near every rule of `schema`: its length bounds and the bounds in
/// its patterns' `{m,n}`, whitespace around, control characters, cases,
/// CR LF, non-ASCII letters, and shapes of emails, dates and tags.
fn probes(schema: &Value) -> Vec<String> {
    let mut bounds: Vec<usize> = ["minLength", "maxLength"]
        .iter()
        .filter_map(|key| schema[key].as_u64())
        .map(|n| n as usize)
        .collect();
    for pattern in patterns(schema) {
        for quantifier in pattern.split('{').skip(1) {
            let inside = quantifier.split('}').next().unwrap_or("");
            bounds.extend(inside.split(',').filter_map(|n| n.parse::<usize>().ok()));
        }
    }
    let mut values: Vec<String> = [
        "",
        " ",
        "a",
        "ab",
        "abc",
        "Abc",
        "ABC",
        "a_b-c",
        "a b",
        " abc ",
        "\tabc\n",
        "abc\u{0}",
        "a\u{7f}b",
        "\u{212A}ab",
        "é",
        "ééé",
        "a\u{85}b",
        "\u{85}abc\u{85}",
        "\u{a0}abc\u{a0}",
        "\u{feff}abc",
        "abc\u{1c}",
        "\u{2028}abc",
        "line\r\nline",
        "x\ry",
        "x\r",
        "x\n\t",
        "\n\n  ",
        "ab@example.com",
        " ab@example.com ",
        "AB@Example.COM",
        "a@b",
        "a@b.c",
        "a@-b.c",
        "a@b-.c",
        "a b@c.de",
        "a..b@c.de",
        "a@b..c",
        "(a)@b.cd",
        "a@@b.cd",
        "1906-12-09",
        " 1906-12-09\n",
        "1904-02-29",
        "1900-02-29",
        "2000-02-29",
        "1906-02-29",
        "1906-04-31",
        "1906-1-9",
        "+1906-12-09",
        "1899-12-31",
        "2030-01-01",
        "1906-12-9",
        "rust",
        "#rust",
        "##Rust",
        "# rust",
        "rust-lang",
        "rust_lang",
        "-",
        "correct horse",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for bound in bounds {
        for length in [bound.saturating_sub(1), bound, bound + 1] {
            values.push("x".repeat(length));
            values.push("é".repeat(length));
            values.push(format!(" {} ", "x".repeat(length)));
            values.push(format!("{}x", "x\r\n".repeat(length / 2)));
            values.push(format!("{}\n\n", "x".repeat(length)));
            if length >= 70 {
                values.push(email_of_length(length));
            }
        }
    }
    values.sort();
    values.dedup();
    values
}

#[rocket::async_test]
async fn every_string_rule_the_document_declares_on_a_request_body_is_the_server_s() {
    let app = spawn_app().await;
    let doc = crate::openapi::served_document(&app).await;
    let admin = app.create_admin("probe-admin").await;
    let author = app.create_user("probe-author").await;
    let post = app.create_post(&author, "Probed", true).await;
    let comment = app
        .post(
            &format!("/api/posts/{post}/comments"),
            &serde_json::json!({"body": "first"}),
            Some(&author),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let target = app.create_user("probe-target").await;
    let probe_of = |name: &str| -> Option<Probe> {
        let (method, path, who, base) = match name {
            "SignUp" => (
                Method::Post,
                "/api/users".to_owned(),
                None,
                serde_json::json!({"uid": "probe-new", "name": "Probe", "password": "correct horse battery"}),
            ),
            "UserPatch" => (
                Method::Patch,
                format!("/api/users/{}", author.id),
                Some(author.clone()),
                serde_json::json!({"current_password": crate::helpers::PASSWORD}),
            ),
            "PostDraft" => (
                Method::Post,
                "/api/posts".to_owned(),
                Some(author.clone()),
                serde_json::json!({"title": "A title", "content": "Some text"}),
            ),
            "PostPatch" => (
                Method::Patch,
                format!("/api/posts/{post}"),
                Some(author.clone()),
                serde_json::json!({}),
            ),
            "CommentDraft" => (
                Method::Patch,
                format!("/api/comments/{comment}"),
                Some(author.clone()),
                serde_json::json!({}),
            ),
            "NewToken" => (
                Method::Post,
                "/api/tokens".to_owned(),
                Some(author.clone()),
                serde_json::json!({}),
            ),
            "Suspend" => (
                Method::Post,
                format!("/api/users/{}/suspension", target.id),
                Some(admin.clone()),
                serde_json::json!({}),
            ),
            _ => return None,
        };
        Some(Probe {
            method,
            path,
            who,
            base,
        })
    };

    let mut problems = Vec::new();
    let mut probed = 0;
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for (name, schema) in schemas {
        let Some(properties) = schema["properties"].as_object() else {
            continue;
        };
        if schema["additionalProperties"] != Value::Bool(false) {
            continue; // responses: requests are closed objects
        }
        for (field, property) in properties {
            // A string field, or an array of strings (its items' rules).
            let (rules, in_array) = if property["type"] == "array" {
                (&property["items"], true)
            } else {
                (property, false)
            };
            let constrained = ["minLength", "maxLength", "pattern", "allOf"]
                .iter()
                .any(|key| !rules[key].is_null());
            if rules["type"] != "string" || !constrained {
                continue;
            }
            let label = format!("{name}.{field}");
            if NOT_PROBED.iter().any(|(skipped, _)| *skipped == label) {
                continue;
            }
            let Some(mut probe) = probe_of(name) else {
                problems.push(format!(
                    "{label}: no way to probe {name} (add it to probe_of)"
                ));
                continue;
            };
            for value in probes(rules) {
                let expected = document_accepts(rules, &value);
                let mut body = probe.base.clone();
                body[field] = if in_array {
                    serde_json::json!([value])
                } else {
                    Value::String(value.clone())
                };
                let reply = app
                    .send(
                        probe.method,
                        &probe.path,
                        Some(&body.to_string()),
                        probe.who.as_ref(),
                    )
                    .await;
                probed += 1;
                let refused = reply.status == Status::UnprocessableEntity
                    && reply.field_error(field).is_some();
                if reply.status.code >= 500 || refused == expected {
                    problems.push(format!(
                        "{label} = {value:?} ({} chars): the document {} it, the server answered {} {}",
                        value.chars().count(),
                        if expected { "accepts" } else { "refuses" },
                        reply.status.code,
                        reply.body
                    ));
                }
                if label == "UserPatch.password" && !refused {
                    probe.base["current_password"] = Value::String(value.clone());
                }
            }
            // Arrays: as many items as `maxItems`, and one more.
            if let Some(max) = property["maxItems"].as_u64() {
                for (count, expected) in [(max, true), (max + 1, false)] {
                    let mut body = probe.base.clone();
                    body[field] = Value::Array(vec![Value::from("probe"); count as usize]);
                    let reply = app
                        .send(
                            probe.method,
                            &probe.path,
                            Some(&body.to_string()),
                            probe.who.as_ref(),
                        )
                        .await;
                    let refused = reply.status == Status::UnprocessableEntity
                        && reply.field_error(field).is_some();
                    if refused == expected {
                        problems.push(format!("{label} with {count} items: {}", reply.body));
                    }
                }
            }
        }
    }
    assert!(probed > 500, "only {probed} probes");
    assert!(
        problems.is_empty(),
        "{} disagreements:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
