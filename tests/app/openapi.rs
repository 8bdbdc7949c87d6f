//! The OpenAPI document served at `/api/openapi.json` against the app
//! itself: every `/api` route Rocket mounts is documented and every
//! documented operation is mounted; real responses have a documented status
//! and match the documented schema for it; and `/api/docs` shows it all.

use std::collections::BTreeSet;

use rocket::http::{ContentType, Cookie, Method, Status};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, TestUser, PASSWORD};

/// The operations OpenAPI can describe under a path.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The document as the app serves it.
pub async fn served_document(app: &TestApp) -> Value {
    let response = app.client.get("/api/openapi.json").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.content_type(), Some(ContentType::JSON));
    let text = response.into_string().await.expect("a body");
    serde_json::from_str(&text).expect("/api/openapi.json is JSON")
}

/// Follows `#/...` references within the document.
fn resolve<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    while let Some(target) = value["$ref"].as_str() {
        value = target
            .strip_prefix('#')
            .and_then(|pointer| doc.pointer(pointer))
            .unwrap_or_else(|| panic!("unresolved $ref {target}"));
    }
    value
}

/// Checks `value` against `schema`, pushing each mismatch onto `problems`.
/// Handles what this document uses: `$ref`, `type`, `nullable`, `enum`,
/// `format` (`date-time` in UTC, `date`), `minimum`/`maximum`, `required`,
/// `properties`, `additionalProperties` and `items`. Stricter than OpenAPI
/// in one way: a response field the schema does not name is a mismatch
/// unless `additionalProperties` allows it, so the document must name every
/// field the server sends.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    let mut fail = |message: String| problems.push(format!("{at}: {message} (got {value})"));
    if value.is_null() {
        if schema["nullable"] != true {
            fail("null, but not nullable".into());
        }
        return;
    }
    let kind = schema["type"].as_str().unwrap_or("");
    let type_ok = match kind {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "" => true,
        other => panic!("{at}: the validator does not know type {other}"),
    };
    if !type_ok {
        return fail(format!("not of type {kind}"));
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            fail(format!("not one of {allowed:?}"));
        }
    }
    if let (Some(format), Some(text)) = (schema["format"].as_str(), value.as_str()) {
        let format_ok = match format {
            "date-time" => {
                text.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(text).is_ok()
            }
            "date" => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
            "email" => text.contains('@'),
            _ => true,
        };
        if !format_ok {
            fail(format!("not a {format}"));
        }
    }
    if let Some(number) = value.as_f64() {
        if schema["minimum"].as_f64().is_some_and(|min| number < min) {
            fail("below the minimum".into());
        }
        if schema["maximum"].as_f64().is_some_and(|max| number > max) {
            fail("above the maximum".into());
        }
    }
    if let Some(items) = value.as_array() {
        for (index, item) in items.iter().enumerate() {
            check(
                doc,
                &schema["items"],
                item,
                &format!("{at}[{index}]"),
                problems,
            );
        }
    }
    if let Some(fields) = value.as_object() {
        for required in schema["required"].as_array().into_iter().flatten() {
            let name = required.as_str().unwrap();
            if !fields.contains_key(name) {
                problems.push(format!("{at}: required field {name} is missing"));
            }
        }
        for (name, field) in fields {
            let path = format!("{at}.{name}");
            match (&schema["properties"][name], &schema["additionalProperties"]) {
                (Value::Object(property), _) => {
                    check(
                        doc,
                        &Value::Object(property.clone()),
                        field,
                        &path,
                        problems,
                    );
                }
                (_, Value::Object(other)) => {
                    check(doc, &Value::Object(other.clone()), field, &path, problems);
                }
                (_, Value::Bool(true)) => {}
                _ => problems.push(format!("{path}: not in the schema")),
            }
        }
    }
}

/// `/api/users/<id>` as OpenAPI writes it: `/api/users/{id}`.
fn openapi_path(rocket_path: &str) -> String {
    rocket_path
        .split('/')
        .map(|segment| match segment.strip_prefix('<') {
            Some(name) => format!("{{{}}}", name.trim_end_matches('>').trim_end_matches("..")),
            None => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every (path, method) the document describes.
fn documented_operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                operations.insert((path.clone(), method.to_owned()));
            }
        }
    }
    operations
}

/// The documented path `concrete` (a real request path) is an instance of.
fn template_of(doc: &Value, concrete: &str) -> String {
    let path = concrete.split('?').next().unwrap();
    let segments: Vec<&str> = path.split('/').collect();
    doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .find(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            parts.len() == segments.len()
                && parts
                    .iter()
                    .zip(&segments)
                    .all(|(part, segment)| part.starts_with('{') || part == segment)
        })
        .unwrap_or_else(|| panic!("no documented path for {concrete}"))
        .clone()
}

/// A response as far as the document speaks of it.
struct Answer {
    status: Status,
    body: Value,
}

/// Sends requests to the app and checks each answer against the document:
/// the status must be documented for the operation, the body must match
/// the schema documented for that status (or be empty if none is), and the
/// headers documented as required must be there. Remembers which statuses it saw.
struct Contract<'a> {
    app: &'a TestApp,
    doc: Value,
    seen: BTreeSet<(String, String, u16)>,
}

impl<'a> Contract<'a> {
    async fn new(app: &'a TestApp) -> Self {
        Contract {
            app,
            doc: served_document(app).await,
            seen: BTreeSet::new(),
        }
    }

    async fn call(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&str>,
        who: Option<&TestUser>,
    ) -> Answer {
        self.call_with_cookie(method, path, body, who.map(|user| user.cookie.as_str()))
            .await
    }

