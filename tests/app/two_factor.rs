//! Two-factor login (TOTP): enrolment, the second step of a login on the
//! API and the pages, replay, the previous window, recovery codes, the
//! throttle, expiry, turning it off, and API tokens left alone. Codes are
//! computed here from the enrolled secret, as an authenticator app would.

use diesel::prelude::*;
use portfolio::db::schema::login_challenges;
use portfolio::domain::two_factor::{clock, code_at};
use rocket::http::Status;
use serde_json::json;

use crate::browser::Browser;
use crate::helpers::*;

/// Sets two-factor login up for `user` with a code of `step_offset` steps
/// from now; returns the secret and the recovery codes.
async fn enroll(app: &TestApp, user: &TestUser, step_offset: i64) -> (String, Vec<String>) {
    let begun = app
        .post("/api/me/two-factor", &json!(null), Some(user))
        .await;
    assert_eq!(begun.status, Status::Ok, "{:?}", begun.body);
    let secret = begun.body["secret"].as_str().unwrap().to_owned();
    assert!(begun.body["otpauth_url"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/portfolio:"));
    assert!(begun.body["qr_svg"].as_str().unwrap().contains("<svg"));
    let time = (clock() as i64 + step_offset * 30) as u64;
    let confirmed = app
        .post(
            "/api/me/two-factor/confirm",
            &json!({ "code": code_at(&secret, time).unwrap() }),
            Some(user),
        )
        .await;
    assert_eq!(confirmed.status, Status::Ok, "{:?}", confirmed.body);
    let codes: Vec<String> = confirmed.body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

async fn password_step(app: &TestApp, uid: &str) -> Reply {
    app.post(
        "/api/session",
        &json!({ "uid": uid, "password": PASSWORD }),
        None,
    )
    .await
}

/// The first step: 401 with `second_factor_required` and a challenge.
async fn challenge(app: &TestApp, uid: &str) -> String {
    let reply = password_step(app, uid).await;
    assert_eq!(reply.status, Status::Unauthorized, "{:?}", reply.body);
    assert_eq!(reply.body["error"]["code"], "second_factor_required");
    assert!(reply.session_cookie.is_none(), "no session yet");
    reply.body["error"]["challenge"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn second_step(app: &TestApp, challenge: &str, code: &str) -> Reply {
    app.post(
        "/api/session",
        &json!({ "challenge": challenge, "code": code }),
        None,
    )
    .await
}

fn code_in(secret: &str, steps: i64) -> String {
    code_at(secret, (clock() as i64 + steps * 30) as u64).unwrap()
}

#[rocket::async_test]
async fn a_login_takes_a_code_once_two_factor_is_on() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let token = app
        .post("/api/tokens", &json!({ "name": "script" }), Some(&ada))
        .await;
    let api_token = token.body["token"].as_str().unwrap().to_owned();

    // Not on until confirmed: a wrong code does not turn it on.
    app.post("/api/me/two-factor", &json!(null), Some(&ada))
        .await;
    let wrong = app
        .post(
            "/api/me/two-factor/confirm",
            &json!({ "code": "000000" }),
            Some(&ada),
        )
        .await;
    assert_eq!(wrong.status, Status::UnprocessableEntity);
    assert_eq!(password_step(&app, "ada").await.status, Status::Ok);

    // Confirmed with the code of the step before this one (a clock behind).
    let (secret, recovery) = enroll(&app, &ada, -1).await;
    let challenge_token = challenge(&app, "ada").await;
    let now_code = code_in(&secret, 0);
    let done = second_step(&app, &challenge_token, &now_code).await;
    assert_eq!(done.status, Status::Ok, "{:?}", done.body);
    assert!(done.session_cookie.is_some());
    assert_eq!(done.body["uid"], "ada");

    // The same code again, in a new login: refused (no replay); the
    // challenge is spent too.
    let again = challenge(&app, "ada").await;
    assert_eq!(
        second_step(&app, &again, &now_code).await.status,
        Status::Unauthorized
    );
    assert_eq!(
        second_step(&app, &challenge_token, &code_in(&secret, 1))
            .await
            .status,
        Status::Unauthorized,
        "a spent challenge"
    );
    // A recovery code works once.
    let with_recovery = second_step(&app, &again, &recovery[0]).await;
    assert_eq!(with_recovery.status, Status::Ok, "{:?}", with_recovery.body);
    let third = challenge(&app, "ada").await;
    assert_eq!(
        second_step(&app, &third, &recovery[0]).await.status,
        Status::Unauthorized
    );

    // A half-done login expires.
    diesel::update(login_challenges::table)
        .set(login_challenges::expires_at.eq(chrono::Utc::now().naive_utc()))
        .execute(&mut app.conn())
        .unwrap();
    let expired = second_step(&app, &third, &recovery[1]).await;
    assert_eq!(expired.status, Status::Unauthorized);
    assert!(
        expired.error_message().contains("expired"),
        "{:?}",
        expired.body
    );

    // API tokens are a second credential already: unaffected.
    let by_token = app
        .client
        .get("/api/me")
        .header(rocket::http::Header::new(
            "Authorization",
            format!("Bearer {api_token}"),
        ))
        .dispatch()
        .await;
    assert_eq!(by_token.status(), Status::Ok);
}

#[rocket::async_test]
async fn wrong_codes_are_throttled_like_passwords() {
    let app = spawn_configured(false, |figment| figment.merge(("login_attempts", 3))).await;
    let ada = app.create_user("ada").await;
    enroll(&app, &ada, 0).await;
    let challenge_token = challenge(&app, "ada").await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(second_step(&app, &challenge_token, "000000").await.status);
    }
    assert_eq!(
        statuses,
        [
            Status::Unauthorized,
            Status::Unauthorized,
            Status::Unauthorized,
            Status::TooManyRequests
        ]
    );
}

#[rocket::async_test]
async fn turning_it_off_takes_the_password_and_a_code() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let (secret, _) = enroll(&app, &ada, -1).await;
    let again = app
        .post("/api/me/two-factor", &json!(null), Some(&ada))
        .await;
    assert_eq!(again.status, Status::Conflict, "on already");
    let wrong_password = app
        .post(
            "/api/me/two-factor/disable",
            &json!({ "password": "not the password", "code": code_in(&secret, 0) }),
            Some(&ada),
        )
        .await;
    assert_eq!(wrong_password.status, Status::UnprocessableEntity);
    assert!(wrong_password.field_error("password").is_some());
    let wrong_code = app
        .post(
            "/api/me/two-factor/disable",
            &json!({ "password": PASSWORD, "code": "123" }),
            Some(&ada),
        )
        .await;
    assert_eq!(wrong_code.status, Status::UnprocessableEntity);
    let off = app
        .post(
            "/api/me/two-factor/disable",
            &json!({ "password": PASSWORD, "code": code_in(&secret, 0) }),
            Some(&ada),
        )
        .await;
    assert_eq!(off.status, Status::NoContent, "{:?}", off.body);
    assert_eq!(password_step(&app, "ada").await.status, Status::Ok);
}

#[rocket::async_test]
async fn the_pages_set_it_up_with_a_qr_code_and_ask_for_the_code_at_login() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let mut browser = Browser::new(&app);
    browser.log_in("ada", PASSWORD).await;
    let profile = browser.get(&format!("/users/{}", ada.id)).await;
    assert!(profile.html.contains("id=\"two-factor-link\""));
    let off = browser.get(&format!("/users/{}/two-factor", ada.id)).await;
    assert!(off.html.contains("id=\"two-factor-off\""));
    let setup = browser
        .submit(
            &format!("/users/{}/two-factor", ada.id),
            &format!("/users/{}/two-factor/begin", ada.id),
            &[],
        )
        .await;
    assert_eq!(setup.status, Status::Ok);
    assert!(
        setup.html.contains("<svg"),
        "the QR code, drawn on the server"
    );
    let secret = setup
        .html
        .split("id=\"two-factor-secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap()
        .to_owned();
    let wrong = browser
        .submit(
            &format!("/users/{}/two-factor", ada.id),
            &format!("/users/{}/two-factor/confirm", ada.id),
            &[("code", "000000")],
        )
        .await;
    assert_eq!(wrong.status, Status::UnprocessableEntity);
    assert!(wrong.html.contains("<svg"), "the QR code again");
    let on = browser
        .submit(
            &format!("/users/{}/two-factor", ada.id),
            &format!("/users/{}/two-factor/confirm", ada.id),
            &[("code", &code_in(&secret, -1))],
        )
        .await;
    assert_eq!(on.status, Status::Ok);
    assert!(on.html.contains("id=\"recovery-codes\""));

    // A new browser logs in: password, then the code.
    let mut other = Browser::new(&app);
    let step = other
        .submit(
            "/login",
            "/login",
            &[("uid", "ada"), ("password", PASSWORD), ("next", "/tokens")],
        )
        .await;
    assert_eq!(step.status, Status::Ok, "the code page, no session yet");
    assert!(step.html.contains("action=\"/login/code\""));
    let challenge = step
        .html
        .split("name=\"challenge\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let wrong = other
        .submit(
            "/login",
            "/login/code",
            &[
                ("challenge", &challenge),
                ("code", "000000"),
                ("next", "/tokens"),
            ],
        )
        .await;
    assert_eq!(wrong.status, Status::UnprocessableEntity);
    let done = other
        .submit(
            "/login",
            "/login/code",
            &[
                ("challenge", &challenge),
                ("code", &code_in(&secret, 0)),
                ("next", "/tokens"),
            ],
        )
        .await;
    assert_eq!(done.status, Status::SeeOther, "{}", done.html);
    assert_eq!(done.header("Location"), Some("/tokens"));
    let tokens = other.follow(&done).await;
    assert!(tokens.html.contains("Welcome back"), "{}", tokens.html);
}

#[rocket::async_test]
async fn only_the_owner_sees_its_two_factor_page() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    app.create_admin("root").await;
    let mut browser = Browser::new(&app);
    browser.log_in("root", PASSWORD).await;
    let page = browser.get(&format!("/users/{}/two-factor", ada.id)).await;
    assert_eq!(page.status, Status::Forbidden);
}
