//! Mail: password reset links over a real SMTP server on loopback, the
//! outbox's retries, and what happens without a mail server.

use std::time::{Duration, Instant};

use diesel::prelude::*;
use portfolio::db::schema::{outbox, password_resets};
use rocket::figment::Figment;
use rocket::http::Status;
use serde_json::json;

use crate::helpers::*;
use crate::smtp::{smtp_url, SmtpServer};

const SITE: &str = "https://portfolio.test";
const NEW_PASSWORD: &str = "a brand new password";
const RESET: &str = "Set a new password";
const VERIFY: &str = "Verify your email address";

fn with_mail(port: u16, attempts: u32) -> impl FnOnce(Figment) -> Figment {
    move |figment| {
        figment
            .merge(("smtp_url", smtp_url(port)))
            .merge(("mail_from", "portfolio <noreply@portfolio.test>"))
            .merge(("public_url", SITE))
            .merge(("mail_attempts", attempts))
            .merge(("mail_retry_secs", 1))
    }
}

/// Signs `uid` up with an email address (`<uid>@example.org`).
async fn user_with_email(app: &TestApp, uid: &str) -> TestUser {
    let reply = app
        .post(
            "/api/users",
            &json!({ "uid": uid, "name": format!("User {uid}"), "email": format!("{uid}@example.org"), "password": PASSWORD }),
            None,
        )
        .await;
    assert_eq!(reply.status, Status::Created, "{:?}", reply.body);
    let id = reply.body["id"].as_i64().unwrap() as i32;
    let cookie = app.log_in(uid, PASSWORD).await;
    TestUser {
        id,
        uid: uid.to_owned(),
        cookie,
    }
}

/// Uses a reset link's `token` to set `password`.
async fn complete(app: &TestApp, token: &str, password: &str) -> Reply {
    app.post(
        "/api/password-resets/complete",
        &json!({ "token": token, "password": password }),
        None,
    )
    .await
}

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).expect("a token").to_owned()
}

/// The password-reset mail in the outbox (sign-ups queue a verification
/// mail too).
fn outbox_rows(app: &TestApp) -> Vec<(i32, Option<String>, bool, String)> {
    outbox::table
        .filter(outbox::subject.eq(RESET))
        .select((
            outbox::attempts,
            outbox::last_error,
            outbox::failed_at.is_not_null(),
            outbox::text_body,
        ))
        .load(&mut app.conn())
        .unwrap()
}

/// Waits up to 15 s for `check` to hold of the outbox.
async fn wait_for_outbox(
    app: &TestApp,
    what: &str,
    check: impl Fn(&[(i32, Option<String>, bool, String)]) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let rows = outbox_rows(app);
        if check(&rows) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the outbox holds {rows:?}"
        );
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[rocket::async_test]
async fn a_forgotten_password_is_reset_through_the_emailed_link() {
    let smtp = SmtpServer::start();
    let app = spawn_configured(false, with_mail(smtp.port, 8)).await;
    let ada = user_with_email(&app, "ada").await;
    let token = app
        .post("/api/tokens", &json!({ "name": "script" }), Some(&ada))
        .await;
    assert_eq!(token.status, Status::Created, "{:?}", token.body);
    let api_token = token.body["token"].as_str().unwrap().to_owned();

    let asked = app
        .post(
            "/api/password-resets",
            &json!({ "email": "ADA@example.org" }),
            None,
        )
        .await;
    assert_eq!(asked.status, Status::Accepted, "{:?}", asked.body);

    let messages = smtp.wait_for_mail(RESET, 1).await;
    let mail = &messages[0];
    assert_eq!(mail.to, ["ada@example.org"]);
    assert_eq!(mail.header("Subject"), "Set a new password");
    assert!(mail.header("From").contains("noreply@portfolio.test"));
    let link = mail.link("/password/reset?token=");
    assert!(
        link.starts_with(&format!("{SITE}/password/reset?token=")),
        "{link}"
    );
    assert!(
        mail.part("text/html")
            .contains(&link.replace('/', "&#x2F;"))
            || mail.part("text/html").contains(&link)
    );
    // Sent mail leaves the outbox (its body held the link).
    wait_for_outbox(&app, "sent", |rows| rows.is_empty()).await;

    let token = token_of(&link);
    let done = complete(&app, &token, NEW_PASSWORD).await;
    assert_eq!(done.status, Status::Ok, "{:?}", done.body);

    // The new password works, the old one does not, and every session and
    // API token of the account has ended.
    app.log_in("ada", NEW_PASSWORD).await;
    let old = app
        .post(
            "/api/session",
            &json!({ "uid": "ada", "password": PASSWORD }),
            None,
        )
        .await;
    assert_eq!(old.status, Status::Unauthorized);
    assert_eq!(
        app.get("/api/me", Some(&ada)).await.status,
        Status::Unauthorized
    );
    let by_token = app
        .client
        .get("/api/me")
        .header(rocket::http::Header::new(
            "Authorization",
            format!("Bearer {api_token}"),
        ))
        .dispatch()
        .await;
    assert_eq!(by_token.status(), Status::Unauthorized);

    // The link was spent.
    let again = complete(&app, &token, "yet another password").await;
    assert_eq!(
        again.status,
        Status::UnprocessableEntity,
        "{:?}",
        again.body
    );
    assert!(again.field_error("token").is_some());
    let left: i64 = password_resets::table
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(left, 0);
}