    async fn call_with_cookie(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&str>,
        cookie: Option<&str>,
    ) -> Answer {
        let mut request = self.app.client.req(method, path.to_owned());
        if let Some(body) = body {
            request = request.header(ContentType::JSON).body(body);
        }
        if let Some(cookie) = cookie {
            request = request.cookie(Cookie::new("portfolio_session", cookie.to_owned()));
        }
        let response = request.dispatch().await;
        let status = response.status();
        let headers: Vec<String> = response
            .headers()
            .iter()
            .map(|header| header.name().as_str().to_ascii_lowercase())
            .collect();
        let content_type = response.content_type();
        let text = response.into_string().await.unwrap_or_default();

        let template = template_of(&self.doc, path);
        let verb = method.as_str().to_ascii_lowercase();
        let what = format!("{method} {path} -> {status}");
        let operation = &self.doc["paths"][&template][&verb];
        assert!(
            operation.is_object(),
            "{what}: {verb} {template} is not documented"
        );
        let responses = &operation["responses"];
        let documented = responses.get(status.code.to_string()).unwrap_or_else(|| {
            let known: Vec<&String> = responses.as_object().unwrap().keys().collect();
            panic!("{what}: status not documented (documented: {known:?}); body: {text}")
        });
        let documented = resolve(&self.doc, documented);
        let required_headers = documented["headers"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, header)| resolve(&self.doc, header)["required"] == true);
        for (header, _) in required_headers {
            assert!(
                headers.contains(&header.to_ascii_lowercase()),
                "{what}: required header {header} missing (got {headers:?})"
            );
        }
        let body = match documented["content"]["application/json"].get("schema") {
            Some(schema) => {
                assert_eq!(content_type, Some(ContentType::JSON), "{what}: {text}");
                let body: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {text}"));
                let mut problems = Vec::new();
                check(&self.doc, schema, &body, "body", &mut problems);
                assert!(
                    problems.is_empty(),
                    "{what}: the body does not match the document:\n  {}\nbody: {body:#}",
                    problems.join("\n  ")
                );
                if status.code >= 400 {
                    assert_eq!(body["error"]["status"], status.code, "{what}: {body}");
                }
                body
            }
            None if documented["content"].is_object() => Value::String(text),
            None => {
                assert!(text.is_empty(), "{what}: documented without a body: {text}");
                Value::Null
            }
        };
        self.seen.insert((template, verb, status.code));
        Answer { status, body }
    }

    async fn get(&mut self, path: &str, who: Option<&TestUser>) -> Answer {
        self.call(Method::Get, path, None, who).await
    }

    async fn post(&mut self, path: &str, body: Value, who: Option<&TestUser>) -> Answer {
        self.call(Method::Post, path, Some(&body.to_string()), who)
            .await
    }

    async fn patch(&mut self, path: &str, body: Value, who: Option<&TestUser>) -> Answer {
        self.call(Method::Patch, path, Some(&body.to_string()), who)
            .await
    }

    async fn delete(&mut self, path: &str, who: Option<&TestUser>) -> Answer {
        self.call(Method::Delete, path, None, who).await
    }

    /// The documented operations that were not seen answering `wanted`.
    fn missing(&self, wanted: impl Fn(u16) -> bool) -> Vec<(String, String)> {
        documented_operations(&self.doc)
            .into_iter()
            .filter(|(path, method)| {
                !self
                    .seen
                    .iter()
                    .any(|(p, m, status)| p == path && m == method && wanted(*status))
            })
            .collect()
    }
}

#[rocket::async_test]
async fn every_mounted_api_route_is_documented_and_every_documented_one_is_mounted() {
    let app = spawn_app().await;
    let doc = served_document(&app).await;
    let mounted: BTreeSet<(String, String)> = app
        .client
        .rocket()
        .routes()
        // The gate before every API route (405s, repeated query
        // parameters) serves no operation of its own.
        .filter(|route| route.name.as_deref() != Some(portfolio::web::api::CONTRACT_GATE_ROUTE))
        .map(|route| {
            (
                openapi_path(route.uri.path()),
                route.method.as_str().to_ascii_lowercase(),
            )
        })
        .collect();
    let mounted_api: BTreeSet<(String, String)> = mounted
        .iter()
        .filter(|(path, _)| path == "/api" || path.starts_with("/api/"))
        .cloned()
        .collect();
    assert!(
        mounted_api.len() >= 13,
        "the API routes are mounted: {mounted_api:?}"
    );
    let documented = documented_operations(&doc);

    let undocumented: Vec<_> = mounted_api.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "mounted but not in the document: {undocumented:?}"
    );
    let unmounted: Vec<_> = documented.difference(&mounted).collect();
    assert!(
        unmounted.is_empty(),
        "in the document but not mounted: {unmounted:?}"
    );
}

