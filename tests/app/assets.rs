//! Templates and static files built into the binary, and a `theme_dir` that
//! overrides some of them. (Debug test builds read the repository's
//! `templates/` and `static/` first; release builds, as in CI, only the
//! embedded copies: these tests hold for both.)

use std::path::Path;

use rocket::http::{ContentType, Status};

use crate::helpers::{spawn_app, spawn_configured, TestApp};

const STYLESHEET: &str = include_str!("../../static/style.css");

/// Status, content type, a header and body of `GET path`.
async fn fetch(
    app: &TestApp,
    path: &str,
    header: &str,
) -> (Status, Option<ContentType>, Option<String>, String) {
    let response = app.client.get(path).dispatch().await;
    let status = response.status();
    let content_type = response.content_type();
    let value = response.headers().get_one(header).map(str::to_owned);
    let body = response.into_string().await.unwrap_or_default();
    (status, content_type, value, body)
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[rocket::async_test]
async fn the_stylesheet_is_served_as_css_and_cached_for_an_hour() {
    let app = spawn_app().await;
    let (status, content_type, cache, body) =
        fetch(&app, "/static/style.css", "Cache-Control").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(content_type, Some(ContentType::CSS));
    assert_eq!(cache.as_deref(), Some("public, max-age=3600"));
    assert!(!body.is_empty());
    assert_eq!(body, STYLESHEET);
    let (_, _, nosniff, _) = fetch(&app, "/static/style.css", "X-Content-Type-Options").await;
    assert_eq!(nosniff.as_deref(), Some("nosniff"));
}

#[rocket::async_test]
async fn an_unknown_static_file_is_not_found() {
    let app = spawn_app().await;
    for path in [
        "/static/nothing.css",
        "/static/",
        "/static/style.css/more",
        // Templates are not static files, whatever their path.
        "/static/base.html.tera",
        "/static/templates/base.html.tera",
    ] {
        let (status, _, _, body) = fetch(&app, path, "Cache-Control").await;
        assert_eq!(status, Status::NotFound, "{path}");
        assert!(!body.contains("{% block"), "{path} leaked a template");
    }
}

#[rocket::async_test]
async fn pages_rendered_from_built_in_templates_are_html() {
    let app = spawn_app().await;
    for (path, status) in [
        ("/", Status::Ok),
        ("/login", Status::Ok),
        ("/signup", Status::Ok),
        ("/api/docs", Status::Ok),
        ("/no/such/page", Status::NotFound),
    ] {
        let (got, content_type, _, body) = fetch(&app, path, "Cache-Control").await;
        assert_eq!(got, status, "{path}");
        assert_eq!(content_type, Some(ContentType::HTML), "{path}");
        assert!(body.contains(r#"href="/static/style.css""#), "{path}");
    }
}

#[rocket::async_test]
async fn a_theme_replaces_the_files_it_has_and_the_binary_supplies_the_rest() {
    let theme = tempfile::tempdir().unwrap();
    write(
        &theme.path().join("static/style.css"),
        "body { color: rebeccapurple; }\n",
    );
    write(&theme.path().join("static/fonts/note.txt"), "theme only\n");
    // A realistic override: it extends and imports built-in templates, and
    // includes one that only the theme has.
    write(
        &theme.path().join("templates/home.html.tera"),
        r#"{% extends "base" %}
{% import "macros" as m %}
{% block title %}Themed{% endblock title %}
{% block content %}
{% include "partials/banner" %}
<ul>{% for post in posts %}<li class="themed">{{ post.title }}</li>{% endfor %}</ul>
{% endblock content %}
"#,
    );
    write(
        &theme.path().join("templates/partials/banner.html.tera"),
        "<p id=\"banner\">A themed home page</p>\n",
    );
    let folder = theme.path().to_str().unwrap().to_owned();
    let app = spawn_configured(false, |figment| figment.merge(("theme_dir", folder))).await;

    let (status, content_type, _, css) = fetch(&app, "/static/style.css", "Cache-Control").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(content_type, Some(ContentType::CSS));
    assert_eq!(css, "body { color: rebeccapurple; }\n");
    let (status, content_type, _, note) =
        fetch(&app, "/static/fonts/note.txt", "Cache-Control").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(content_type, Some(ContentType::Plain));
    assert_eq!(note, "theme only\n");
    let (status, _, _, _) = fetch(&app, "/static/nothing.css", "Cache-Control").await;
    assert_eq!(status, Status::NotFound);

    // The themed template, escaped like the built-in ones.
    let ada = app.create_user("ada").await;
    app.create_post(&ada, "<script>alert(1)</script> & more", true)
        .await;
    let (status, content_type, _, home) = fetch(&app, "/", "Cache-Control").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(content_type, Some(ContentType::HTML));
    assert!(
        home.contains(r#"<p id="banner">A themed home page</p>"#),
        "{home}"
    );
    assert!(home.contains("<title>Themed"), "the built-in base: {home}");
    assert!(home.contains(r#"href="/static/style.css""#));
    assert!(
        home.contains(
            r#"<li class="themed">&lt;script&gt;alert(1)&lt;&#x2F;script&gt; &amp; more</li>"#
        ),
        "{home}"
    );
    assert!(!home.contains("<script>alert(1)"));

    // Pages the theme leaves alone come from the built-in templates.
    let (status, content_type, _, login) = fetch(&app, "/login", "Cache-Control").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(content_type, Some(ContentType::HTML));
    assert!(login.contains(r#"name="csrf_token""#), "{login}");
    assert!(!login.contains("A themed home page"));
    let (status, _, _, missing) = fetch(&app, "/no/such/page", "Cache-Control").await;
    assert_eq!(status, Status::NotFound);
    assert!(missing.contains("There is nothing here."), "{missing}");
}

#[rocket::async_test]
async fn a_theme_dir_that_is_not_a_folder_leaves_the_built_in_look() {
    let missing = tempfile::tempdir().unwrap().path().join("no-theme-here");
    let folder = missing.to_str().unwrap().to_owned();
    let app = spawn_configured(false, |figment| figment.merge(("theme_dir", folder))).await;
    let (status, _, _, css) = fetch(&app, "/static/style.css", "Cache-Control").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(css, STYLESHEET);
    let (status, _, _, home) = fetch(&app, "/", "Cache-Control").await;
    assert_eq!(status, Status::Ok);
    assert!(home.contains("Recent posts"), "{home}");
}

#[rocket::async_test]
async fn the_retired_static_dir_and_template_dir_settings_change_nothing() {
    let empty = tempfile::tempdir().unwrap();
    let folder = empty.path().to_str().unwrap().to_owned();
    let app = spawn_configured(false, |figment| {
        figment
            .merge(("static_dir", folder.clone()))
            .merge(("template_dir", folder))
    })
    .await;
    let (status, _, _, css) = fetch(&app, "/static/style.css", "Cache-Control").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(css, STYLESHEET);
    let (status, _, _, home) = fetch(&app, "/", "Cache-Control").await;
    assert_eq!(status, Status::Ok);
    assert!(home.contains("Recent posts"), "{home}");
}

#[rocket::async_test]
async fn the_theme_cannot_be_escaped_through_the_static_path() {
    // A theme beside a secret: no request under /static reaches it.
    let root = tempfile::tempdir().unwrap();
    write(&root.path().join("secret.txt"), "do not serve");
    write(&root.path().join("theme/secret.txt"), "do not serve");
    write(&root.path().join("theme/static/ok.txt"), "fine");
    let folder = root.path().join("theme").to_str().unwrap().to_owned();
    let app = spawn_configured(false, |figment| figment.merge(("theme_dir", folder))).await;
    let (status, _, _, body) = fetch(&app, "/static/ok.txt", "Cache-Control").await;
    assert_eq!((status, body.as_str()), (Status::Ok, "fine"));
    for path in [
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/..%2Fsecret.txt",
        "/static/../../secret.txt",
        "/static/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/static/.%2e/secret.txt",
    ] {
        let (status, _, _, body) = fetch(&app, path, "Cache-Control").await;
        assert!((400..500).contains(&status.code), "{path}: {status}");
        assert!(!body.contains("do not serve"), "{path} leaked a file");
    }
}

#[rocket::async_test]
async fn a_theme_template_that_does_not_parse_stops_the_launch() {
    let theme = tempfile::tempdir().unwrap();
    write(
        &theme.path().join("templates/home.html.tera"),
        "{% extends \"base\" %}{% block content %}{{ unclosed {% endblock content %}",
    );
    let data = tempfile::tempdir().unwrap();
    let db = crate::helpers::TestDatabase::new(data.path());
    let figment = crate::helpers::test_figment(&db, false)
        .merge(("theme_dir", theme.path().to_str().unwrap()));
    let Err(error) =
        rocket::local::asynchronous::Client::untracked(portfolio::build(figment)).await
    else {
        panic!("a broken theme must not be served");
    };
    assert!(
        matches!(error.kind(), rocket::error::ErrorKind::FailedFairings(failed)
            if failed.iter().any(|fairing| fairing.name == "Templating")),
        "{error:?}"
    );
}