#[rocket::async_test]
async fn asking_answers_the_same_whether_or_not_an_account_matches() {
    let smtp = SmtpServer::start();
    let app = spawn_configured(false, with_mail(smtp.port, 8)).await;
    user_with_email(&app, "ada").await;
    app.create_user("nomail").await; // no email address

    let known = app
        .post("/api/password-resets", &json!({ "uid": "ada" }), None)
        .await;
    for body in [
        json!({ "uid": "nobody" }),
        json!({ "email": "nobody@example.org" }),
        json!({ "uid": "nomail" }),
    ] {
        let reply = app.post("/api/password-resets", &body, None).await;
        assert_eq!(reply.status, known.status, "{body}");
        assert_eq!(reply.body, known.body, "{body}");
    }
    assert_eq!(known.status, Status::Accepted);
    // Only the one account with an address got mail.
    smtp.wait_for_mail(RESET, 1).await;
    rocket::tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.with_subject(RESET).len(), 1);
    wait_for_outbox(&app, "sent", |rows| rows.is_empty()).await;

    // Neither field, both, or an unknown one: 422 / 400.
    let neither = app.post("/api/password-resets", &json!({}), None).await;
    assert_eq!(neither.status, Status::UnprocessableEntity);
    let both = app
        .post(
            "/api/password-resets",
            &json!({ "uid": "ada", "email": "ada@example.org" }),
            None,
        )
        .await;
    assert_eq!(both.status, Status::UnprocessableEntity);
}

#[rocket::async_test]
async fn asking_too_often_is_throttled_per_account_typed() {
    let smtp = SmtpServer::start();
    let app = spawn_configured(false, |f| {
        with_mail(smtp.port, 8)(f).merge(("login_attempts", 2))
    })
    .await;
    user_with_email(&app, "ada").await;
    for _ in 0..2 {
        let reply = app
            .post("/api/password-resets", &json!({ "uid": "ada" }), None)
            .await;
        assert_eq!(reply.status, Status::Accepted);
    }
    let third = app
        .post("/api/password-resets", &json!({ "uid": "ada" }), None)
        .await;
    assert_eq!(third.status, Status::TooManyRequests, "{:?}", third.body);
}