#[rocket::async_test]
async fn the_document_is_openapi_3_and_self_consistent() {
    let app = spawn_app().await;
    let doc = served_document(&app).await;
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let session = &doc["components"]["securitySchemes"]["session"];
    assert_eq!(
        (&session["type"], &session["in"], &session["name"]),
        (
            &json!("apiKey"),
            &json!("cookie"),
            &json!("portfolio_session")
        )
    );
    for name in [
        "User",
        "Post",
        "Author",
        "UserPage",
        "PostPage",
        "Error",
        "SignUp",
        "UserPatch",
        "PostDraft",
        "PostPatch",
        "Credentials",
    ] {
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "schema {name} is missing"
        );
    }
    // Request bodies are closed, as the server rejects unknown fields.
    for name in [
        "SignUp",
        "UserPatch",
        "PostDraft",
        "PostPatch",
        "Credentials",
    ] {
        assert_eq!(
            doc["components"]["schemas"][name]["additionalProperties"], false,
            "{name}"
        );
    }

    // Every reference leads somewhere.
    fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    found.push(target);
                }
                map.values().for_each(|v| refs(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(!found.is_empty());
    for target in found {
        assert!(
            target
                .strip_prefix('#')
                .and_then(|pointer| doc.pointer(pointer))
                .is_some(),
            "unresolved $ref {target}"
        );
    }

    // Every operation has a summary and a success response, and each path
    // parameter of its path is declared.
    for (path, method) in documented_operations(&doc) {
        let item = &doc["paths"][&path];
        let operation = &item[&method];
        assert!(operation["summary"].is_string(), "{method} {path}");
        let responses = operation["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|status| status.starts_with('2')),
            "{method} {path} has no success response"
        );
        let parameters: Vec<&Value> = item["parameters"]
            .as_array()
            .into_iter()
            .chain(operation["parameters"].as_array())
            .flatten()
            .map(|p| resolve(&doc, p))
            .collect();
        for segment in path.split('/').filter(|s| s.starts_with('{')) {
            let name = segment.trim_matches(|c| c == '{' || c == '}');
            assert!(
                parameters
                    .iter()
                    .any(|p| p["name"] == name && p["in"] == "path" && p["required"] == true),
                "{method} {path}: path parameter {name} is not declared"
            );
        }
    }
}

/// Tera escapes `/` and friends; the page's text, unescaped.
fn unescape_html(html: &str) -> String {
    html.replace("&#x2F;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[rocket::async_test]
async fn the_docs_page_shows_every_operation_without_script() {
    let app = spawn_app().await;
    let doc = served_document(&app).await;
    let response = app.client.get("/api/docs").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    assert_eq!(response.content_type(), Some(ContentType::HTML));
    let html = response.into_string().await.unwrap();
    assert!(html.contains("<html"), "{html}");
    assert!(
        !html.contains("<script"),
        "no script: the CSP forbids inline ones"
    );
    assert!(
        !html.contains(" style="),
        "no inline style: the CSP forbids it"
    );
    let page = unescape_html(&html);
    for (path, method) in documented_operations(&doc) {
        let operation = &doc["paths"][&path][&method];
        let heading = format!("{} {path}", method.to_uppercase());
        assert!(page.contains(&heading), "the page lacks {heading}");
        let summary = operation["summary"].as_str().unwrap();
        assert!(page.contains(summary), "the page lacks {summary:?}");
    }
    for name in doc["components"]["schemas"].as_object().unwrap().keys() {
        assert!(
            page.contains(&format!("id=\"schema-{name}\"")),
            "the page lacks schema {name}"
        );
    }
    for parameter in ["per_page", "page", "user", "id"] {
        assert!(page.contains(&format!("<code>{parameter}</code>")));
    }
}

#[rocket::async_test]
async fn every_operation_answers_its_documented_success_shape() {
    let smtp = crate::smtp::SmtpServer::start();
    let app = crate::helpers::spawn_configured(false, |figment| {
        figment
            .merge(("smtp_url", crate::smtp::smtp_url(smtp.port)))
            .merge(("mail_from", "noreply@portfolio.test"))
            .merge(("public_url", "https://portfolio.test"))
    })
    .await;
    let mut api = Contract::new(&app).await;

    // Users: sign up (with every optional field, and without), list, show.
    let signed_up = api
        .post(
            "/api/users",
            json!({"uid": "Grace", "name": "Grace Hopper", "password": PASSWORD,
                   "email": "grace@navy.mil", "dob": "1906-12-09"}),
            None,
        )
        .await;
    assert_eq!(signed_up.status, Status::Created);
    assert_eq!(signed_up.body["uid"], "grace");
    assert_eq!(signed_up.body["email"], "grace@navy.mil");
    assert!(signed_up.body["age"].is_u64());
    let bare = api
        .post(
            "/api/users",
            json!({"uid": "bare", "name": "Bare", "password": PASSWORD, "email": null, "dob": ""}),
            None,
        )
        .await;
    assert_eq!(bare.status, Status::Created);
    assert_eq!(bare.body["email"], Value::Null, "present, and null");
    assert_eq!(bare.body["dob"], Value::Null);
    assert_eq!(bare.body["age"], Value::Null);

    // Log in and see yourself.
    let logged_in = api
        .post(
            "/api/session",
            json!({"uid": "GRACE", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(logged_in.status, Status::Ok);
    let grace = TestUser {
        id: signed_up.body["id"].as_i64().unwrap() as i32,
        uid: "grace".into(),
        cookie: app.log_in("grace", PASSWORD).await,
    };
    let me = api.get("/api/me", Some(&grace)).await;
    assert_eq!(me.status, Status::Ok);
    assert_eq!(me.body["email"], "grace@navy.mil");

    // An address verified by the mailed link (sign-up sent one), and a
    // new link asked for.
    let resent = api
        .post("/api/email-verifications", json!(null), Some(&grace))
        .await;
    assert_eq!(resent.status, Status::Accepted);
    let verify = smtp.wait_for_mail("Verify your email address", 2).await;
    let link = verify.last().unwrap().link("token=");
    let verified = api
        .post(
            "/api/email-verifications/complete",
            json!({"token": link.split("token=").nth(1).unwrap()}),
            None,
        )
        .await;
    assert_eq!(verified.status, Status::Ok);
    assert_eq!(verified.body["email_verified"], true);

    let admin = app.create_admin("admin").await;
    let ada = app.create_user("ada").await;
    for n in 0..3 {
        app.create_post(&ada, &format!("Post {n}"), true).await;
    }
    let draft = app.create_post(&ada, "Draft", false).await;

    // Listings, anonymous and logged in, with neighbours on both sides.
    let users = api.get("/api/users?page=2&per_page=1", None).await;
    assert_eq!(users.status, Status::Ok);
    assert!(users.body["next"].is_string() && users.body["prev"].is_string());
    assert!(users.body["items"][0].get("email").is_none(), "private");
    let as_admin = api.get("/api/users?per_page=100", Some(&admin)).await;
    assert!(as_admin.body["items"][0].get("email").is_some());
    let user = api.get(&format!("/api/users/{}", ada.id), None).await;
    assert_eq!(user.status, Status::Ok);
    assert_eq!(user.body["post_count"], 3);

    let posts = api.get("/api/posts?page=2&per_page=1", None).await;
    assert_eq!(posts.status, Status::Ok);
    assert!(posts.body["next"].is_string() && posts.body["prev"].is_string());
    let own = api
        .get(&format!("/api/posts?user={}", ada.id), Some(&ada))
        .await;
    assert_eq!(own.body["total"], 4, "with the draft");
    assert_eq!(own.body["next"], Value::Null);
    let empty = api.get("/api/posts?page=50", None).await;
    assert_eq!(empty.body["items"], json!([]));

    // Posts: write, show, change, delete.
    let written = api
        .post(
            "/api/posts",
            json!({"title": "Compilers", "content": "The *first* one."}),
            Some(&grace),
        )
        .await;
    assert_eq!(written.status, Status::Created);
    assert_eq!(written.body["published"], true);
    let found = api.get("/api/posts?q=first%20compilers", None).await;
    assert_eq!(found.status, Status::Ok);
    assert!(found.body["items"][0]["snippet_html"].is_string());
    let trending = api.get("/api/posts/trending?limit=5", None).await;
    assert_eq!(trending.status, Status::Ok);
    let token = api
        .post("/api/tokens", json!({"name": "openapi"}), Some(&grace))
        .await;
    assert_eq!(token.status, Status::Created);
    let tokens = api.get("/api/tokens", Some(&grace)).await;
    assert_eq!(tokens.status, Status::Ok);
    let token_id = token.body["id"].as_i64().unwrap();
    let revoked = api
        .delete(&format!("/api/tokens/{token_id}"), Some(&grace))
        .await;
    assert_eq!(revoked.status, Status::NoContent);
    assert_eq!(written.body["image"], Value::Null);
    let id = written.body["id"].as_i64().unwrap();
    let shown = api.get(&format!("/api/posts/{id}"), None).await;
    assert_eq!(shown.status, Status::Ok);
    assert_eq!(shown.body["author"]["uid"], "grace");
    let shown_draft = api.get(&format!("/api/posts/{draft}"), Some(&ada)).await;
    assert_eq!(shown_draft.body["published"], false);
    let changed = api
        .patch(
            &format!("/api/posts/{id}"),
            json!({"title": "Compilers, again", "published": false}),
            Some(&grace),
        )
        .await;
    assert_eq!(changed.status, Status::Ok);
    let untouched = api
        .patch(&format!("/api/posts/{id}"), json!({}), Some(&admin))
        .await;
    assert_eq!(untouched.status, Status::Ok);
    let pictured = api
        .call(
            Method::Put,
            &format!("/api/posts/{id}/image"),
            Some("GIF89a\u{1}\u{0}\u{1}\u{0}"),
            Some(&grace),
        )
        .await;
    assert_eq!(pictured.status, Status::Ok);
    assert!(pictured.body["image"]
        .as_str()
        .unwrap()
        .starts_with("/uploads/"));
    let unpictured = api
        .delete(&format!("/api/posts/{id}/image"), Some(&grace))
        .await;
    assert_eq!(unpictured.status, Status::Ok);
    // Comments: made on a published post, listed, shown, changed, deleted.
    let public = api.get("/api/posts?per_page=1", None).await.body["items"][0]["id"].clone();
    let comment = api
        .post(
            &format!("/api/posts/{public}/comments"),
            json!({"body": "A *fine* post."}),
            Some(&grace),
        )
        .await;
    assert_eq!(comment.status, Status::Created);
    let comment_id = comment.body["id"].as_i64().unwrap();
    let comments = api
        .get(&format!("/api/posts/{public}/comments?per_page=1"), None)
        .await;
    assert_eq!(comments.status, Status::Ok);
    assert_eq!(
        comments.body["items"][0]["body_html"],
        "<p>A <em>fine</em> post.</p>\n"
    );
    let one = api.get(&format!("/api/comments/{comment_id}"), None).await;
    assert_eq!(one.status, Status::Ok);
    let edited = api
        .patch(
            &format!("/api/comments/{comment_id}"),
            json!({"body": "A fine post, really."}),
            Some(&grace),
        )
        .await;
    assert_eq!(edited.status, Status::Ok);
    let uncommented = api
        .delete(&format!("/api/comments/{comment_id}"), Some(&admin))
        .await;
    assert_eq!(uncommented.status, Status::NoContent);

    let removed = api.delete(&format!("/api/posts/{id}"), Some(&grace)).await;
    assert_eq!(removed.status, Status::NoContent);

    // Accounts: change yourself, be changed by an admin, delete.
    let patched = api
        .patch(
            &format!("/api/users/{}", grace.id),
            json!({"name": "Rear Admiral Hopper", "email": null, "dob": null,
                   "password": "a brand new password", "current_password": PASSWORD}),
            Some(&grace),
        )
        .await;
    assert_eq!(patched.status, Status::Ok);
    assert_eq!(patched.body["email"], Value::Null);
    let promoted = api
        .patch(
            &format!("/api/users/{}", ada.id),
            json!({"role": "admin"}),
            Some(&admin),
        )
        .await;
    assert_eq!(promoted.body["role"], "admin");
    let deleted = api
        .delete(&format!("/api/users/{}", grace.id), Some(&grace))
        .await;
    assert_eq!(deleted.status, Status::NoContent);

    // Invites: made, listed, withdrawn.
    let invite = api
        .post("/api/invites", json!({"days": 3}), Some(&admin))
        .await;
    assert_eq!(invite.status, Status::Created);
    assert!(invite.body["token"].is_string());
    let invites = api.get("/api/invites", Some(&admin)).await;
    assert_eq!(invites.status, Status::Ok);
    let withdrawn = api
        .delete(&format!("/api/invites/{}", invite.body["id"]), Some(&admin))
        .await;
    assert_eq!(withdrawn.status, Status::NoContent);

    // Two-factor login: set up, confirmed, used at login, turned off.
    let begun = api
        .post("/api/me/two-factor", json!(null), Some(&ada))
        .await;
    assert_eq!(begun.status, Status::Ok);
    let secret = begun.body["secret"].as_str().unwrap().to_owned();
    let code = |steps: i64| {
        let time = portfolio::domain::two_factor::clock() as i64 + steps * 30;
        portfolio::domain::two_factor::code_at(&secret, time as u64).unwrap()
    };
    let on = api
        .post(
            "/api/me/two-factor/confirm",
            json!({"code": code(-1)}),
            Some(&ada),
        )
        .await;
    assert_eq!(on.status, Status::Ok);
    let first_step = api
        .post(
            "/api/session",
            json!({"uid": "ada", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(first_step.body["error"]["code"], "second_factor_required");
    let second = api
        .post(
            "/api/session",
            json!({"challenge": first_step.body["error"]["challenge"], "code": code(0)}),
            None,
        )
        .await;
    assert_eq!(second.status, Status::Ok);
    let off = api
        .post(
            "/api/me/two-factor/disable",
            json!({"password": PASSWORD, "code": on.body["recovery_codes"][0]}),
            Some(&ada),
        )
        .await;
    assert_eq!(off.status, Status::NoContent);

    // A suspension, and its lifting.
    let suspended = api
        .post(
            &format!("/api/users/{}/suspension", ada.id),
            json!({"reason": "a test"}),
            Some(&admin),
        )
        .await;
    assert_eq!(suspended.status, Status::Ok);
    assert_eq!(suspended.body["suspension"]["reason"], "a test");
    let lifted = api
        .delete(&format!("/api/users/{}/suspension", ada.id), Some(&admin))
        .await;
    assert_eq!(lifted.status, Status::Ok);

    // A forgotten password, reset by the mailed link.
    let asked = api
        .post("/api/password-resets", json!({"uid": "ada"}), None)
        .await;
    assert_eq!(asked.status, Status::Accepted);
    let patched_email = api
        .patch(
            &format!("/api/users/{}", ada.id),
            json!({"email": "ada@example.org"}),
            Some(&admin),
        )
        .await;
    assert_eq!(patched_email.status, Status::Ok);
    api.post(
        "/api/password-resets",
        json!({"email": "ada@example.org"}),
        None,
    )
    .await;
    let link = smtp.wait_for_mail("Set a new password", 1).await[0].link("token=");
    let token = link.split("token=").nth(1).unwrap();
    let reset = api
        .post(
            "/api/password-resets/complete",
            json!({"token": token, "password": "reset by the link"}),
            None,
        )
        .await;
    assert_eq!(reset.status, Status::Ok);
    let ada = TestUser {
        cookie: app.log_in("ada", "reset by the link").await,
        ..ada
    };

    // Log out, and the document itself.
    let logged_out = api.delete("/api/session", Some(&ada)).await;
    assert_eq!(logged_out.status, Status::NoContent);
    let bare_logout = api.delete("/api/session", None).await;
    assert_eq!(bare_logout.status, Status::NoContent);
    assert_eq!(api.get("/api/openapi.json", None).await.status, Status::Ok);
    assert_eq!(api.get("/api/docs", Some(&admin)).await.status, Status::Ok);

    let missing = api.missing(|status| (200..300).contains(&status));
    assert!(
        missing.is_empty(),
        "operations never seen succeeding: {missing:?}"
    );
}

#[rocket::async_test]
async fn error_responses_match_the_documented_error_shape() {
    let app = spawn_app().await;
    let mut api = Contract::new(&app).await;
    let admin = app.create_admin("admin").await;
    let ada = app.create_user("ada").await;
    let bob = app.create_user("bob").await;
    let published = app.create_post(&ada, "Public", true).await;
    let draft = app.create_post(&ada, "Draft", false).await;

    // 401: not logged in, and a session cookie that no longer holds, even
    // on routes open to anyone.
    for (method, path) in [
        (Method::Get, "/api/me".to_owned()),
        (Method::Get, "/api/tokens".to_owned()),
        (Method::Delete, "/api/tokens/1".to_owned()),
        (Method::Delete, format!("/api/posts/{published}")),
        (Method::Delete, format!("/api/users/{}", ada.id)),
    ] {
        let answer = api.call(method, &path, None, None).await;
        assert_eq!(answer.status, Status::Unauthorized, "{path}");
    }
    let unauthorized = api
        .post("/api/posts", json!({"title": "t", "content": "c"}), None)
        .await;
    assert_eq!(unauthorized.status, Status::Unauthorized);
    let unauthorized = api.post("/api/tokens", json!({"name": "t"}), None).await;
    assert_eq!(unauthorized.status, Status::Unauthorized);
    let unnamed = api
        .post("/api/tokens", json!({"name": " "}), Some(&ada))
        .await;
    assert_eq!(unnamed.status, Status::UnprocessableEntity);
    let not_hers = api.delete("/api/tokens/999", Some(&ada)).await;
    assert_eq!(not_hers.status, Status::NotFound);
    let not_an_image = api
        .call(
            Method::Put,
            &format!("/api/posts/{published}/image"),
            Some("plain text"),
            Some(&ada),
        )
        .await;
    assert_eq!(not_an_image.status, Status::UnprocessableEntity);
    let anonymous = api
        .call(
            Method::Delete,
            &format!("/api/posts/{published}/image"),
            None,
            None,
        )
        .await;
    assert_eq!(anonymous.status, Status::Unauthorized);
    let unauthorized = api
        .patch(&format!("/api/posts/{published}"), json!({}), None)
        .await;
    assert_eq!(unauthorized.status, Status::Unauthorized);
    let unauthorized = api
        .patch(&format!("/api/users/{}", ada.id), json!({}), None)
        .await;
    assert_eq!(unauthorized.status, Status::Unauthorized);
    let stale = "not a session";
    for path in [
        "/api/users".to_owned(),
        format!("/api/users/{}", ada.id),
        "/api/posts".to_owned(),
        format!("/api/posts/{published}"),
    ] {
        let answer = api
            .call_with_cookie(Method::Get, &path, None, Some(stale))
            .await;
        assert_eq!(answer.status, Status::Unauthorized, "{path}");
    }
    let stale_logout = api
        .call_with_cookie(Method::Delete, "/api/session", None, Some(stale))
        .await;
    assert_eq!(stale_logout.status, Status::NoContent);
    let wrong_password = api
        .post(
            "/api/session",
            json!({"uid": "ada", "password": "not the password"}),
            None,
        )
        .await;
    assert_eq!(wrong_password.status, Status::Unauthorized);

    // 403: someone else's published post or account.
    let forbidden = api
        .patch(
            &format!("/api/posts/{published}"),
            json!({"title": "Mine now"}),
            Some(&bob),
        )
        .await;
    assert_eq!(forbidden.status, Status::Forbidden);
    let forbidden = api
        .delete(&format!("/api/posts/{published}"), Some(&bob))
        .await;
    assert_eq!(forbidden.status, Status::Forbidden);
    let forbidden = api
        .patch(
            &format!("/api/users/{}", ada.id),
            json!({"name": "Not Ada"}),
            Some(&bob),
        )
        .await;
    assert_eq!(forbidden.status, Status::Forbidden);
    let forbidden = api
        .patch(
            &format!("/api/users/{}", bob.id),
            json!({"role": "admin"}),
            Some(&bob),
        )
        .await;
    assert_eq!(forbidden.status, Status::Forbidden);
    let forbidden = api
        .delete(&format!("/api/users/{}", ada.id), Some(&bob))
        .await;
    assert_eq!(forbidden.status, Status::Forbidden);

    // 404: nothing there, or someone else's draft.
    for path in [
        "/api/users/9999".to_owned(),
        "/api/posts/9999".to_owned(),
        format!("/api/posts/{draft}"),
    ] {
        let answer = api.get(&path, Some(&bob)).await;
        assert_eq!(answer.status, Status::NotFound, "{path}");
    }
    let not_found = api
        .patch("/api/posts/9999", json!({"title": "x"}), Some(&admin))
        .await;
    assert_eq!(not_found.status, Status::NotFound);
    let not_found = api
        .patch(&format!("/api/posts/{draft}"), json!({}), Some(&bob))
        .await;
    assert_eq!(not_found.status, Status::NotFound);
    let not_found = api.delete("/api/posts/9999", Some(&admin)).await;
    assert_eq!(not_found.status, Status::NotFound);
    let not_found = api.patch("/api/users/9999", json!({}), Some(&admin)).await;
    assert_eq!(not_found.status, Status::NotFound);
    let not_found = api.delete("/api/users/9999", Some(&admin)).await;
    assert_eq!(not_found.status, Status::NotFound);

    // 409: a taken uid or email, and the last admin.
    let taken = api
        .post(
            "/api/users",
            json!({"uid": "ADA", "name": "Another Ada", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(taken.status, Status::Conflict);
    assert!(
        taken.body["error"]["fields"]["uid"].is_string(),
        "{}",
        taken.body
    );
    api.patch(
        &format!("/api/users/{}", ada.id),
        json!({"email": "ada@example.com"}),
        Some(&ada),
    )
    .await;
    let taken = api
        .patch(
            &format!("/api/users/{}", bob.id),
            json!({"email": "ADA@example.com"}),
            Some(&bob),
        )
        .await;
    assert_eq!(taken.status, Status::Conflict);
    let last_admin = api
        .patch(
            &format!("/api/users/{}", admin.id),
            json!({"role": "user"}),
            Some(&admin),
        )
        .await;
    assert_eq!(last_admin.status, Status::Conflict);
    let last_admin = api
        .delete(&format!("/api/users/{}", admin.id), Some(&admin))
        .await;
    assert_eq!(last_admin.status, Status::Conflict);

    // 422: invalid, missing, unknown and mistyped fields; bad query
    // parameters; ids that are not integers.
    let invalid = api
        .post(
            "/api/users",
            json!({"uid": "x", "name": "", "password": "short", "email": "nope", "dob": "1800-01-01"}),
            None,
        )
        .await;
    assert_eq!(invalid.status, Status::UnprocessableEntity);
    assert_eq!(
        invalid.body["error"]["fields"]
            .as_object()
            .map(|fields| fields.len()),
        Some(5),
        "{}",
        invalid.body
    );
    for body in [
        json!({"uid": "abc", "name": "n", "password": PASSWORD, "role": "admin"}),
        json!({"name": "n", "password": PASSWORD}),
        json!({"uid": 5, "name": "n", "password": PASSWORD}),
    ] {
        let answer = api.post("/api/users", body, None).await;
        assert_eq!(answer.status, Status::UnprocessableEntity);
    }
    let unknown = api
        .post(
            "/api/session",
            json!({"uid": "ada", "password": PASSWORD, "remember": true}),
            None,
        )
        .await;
    assert_eq!(unknown.status, Status::UnprocessableEntity);
    let invalid = api
        .post(
            "/api/posts",
            json!({"title": " ", "content": ""}),
            Some(&ada),
        )
        .await;
    assert_eq!(invalid.status, Status::UnprocessableEntity);
    let invalid = api
        .patch(
            &format!("/api/posts/{published}"),
            json!({"published": "yes"}),
            Some(&ada),
        )
        .await;
    assert_eq!(invalid.status, Status::UnprocessableEntity);
    let invalid = api
        .patch(
            &format!("/api/users/{}", ada.id),
            json!({"password": "a brand new password"}),
            Some(&ada),
        )
        .await;
    assert_eq!(invalid.status, Status::UnprocessableEntity);
    for path in [
        "/api/users?page=0",
        "/api/posts?per_page=101",
        "/api/posts?user=abc",
        "/api/posts/trending?limit=0",
        "/api/users/abc",
        "/api/posts/1.5",
    ] {
        let answer = api.get(path, None).await;
        assert_eq!(answer.status, Status::UnprocessableEntity, "{path}");
    }
    for path in ["/api/users/abc", "/api/posts/abc"] {
        let answer = api.delete(path, Some(&admin)).await;
        assert_eq!(answer.status, Status::UnprocessableEntity, "{path}");
    }

    // 400: not JSON at all; 413: too big.
    for (method, path) in [
        (Method::Post, "/api/users".to_owned()),
        (Method::Post, "/api/session".to_owned()),
        (Method::Post, "/api/posts".to_owned()),
        (Method::Patch, format!("/api/posts/{published}")),
        (Method::Patch, format!("/api/users/{}", ada.id)),
    ] {
        let answer = api.call(method, &path, Some("{not json"), Some(&ada)).await;
        assert_eq!(answer.status, Status::BadRequest, "{path}");
    }
    let huge = json!({"title": "t", "content": "x".repeat(1024 * 1024 + 10)});
    let too_big = api.post("/api/posts", huge, Some(&ada)).await;
    assert_eq!(too_big.status, Status::PayloadTooLarge);

    // 429, with Retry-After, after too many failed logins.
    let mut last = Status::Ok;
    for _ in 0..10 {
        last = api
            .post(
                "/api/session",
                json!({"uid": "bob", "password": "wrong password"}),
                None,
            )
            .await
            .status;
        if last == Status::TooManyRequests {
            break;
        }
    }
    assert_eq!(last, Status::TooManyRequests);

    // Invites: not an admin, too long, nothing to withdraw.
    let not_admin = api.post("/api/invites", json!({}), Some(&ada)).await;
    assert_eq!(not_admin.status, Status::Forbidden);
    let too_long = api
        .post("/api/invites", json!({"days": 365}), Some(&admin))
        .await;
    assert_eq!(too_long.status, Status::UnprocessableEntity);
    let listing = api.get("/api/invites", None).await;
    assert_eq!(listing.status, Status::Unauthorized);
    let nothing = api.delete("/api/invites/999", Some(&admin)).await;
    assert_eq!(nothing.status, Status::NotFound);

    // Two-factor login: twice set up is a conflict; a wrong code; a wrong
    // password; neither step's fields.
    api.post("/api/me/two-factor", json!(null), Some(&ada))
        .await;
    let wrong = api
        .post(
            "/api/me/two-factor/confirm",
            json!({"code": "000000"}),
            Some(&ada),
        )
        .await;
    assert_eq!(wrong.status, Status::UnprocessableEntity);
    let not_on = api
        .post(
            "/api/me/two-factor/disable",
            json!({"password": "wrong password", "code": "000000"}),
            Some(&ada),
        )
        .await;
    assert_eq!(not_on.status, Status::UnprocessableEntity);
    let no_step = api.post("/api/session", json!({"code": "1"}), None).await;
    assert_eq!(no_step.status, Status::UnprocessableEntity);
    let anonymous = api.post("/api/me/two-factor", json!(null), None).await;
    assert_eq!(anonymous.status, Status::Unauthorized);

    // Suspensions: not an admin; no reason; nobody there.
    let by_user = api
        .post(
            &format!("/api/users/{}/suspension", admin.id),
            json!({"reason": "x"}),
            Some(&ada),
        )
        .await;
    assert_eq!(by_user.status, Status::Forbidden);
    let no_reason = api
        .post(
            &format!("/api/users/{}/suspension", ada.id),
            json!({"reason": ""}),
            Some(&admin),
        )
        .await;
    assert_eq!(no_reason.status, Status::UnprocessableEntity);
    let nobody = api
        .delete("/api/users/999999/suspension", Some(&admin))
        .await;
    assert_eq!(nobody.status, Status::NotFound);

    // Comments: on a draft (404), empty (422), anonymous (401), someone
    // else's (403), on a post closed to comments (403).
    let on_draft = api
        .post(
            &format!("/api/posts/{draft}/comments"),
            json!({"body": "x"}),
            Some(&bob),
        )
        .await;
    assert_eq!(on_draft.status, Status::NotFound);
    let hidden_list = api.get(&format!("/api/posts/{draft}/comments"), None).await;
    assert_eq!(hidden_list.status, Status::NotFound);
    let empty = api
        .post(
            &format!("/api/posts/{published}/comments"),
            json!({"body": " "}),
            Some(&bob),
        )
        .await;
    assert_eq!(empty.status, Status::UnprocessableEntity);
    let bobs = api
        .post(
            &format!("/api/posts/{published}/comments"),
            json!({"body": "Mine"}),
            Some(&bob),
        )
        .await;
    let bobs = bobs.body["id"].as_i64().unwrap();
    let not_yours = api
        .patch(
            &format!("/api/comments/{bobs}"),
            json!({"body": "Ada's now"}),
            Some(&ada),
        )
        .await;
    assert_eq!(not_yours.status, Status::Forbidden);
    let anonymous = api.delete(&format!("/api/comments/{bobs}"), None).await;
    assert_eq!(anonymous.status, Status::Unauthorized);
    let no_comment = api.get("/api/comments/999999", None).await;
    assert_eq!(no_comment.status, Status::NotFound);
    api.patch(
        &format!("/api/posts/{published}"),
        json!({"comments_closed": true}),
        Some(&ada),
    )
    .await;
    let closed = api
        .post(
            &format!("/api/posts/{published}/comments"),
            json!({"body": "Late"}),
            Some(&bob),
        )
        .await;
    assert_eq!(closed.status, Status::Forbidden);

    // Email verification: nobody to send it to; a token that is no link.
    let anonymous = api
        .post("/api/email-verifications", json!(null), None)
        .await;
    assert_eq!(anonymous.status, Status::Unauthorized);
    let no_link = api
        .post(
            "/api/email-verifications/complete",
            json!({"token": "no-such-link"}),
            None,
        )
        .await;
    assert_eq!(no_link.status, Status::UnprocessableEntity);

    // Password resets: neither uid nor email; a token that is no link;
    // and on this server, which sends no mail, a 503.
    let neither = api.post("/api/password-resets", json!({}), None).await;
    assert_eq!(neither.status, Status::UnprocessableEntity);
    let no_mail = api
        .post("/api/password-resets", json!({"uid": "ada"}), None)
        .await;
    assert_eq!(no_mail.status, Status::ServiceUnavailable);
    let bad_token = api
        .post(
            "/api/password-resets/complete",
            json!({"token": "no-such-link", "password": "a long password"}),
            None,
        )
        .await;
    assert_eq!(bad_token.status, Status::UnprocessableEntity);

    // Unknown paths under /api answer the documented error shape too.
    let unknown = app.get("/api/nothing", None).await;
    let doc = served_document(&app).await;
    let mut problems = Vec::new();
    check(
        &doc,
        &json!({"$ref": "#/components/schemas/Error"}),
        &unknown.body,
        "body",
        &mut problems,
    );
    assert!(problems.is_empty(), "{problems:?}");

    let missing = api.missing(|status| status >= 400);
    let open_to_errors: Vec<_> = missing
        .iter()
        .filter(|(path, method)| {
            // These answer no client error at all.
            !matches!(
                (path.as_str(), method.as_str()),
                ("/api/session", "delete") | ("/api/openapi.json", "get") | ("/api/docs", "get")
            )
        })
        .collect();
    assert!(
        open_to_errors.is_empty(),
        "operations never seen failing: {open_to_errors:?}"
    );
}

#[test]
fn the_validator_catches_each_kind_of_mismatch() {
    let doc = json!({"components": {"schemas": {
        "Thing": {
            "type": "object",
            "required": ["id", "when"],
            "properties": {
                "id": {"type": "integer", "minimum": 1},
                "when": {"type": "string", "format": "date-time"},
                "day": {"type": "string", "format": "date", "nullable": true},
                "kind": {"type": "string", "enum": ["a", "b"]},
                "tags": {"type": "array", "items": {"type": "string"}},
                "extra": {"type": "object", "additionalProperties": {"type": "boolean"}}
            }
        }
    }}});
    let thing = json!({"$ref": "#/components/schemas/Thing"});
    let problems = |value: Value| {
        let mut found = Vec::new();
        check(&doc, &thing, &value, "body", &mut found);
        found
    };
    let good = json!({"id": 1, "when": "2026-01-02T03:04:05Z", "day": null, "kind": "a",
                      "tags": ["x"], "extra": {"on": true}});
    assert_eq!(problems(good), Vec::<String>::new());
    for bad in [
        json!({"when": "2026-01-02T03:04:05Z"}),
        json!({"id": "1", "when": "2026-01-02T03:04:05Z"}),
        json!({"id": 0, "when": "2026-01-02T03:04:05Z"}),
        json!({"id": 1, "when": "2026-01-02T03:04:05+01:00"}),
        json!({"id": 1, "when": "2026-01-02T03:04:05Z", "day": "02/01/2026"}),
        json!({"id": 1, "when": "2026-01-02T03:04:05Z", "kind": "c"}),
        json!({"id": 1, "when": "2026-01-02T03:04:05Z", "kind": null}),
        json!({"id": 1, "when": "2026-01-02T03:04:05Z", "tags": [1]}),
        json!({"id": 1, "when": "2026-01-02T03:04:05Z", "extra": {"on": 1}}),
        json!({"id": 1, "when": "2026-01-02T03:04:05Z", "surprise": 1}),
        json!([]),
    ] {
        assert_eq!(
            problems(bad.clone()).len(),
            1,
            "{bad}: {:?}",
            problems(bad.clone())
        );
    }
    let closed = json!({"type": "object", "additionalProperties": false, "properties": {}});
    let mut found = Vec::new();
    check(&doc, &closed, &json!({"x": 1}), "body", &mut found);
    assert_eq!(found.len(), 1);
}
