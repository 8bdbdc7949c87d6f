//! The HTML pages: forms, CSRF, flash messages, redirects, escaping, headers.

use rocket::http::Status;

use crate::browser::Browser;
use crate::helpers::{spawn_app, spawn_app_with, spawn_configured, PASSWORD};

#[rocket::async_test]
async fn the_home_page_shows_recent_posts_and_the_top_writers() {
    let app = spawn_app_with(true).await;
    let mut browser = Browser::new(&app);
    let home = browser.get("/").await;
    assert_eq!(home.status, Status::Ok);
    assert!(home.html.contains("Recent posts"));
    assert!(
        home.html.contains("Frequency hopping"),
        "the newest seeded post"
    );
    assert!(home.html.contains("Nikola Tesla"), "the top writer");
    assert!(home.html.contains("/static/style.css"));
}

#[rocket::async_test]
async fn signing_up_through_the_form_logs_in_and_says_welcome() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let done = browser
        .submit(
            "/signup",
            "/signup",
            &[
                ("uid", "ada"),
                ("name", "Ada Lovelace"),
                ("email", ""),
                ("dob", "1915-12-10"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, Status::SeeOther);
    let home = browser.follow(&done).await;
    assert!(
        home.html.contains("Welcome, Ada Lovelace!"),
        "{}",
        home.html
    );
    assert!(home.html.contains("Log out"));
    assert_eq!(app.count_users(), 1);
}

#[rocket::async_test]
async fn an_invalid_form_comes_back_with_the_input_and_the_messages() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let page = browser
        .submit(
            "/signup",
            "/signup",
            &[
                ("uid", "x!"),
                ("name", "Kept Name"),
                ("email", "nope"),
                ("dob", ""),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(page.status, Status::UnprocessableEntity);
    assert!(page.html.contains(r#"value="Kept Name""#), "input kept");
    assert!(page.html.contains(r#"value="x!""#), "input kept");
    assert!(
        page.html
            .contains("User name must be 3 to 32 characters long"),
        "{}",
        page.html
    );
    assert!(page
        .html
        .contains("Email (optional) must be an email address"));
    assert!(
        !page.html.contains("short"),
        "passwords are never sent back"
    );
    assert_eq!(app.count_users(), 0);
}

#[rocket::async_test]
async fn a_form_without_the_right_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let user = app.create_user("victim").await;
    let mut browser = Browser::new(&app);
    browser.log_in("victim", PASSWORD).await;
    let before = app.snapshot();
    for token in [None, Some("forged-token")] {
        let mut fields = vec![
            ("title", "forged"),
            ("content", "forged"),
            ("published", "true"),
        ];
        if let Some(token) = token {
            fields.push(("csrf_token", token));
        }
        let page = browser.post("/posts/new", &fields).await;
        assert_eq!(page.status, Status::Forbidden, "token {token:?}");
        assert!(
            page.html.contains("<html") && page.html.contains("403"),
            "{}",
            page.html
        );
        let delete = browser
            .post(&format!("/users/{}/delete", user.id), &fields)
            .await;
        assert_eq!(delete.status, Status::Forbidden);
    }
    assert_eq!(app.snapshot(), before);
}

#[rocket::async_test]
async fn a_login_form_from_another_browser_is_refused() {
    let app = spawn_app().await;
    app.create_user("someone").await;
    let mut attacker = Browser::new(&app);
    let token = attacker.get("/login").await.csrf_token();
    let mut victim = Browser::new(&app);
    victim.get("/").await;
    let page = victim
        .post(
            "/login",
            &[
                ("uid", "someone"),
                ("password", PASSWORD),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(page.status, Status::Forbidden);
}

#[rocket::async_test]
async fn pages_that_need_a_login_send_you_to_it_and_back() {
    let app = spawn_app().await;
    app.create_user("writer").await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/posts/new").await;
    assert_eq!(page.status, Status::SeeOther);
    assert_eq!(page.location.as_deref(), Some("/login?next=%2Fposts%2Fnew"));
    let form = browser.follow(&page).await;
    assert!(
        form.html
            .contains(r#"name="next" value="&#x2F;posts&#x2F;new""#),
        "{}",
        form.html
    );
    let token = form.csrf_token();
    let done = browser
        .post(
            "/login",
            &[
                ("uid", "writer"),
                ("password", PASSWORD),
                ("next", "/posts/new"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(done.location.as_deref(), Some("/posts/new"));
}

#[rocket::async_test]
async fn login_never_redirects_to_another_site() {
    let app = spawn_app().await;
    app.create_user("writer").await;
    for next in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "/a b",
        "javascript:alert(1)",
    ] {
        let mut browser = Browser::new(&app);
        let done = browser
            .submit(
                "/login",
                "/login",
                &[("uid", "writer"), ("password", PASSWORD), ("next", next)],
            )
            .await;
        assert_eq!(done.location.as_deref(), Some("/"), "next={next}");
    }
}

#[rocket::async_test]
async fn a_wrong_password_shows_the_form_again() {
    let app = spawn_app().await;
    app.create_user("writer").await;
    let mut browser = Browser::new(&app);
    let page = browser
        .submit(
            "/login",
            "/login",
            &[("uid", "writer"), ("password", "not the password")],
        )
        .await;
    assert_eq!(page.status, Status::UnprocessableEntity);
    assert!(
        page.html.contains("Wrong user name or password"),
        "{}",
        page.html
    );
    assert!(page.html.contains(r#"value="writer""#));
}

#[rocket::async_test]
async fn writing_editing_and_deleting_a_post_through_the_pages() {
    let app = spawn_app().await;
    let user = app.create_user("writer").await;
    let mut browser = Browser::new(&app);
    browser.log_in("writer", PASSWORD).await;

    let created = browser
        .submit(
            "/posts/new",
            "/posts/new",
            &[
                ("title", "My first post"),
                ("content", "Hello **world**"),
                ("published", "true"),
            ],
        )
        .await;
    assert_eq!(created.status, Status::SeeOther);
    let post_page = browser.follow(&created).await;
    assert!(post_page.html.contains("Post published."));
    assert!(post_page.html.contains("<strong>world</strong>"));
    let location = created.location.unwrap();
    // The post's readable address: its id, then its title's words.
    let id = location
        .strip_prefix("/posts/")
        .and_then(|rest| rest.strip_suffix("-my-first-post"))
        .unwrap_or_else(|| panic!("{location}"))
        .to_owned();

    let edit = format!("/posts/{id}/edit");
    let saved = browser
        .submit(
            &edit,
            &edit,
            &[("title", "My first post, revised"), ("content", "Changed")],
        )
        .await;
    assert_eq!(saved.status, Status::SeeOther);
    let draft = browser.follow(&saved).await;
    assert!(draft.html.contains("My first post, revised"));
    assert!(
        draft.html.contains("Draft"),
        "an unticked box makes it a draft"
    );

    let delete = format!("/posts/{id}/delete");
    let deleted = browser.submit(&delete, &delete, &[]).await;
    assert_eq!(deleted.location, Some(format!("/users/{}", user.id)));
    assert_eq!(app.count_posts(), 0);
}

#[rocket::async_test]
async fn another_users_post_cannot_be_edited_from_the_pages() {
    let app = spawn_app().await;
    let owner = app.create_user("owner").await;
    app.create_user("other").await;
    let id = app.create_post(&owner, "Owned", true).await;
    let mut browser = Browser::new(&app);
    browser.log_in("other", PASSWORD).await;
    let before = app.snapshot();

    let form = browser.get(&format!("/posts/{id}/edit")).await;
    assert_eq!(form.status, Status::Forbidden);
    assert!(
        form.html.contains("<html"),
        "a page, not JSON: {}",
        form.html
    );
    let token = browser.get("/").await.csrf_token();
    let edit = browser
        .post(
            &format!("/posts/{id}/edit"),
            &[
                ("title", "Hijacked"),
                ("content", "x"),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(edit.status, Status::Forbidden);
    let delete = browser
        .post(&format!("/posts/{id}/delete"), &[("csrf_token", &token)])
        .await;
    assert_eq!(delete.status, Status::Forbidden);
    assert_eq!(app.snapshot(), before);
}

#[rocket::async_test]
async fn script_in_a_title_or_post_is_shown_as_text_not_run() {
    let app = spawn_app().await;
    let author = app.create_user("mallory").await;
    let reply = app
        .post(
            "/api/posts",
            &serde_json::json!({"title": "<script>alert('t')</script>", "content": "<script>alert('c')</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(2)>"}),
            Some(&author),
        )
        .await;
    let id = reply.body["id"].as_i64().unwrap();
    let mut browser = Browser::new(&app);
    for path in [
        format!("/posts/{id}"),
        "/".to_owned(),
        "/posts".to_owned(),
        format!("/users/{}", author.id),
    ] {
        let page = browser.visit(&path).await;
        assert!(!page.html.contains("<script>alert"), "{path} runs a script");
        assert!(!page.html.contains("javascript:"), "{path}");
        assert!(!page.html.contains("onerror"), "{path}");
    }
    let page = browser.visit(&format!("/posts/{id}")).await;
    assert!(
        page.html.contains("&lt;script&gt;alert("),
        "the title is shown as text"
    );
}

#[rocket::async_test]
async fn every_page_carries_the_security_headers() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/").await;
    let csp = page.header("Content-Security-Policy").unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(page.header("X-Content-Type-Options"), Some("nosniff"));
    assert!(page.header("X-Frame-Options").is_some());
    assert!(!page.html.contains("<script>"), "no inline scripts");
}

#[rocket::async_test]
async fn cookies_are_httponly_and_lax() {
    let app = spawn_app().await;
    app.create_user("cookie").await;
    let response = app.client.get("/login").dispatch().await;
    let set_cookie = response.headers().get_one("Set-Cookie").unwrap();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
}

#[rocket::async_test]
async fn cookies_are_secure_when_configured_for_https() {
    let app = spawn_configured(false, |figment| figment.merge(("secure_cookies", true))).await;
    app.create_user("secure").await;
    let response = app.client.get("/login").dispatch().await;
    let csrf = response.headers().get_one("Set-Cookie").unwrap().to_owned();
    assert!(csrf.contains("Secure"), "{csrf}");
    let login = app
        .client
        .post("/api/session")
        .header(rocket::http::ContentType::JSON)
        .body(serde_json::json!({"uid": "secure", "password": PASSWORD}).to_string())
        .dispatch()
        .await;
    let session = login.headers().get_one("Set-Cookie").unwrap().to_owned();
    assert!(
        session.contains("Secure") && session.contains("HttpOnly"),
        "{session}"
    );
}

#[rocket::async_test]
async fn pagination_links_keep_the_other_query_parameters() {
    let app = spawn_app().await;
    for n in 0..22 {
        app.create_user(&format!("user{n:02}")).await;
    }
    let mut browser = Browser::new(&app);
    let page = browser.get("/users?sort=posts").await;
    // (Tera escapes `/` and `&` in attributes; the browser reads them back.)
    let older = page
        .html
        .split("href=\"")
        .find_map(|rest| {
            let href = rest.split('"').next()?;
            href.contains("users?after=")
                .then(|| href.replace("&amp;", "&"))
        })
        .unwrap_or_else(|| panic!("no Older link: {}", page.html));
    assert!(older.ends_with("&sort=posts"), "{older}");
    let second = browser
        .get(&older.replace("&#x2F;", "/").replace("&#x3D;", "="))
        .await;
    assert_eq!(second.status, Status::Ok);
    assert!(second.html.contains("users?before="));
    assert!(second.html.contains("&amp;sort=posts"));
    let numbered = browser.get("/users?page=2&sort=posts").await;
    assert!(numbered.html.contains("users?page=1&amp;sort=posts"));
}

#[rocket::async_test]
async fn drafts_are_hidden_from_other_people_on_the_pages() {
    let app = spawn_app().await;
    let author = app.create_user("author").await;
    let id = app.create_post(&author, "Secret draft", false).await;
    let mut stranger = Browser::new(&app);
    assert_eq!(
        stranger.visit(&format!("/posts/{id}")).await.status,
        Status::NotFound
    );
    assert!(!stranger.get("/").await.html.contains("Secret draft"));
    let mut owner = Browser::new(&app);
    owner.log_in("author", PASSWORD).await;
    assert_eq!(
        owner.visit(&format!("/posts/{id}")).await.status,
        Status::Ok
    );
}

#[rocket::async_test]
async fn each_view_of_a_post_counts() {
    let app = spawn_app().await;
    let author = app.create_user("author").await;
    let id = app.create_post(&author, "Counted", true).await;
    let mut browser = Browser::new(&app);
    for _ in 0..3 {
        browser.visit(&format!("/posts/{id}")).await;
    }
    let reply = app.get(&format!("/api/posts/{id}"), None).await;
    assert_eq!(reply.body["views"], 3);
}

#[rocket::async_test]
async fn an_admin_changes_a_role_and_others_cannot_reach_the_admin_page() {
    let app = spawn_app().await;
    app.create_admin("boss").await;
    let worker = app.create_user("worker").await;
    let mut user_browser = Browser::new(&app);
    user_browser.log_in("worker", PASSWORD).await;
    assert_eq!(
        user_browser.get("/admin/users").await.status,
        Status::Forbidden
    );

    let mut admin = Browser::new(&app);
    admin.log_in("boss", PASSWORD).await;
    let action = format!("/admin/users/{}/role", worker.id);
    let done = admin
        .submit("/admin/users", &action, &[("role", "admin")])
        .await;
    assert_eq!(done.status, Status::SeeOther);
    let table = admin.follow(&done).await;
    assert!(
        table.html.contains("worker is now admin."),
        "{}",
        table.html
    );
    assert_eq!(
        app.get(&format!("/api/users/{}", worker.id), None)
            .await
            .body["role"],
        "admin"
    );
}

#[rocket::async_test]
async fn the_last_admin_cannot_step_down_from_the_admin_page() {
    let app = spawn_app().await;
    let boss = app.create_admin("boss").await;
    let mut admin = Browser::new(&app);
    admin.log_in("boss", PASSWORD).await;
    let action = format!("/admin/users/{}/role", boss.id);
    let done = admin
        .submit("/admin/users", &action, &[("role", "user")])
        .await;
    let table = admin.follow(&done).await;
    assert!(table.html.contains("last admin"), "{}", table.html);
    assert_eq!(
        app.get(&format!("/api/users/{}", boss.id), None).await.body["role"],
        "admin"
    );
}

#[rocket::async_test]
async fn changing_the_password_from_the_page_needs_the_current_one_and_a_match() {
    let app = spawn_app().await;
    let user = app.create_user("pwuser").await;
    let mut browser = Browser::new(&app);
    browser.log_in("pwuser", PASSWORD).await;
    let path = format!("/users/{}/password", user.id);
    let mismatch = browser
        .submit(
            &path,
            &path,
            &[
                ("current_password", PASSWORD),
                ("password", "new password 1"),
                ("confirm", "new password 2"),
            ],
        )
        .await;
    assert_eq!(mismatch.status, Status::UnprocessableEntity);
    assert!(mismatch.html.contains("does not match"));
    let done = browser
        .submit(
            &path,
            &path,
            &[
                ("current_password", PASSWORD),
                ("password", "new password 1"),
                ("confirm", "new password 1"),
            ],
        )
        .await;
    assert_eq!(done.status, Status::SeeOther);
    Browser::new(&app).log_in("pwuser", "new password 1").await;
}

#[rocket::async_test]
async fn deleting_your_account_from_the_page_logs_you_out() {
    let app = spawn_app().await;
    let user = app.create_user("leaver").await;
    app.create_post(&user, "bye", true).await;
    let mut browser = Browser::new(&app);
    browser.log_in("leaver", PASSWORD).await;
    let path = format!("/users/{}/delete", user.id);
    let confirm = browser.get(&path).await;
    assert!(confirm.html.contains("cannot be undone"));
    let done = browser.submit(&path, &path, &[]).await;
    assert_eq!(done.location.as_deref(), Some("/"));
    let home = browser.follow(&done).await;
    assert!(home.html.contains("Log in"), "logged out");
    assert_eq!(app.count_users(), 0);
    assert_eq!(app.count_posts(), 0);
}

#[rocket::async_test]
async fn unknown_pages_get_an_html_404_and_the_api_keeps_json() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/no/such/page").await;
    assert_eq!(page.status, Status::NotFound);
    assert!(page.html.contains("<html") && page.html.contains("404"));
    let api = browser.get("/api/no/such").await;
    assert!(api.html.starts_with('{'), "{}", api.html);
}

#[rocket::async_test]
async fn logging_out_is_a_post_that_ends_the_session() {
    let app = spawn_app().await;
    app.create_user("leaving").await;
    let mut browser = Browser::new(&app);
    browser.log_in("leaving", PASSWORD).await;
    let done = browser.submit("/", "/logout", &[]).await;
    assert_eq!(done.status, Status::SeeOther);
    assert_eq!(
        app.count_sessions(),
        1,
        "only create_user's API session is left"
    );
    assert_eq!(browser.get("/posts/new").await.status, Status::SeeOther);
}