#[rocket::async_test]
async fn only_the_newest_link_works_and_links_expire() {
    let smtp = SmtpServer::start();
    let app = spawn_configured(false, with_mail(smtp.port, 8)).await;
    user_with_email(&app, "ada").await;
    for _ in 0..2 {
        app.post("/api/password-resets", &json!({ "uid": "ada" }), None)
            .await;
    }
    let messages = smtp.wait_for_mail(RESET, 2).await;
    let (first, second) = (
        token_of(&messages[0].link("token=")),
        token_of(&messages[1].link("token=")),
    );
    assert_eq!(
        complete(&app, &first, NEW_PASSWORD).await.status,
        Status::UnprocessableEntity
    );

    // Past its hour, the newest fails too.
    diesel::update(password_resets::table)
        .set(
            password_resets::expires_at
                .eq(chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1)),
        )
        .execute(&mut app.conn())
        .unwrap();
    assert_eq!(
        complete(&app, &second, NEW_PASSWORD).await.status,
        Status::UnprocessableEntity
    );
    let page = app
        .get(&format!("/password/reset?token={second}"), None)
        .await;
    assert!(page.body.as_str().unwrap().contains("id=\"link-invalid\""));
}

#[rocket::async_test]
async fn mail_waits_while_the_server_is_down_then_goes() {
    let port = free_port(); // nothing listens yet
    let app = spawn_configured(false, with_mail(port, 8)).await;
    user_with_email(&app, "ada").await;
    let asked = app
        .post("/api/password-resets", &json!({ "uid": "ada" }), None)
        .await;
    assert_eq!(
        asked.status,
        Status::Accepted,
        "answered the same without a mail server"
    );
    wait_for_outbox(&app, "a failed try", |rows| {
        rows.len() == 1 && rows[0].0 >= 1 && rows[0].1.is_some() && !rows[0].2
    })
    .await;

    let smtp = SmtpServer::start_on(port);
    let messages = smtp.wait_for_mail(RESET, 1).await;
    assert!(messages[0].link("token=").starts_with(SITE));
    wait_for_outbox(&app, "sent", |rows| rows.is_empty()).await;
}

#[rocket::async_test]
async fn a_refused_message_is_tried_again_then_marked_failed_without_its_link() {
    let smtp = SmtpServer::start();
    smtp.refuse_all(true);
    let app = spawn_configured(false, with_mail(smtp.port, 3)).await;
    user_with_email(&app, "ada").await;
    app.post("/api/password-resets", &json!({ "uid": "ada" }), None)
        .await;
    wait_for_outbox(&app, "given up", |rows| rows.len() == 1 && rows[0].2).await;
    let rows = outbox_rows(&app);
    assert_eq!(rows[0].0, 3, "tried three times");
    assert!(rows[0].1.as_deref().unwrap().contains("554"), "{rows:?}");
    assert_eq!(rows[0].3, "", "the body (and its link) is gone");
    // Three tries of it (and of the sign-up's verification mail, refused too).
    assert!(smtp.refused() >= 3, "{}", smtp.refused());
    assert!(smtp.messages().is_empty());
}

#[rocket::async_test]
async fn queued_mail_is_sent_after_a_restart() {
    // The first run's mail server never answers; the second run's does.
    let dead = free_port();
    let app = spawn_configured(false, with_mail(dead, 8)).await;
    user_with_email(&app, "ada").await;
    app.post("/api/password-resets", &json!({ "uid": "ada" }), None)
        .await;
    wait_for_outbox(&app, "queued", |rows| rows.len() == 1).await;

    let smtp = SmtpServer::start();
    let app = app.relaunch(with_mail(smtp.port, 8)).await;
    let messages = smtp.wait_for_mail(RESET, 1).await;
    let token = token_of(&messages[0].link("token="));
    let done = complete(&app, &token, NEW_PASSWORD).await;
    assert_eq!(done.status, Status::Ok, "{:?}", done.body);
}

#[rocket::async_test]
async fn without_a_mail_server_the_features_that_need_one_say_so() {
    let app = spawn_app().await;
    user_with_email(&app, "ada").await;
    let reply = app
        .post("/api/password-resets", &json!({ "uid": "ada" }), None)
        .await;
    assert_eq!(reply.status, Status::ServiceUnavailable, "{:?}", reply.body);
    assert!(
        reply.error_message().contains("does not send email"),
        "{:?}",
        reply.body
    );
    let page = app.get("/password/forgot", None).await;
    assert!(page.body.as_str().unwrap().contains("id=\"no-mail\""));
    assert_eq!(outbox_rows(&app).len(), 0);
}

#[rocket::async_test]
async fn mail_settings_that_cannot_work_stop_the_start() {
    for (what, configure) in [
        (
            "no public_url",
            json!({ "smtp_url": smtp_url(25), "mail_from": "a@b.test" }),
        ),
        (
            "no mail_from",
            json!({ "smtp_url": smtp_url(25), "public_url": SITE }),
        ),
        (
            "a bad scheme",
            json!({ "smtp_url": "http://mail.test", "mail_from": "a@b.test", "public_url": SITE }),
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDatabase::new(dir.path());
        let mut figment = test_figment(&db, false);
        for (key, value) in configure.as_object().unwrap() {
            figment = figment.merge((key.as_str(), value.clone()));
        }
        match rocket::local::asynchronous::Client::untracked(portfolio::build(figment)).await {
            Ok(_) => panic!("{what}: the app started"),
            Err(error) => assert!(
                matches!(error.kind(), rocket::error::ErrorKind::FailedFairings(_)),
                "{what}: {error}"
            ),
        }
    }
}

fn verification_token(smtp: &SmtpServer, index: usize) -> String {
    token_of(&smtp.with_subject(VERIFY)[index].link("/email/verify?token="))
}

#[rocket::async_test]
async fn a_new_address_is_verified_through_the_mailed_link() {
    let smtp = SmtpServer::start();
    let app = spawn_configured(false, with_mail(smtp.port, 8)).await;
    let ada = user_with_email(&app, "ada").await;
    let me = app.get("/api/me", Some(&ada)).await;
    assert_eq!(me.body["email_verified"], false);
    let mail = &smtp.wait_for_mail(VERIFY, 1).await[0];
    assert_eq!(mail.to, ["ada@example.org"]);
    let link = mail.link("/email/verify?token=");
    assert!(
        link.starts_with(&format!("{SITE}/email/verify?token=")),
        "{link}"
    );

    let verified = app
        .post(
            "/api/email-verifications/complete",
            &json!({ "token": token_of(&link) }),
            None,
        )
        .await;
    assert_eq!(verified.status, Status::Ok, "{:?}", verified.body);
    assert_eq!(verified.body["email_verified"], true);
    assert_eq!(
        app.get("/api/me", Some(&ada)).await.body["email_verified"],
        true
    );
    let again = app
        .post(
            "/api/email-verifications/complete",
            &json!({ "token": token_of(&link) }),
            None,
        )
        .await;
    assert_eq!(again.status, Status::UnprocessableEntity);

    // A new address is unverified again, and gets a link of its own; saving
    // the profile again does not send another.
    let changed = app
        .patch(
            &format!("/api/users/{}", ada.id),
            &json!({ "email": "lovelace@example.org" }),
            Some(&ada),
        )
        .await;
    assert_eq!(changed.body["email_verified"], false);
    smtp.wait_for_mail(VERIFY, 2).await;
    app.patch(
        &format!("/api/users/{}", ada.id),
        &json!({ "email": "lovelace@example.org", "name": "Ada" }),
        Some(&ada),
    )
    .await;
    rocket::tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        smtp.with_subject(VERIFY).len(),
        2,
        "no second mail for the same address"
    );
    assert_eq!(smtp.with_subject(VERIFY)[1].to, ["lovelace@example.org"]);

    // Asked again: a new link replaces the pending one.
    let resent = app
        .post("/api/email-verifications", &json!(null), Some(&ada))
        .await;
    assert_eq!(resent.status, Status::Accepted, "{:?}", resent.body);
    smtp.wait_for_mail(VERIFY, 3).await;
    let (old, new) = (verification_token(&smtp, 1), verification_token(&smtp, 2));
    let page = app.get(&format!("/email/verify?token={old}"), None).await;
    assert!(page.body.as_str().unwrap().contains("id=\"link-invalid\""));
    let page = app.get(&format!("/email/verify?token={new}"), None).await;
    let html = page.body.as_str().unwrap();
    assert!(html.contains("id=\"email-now-verified\""), "{html}");
    assert!(html.contains("lovelace@example.org"));
    assert_eq!(
        app.get("/api/me", Some(&ada)).await.body["email_verified"],
        true
    );
}

#[rocket::async_test]
async fn a_link_for_an_old_address_verifies_nothing() {
    let smtp = SmtpServer::start();
    let app = spawn_configured(false, with_mail(smtp.port, 8)).await;
    let ada = user_with_email(&app, "ada").await;
    smtp.wait_for_mail(VERIFY, 1).await;
    let old = verification_token(&smtp, 0);
    app.patch(
        &format!("/api/users/{}", ada.id),
        &json!({ "email": "other@example.org" }),
        Some(&ada),
    )
    .await;
    let reply = app
        .post(
            "/api/email-verifications/complete",
            &json!({ "token": old }),
            None,
        )
        .await;
    assert_eq!(reply.status, Status::UnprocessableEntity);
    assert_eq!(
        app.get("/api/me", Some(&ada)).await.body["email_verified"],
        false
    );
}

#[rocket::async_test]
async fn require_verified_email_keeps_unverified_accounts_from_writing() {
    let smtp = SmtpServer::start();
    let app = spawn_configured(false, |figment| {
        with_mail(smtp.port, 8)(figment).merge(("require_verified_email", true))
    })
    .await;
    let ada = user_with_email(&app, "ada").await;
    let post = json!({ "title": "Notes", "content": "The engine." });
    let refused = app.post("/api/posts", &post, Some(&ada)).await;
    assert_eq!(refused.status, Status::Forbidden, "{:?}", refused.body);
    assert!(
        refused.error_message().contains("verify your email"),
        "{:?}",
        refused.body
    );
    assert_eq!(app.count_posts(), 0);
    // The page sends to the profile, which says why and offers the link.
    let form = app.get("/posts/new", Some(&ada)).await;
    assert_eq!(form.status, Status::SeeOther);
    let profile = app.get(&format!("/users/{}", ada.id), Some(&ada)).await;
    let html = profile.body.as_str().unwrap();
    assert!(
        html.contains("id=\"email-unverified\"") && html.contains("id=\"resend-verification\"")
    );

    smtp.wait_for_mail(VERIFY, 1).await;
    let token = verification_token(&smtp, 0);
    app.get(&format!("/email/verify?token={token}"), None).await;
    let written = app.post("/api/posts", &post, Some(&ada)).await;
    assert_eq!(written.status, Status::Created, "{:?}", written.body);
}

#[rocket::async_test]
async fn demo_accounts_are_seeded_verified() {
    let app = spawn_app_with(true).await;
    let unverified: i64 = portfolio::db::schema::users::table
        .filter(portfolio::db::schema::users::email.is_not_null())
        .filter(portfolio::db::schema::users::email_verified_at.is_null())
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(unverified, 0);
}

#[rocket::async_test]
async fn a_theme_rewrites_the_mail_like_the_pages() {
    let smtp = SmtpServer::start();
    let theme = tempfile::tempdir().unwrap();
    let folder = theme.path().join("templates/mail/text");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("password_reset.txt.tera"),
        "Our own words for {{ name | safe }}: {{ link | safe }}\n",
    )
    .unwrap();
    let path = theme.path().to_str().unwrap().to_owned();
    let app = spawn_configured(false, move |figment| {
        with_mail(smtp.port, 8)(figment).merge(("theme_dir", path))
    })
    .await;
    user_with_email(&app, "ada").await;
    app.post("/api/password-resets", &json!({ "uid": "ada" }), None)
        .await;
    let mail = &smtp.wait_for_mail(RESET, 1).await[0];
    let text = mail.part("text/plain");
    assert!(text.starts_with("Our own words for User ada: "), "{text}");
    assert!(mail.link("token=").starts_with(SITE));
    assert!(
        mail.part("text/html").contains("Choose a new password"),
        "the built-in HTML part"
    );
}
