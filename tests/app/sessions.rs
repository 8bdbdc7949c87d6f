//! Logging in and out, and sessions ending when they should.

use rocket::http::Status;
use serde_json::json;

use crate::helpers::{spawn_app, TestUser, PASSWORD};

#[rocket::async_test]
async fn logging_in_sets_a_private_httponly_lax_cookie() {
    let app = spawn_app().await;
    app.create_user("cookie").await;
    let response = app
        .client
        .post("/api/session")
        .header(rocket::http::ContentType::JSON)
        .body(json!({"uid": "cookie", "password": PASSWORD}).to_string())
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Ok);
    let set_cookie = response.headers().get_one("Set-Cookie").unwrap().to_owned();
    assert!(set_cookie.starts_with("portfolio_session="), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(set_cookie.contains("Path=/"), "{set_cookie}");
    // Private: the cookie is encrypted, the token never shows in clear.
    let value = set_cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("portfolio_session=");
    assert!(value.len() > 60, "{value}");
}

#[rocket::async_test]
async fn me_answers_who_is_logged_in() {
    let app = spawn_app().await;
    let user = app.create_user("whoami").await;
    let reply = app.get("/api/me", Some(&user)).await;
    assert_eq!(reply.status, Status::Ok);
    assert_eq!(reply.body["uid"], "whoami");
    assert_eq!(app.get("/api/me", None).await.status, Status::Unauthorized);
}

#[rocket::async_test]
async fn an_unknown_uid_and_a_wrong_password_get_the_same_answer() {
    let app = spawn_app().await;
    app.create_user("known").await;
    let wrong = app
        .post(
            "/api/session",
            &json!({"uid": "known", "password": "not it at all"}),
            None,
        )
        .await;
    let unknown = app
        .post(
            "/api/session",
            &json!({"uid": "nobody", "password": "not it at all"}),
            None,
        )
        .await;
    assert_eq!(wrong.status, Status::Unauthorized);
    assert_eq!(unknown.status, Status::Unauthorized);
    assert_eq!(wrong.body, unknown.body);
    assert!(wrong.session_cookie.is_none());
    assert_eq!(
        app.count_sessions(),
        1,
        "only create_user's own login made a session"
    );
}

#[rocket::async_test]
async fn logging_in_ignores_the_case_of_the_uid() {
    let app = spawn_app().await;
    app.create_user("mixed").await;
    app.log_in("MiXeD", PASSWORD).await;
}

#[rocket::async_test]
async fn logging_out_ends_the_session_even_for_a_kept_cookie() {
    let app = spawn_app().await;
    let user = app.create_user("leaving").await;
    let reply = app.delete("/api/session", Some(&user)).await;
    assert_eq!(reply.status, Status::NoContent);
    // Replaying the old cookie does not work: the session is gone server-side.
    let replay = app.get("/api/me", Some(&user)).await;
    assert_eq!(replay.status, Status::Unauthorized);
    assert_eq!(app.count_sessions(), 0);
}

#[rocket::async_test]
async fn changing_a_password_ends_the_other_sessions_only() {
    let app = spawn_app().await;
    let laptop = app.create_user("twice").await;
    let phone = TestUser {
        cookie: app.log_in("twice", PASSWORD).await,
        ..laptop.clone()
    };
    let reply = app
        .patch(
            &format!("/api/users/{}", laptop.id),
            &json!({"password": "fresh password", "current_password": PASSWORD}),
            Some(&laptop),
        )
        .await;
    assert_eq!(reply.status, Status::Ok, "{:?}", reply.body);
    assert_eq!(app.get("/api/me", Some(&laptop)).await.status, Status::Ok);
    assert_eq!(
        app.get("/api/me", Some(&phone)).await.status,
        Status::Unauthorized
    );
}

#[rocket::async_test]
async fn an_admin_resetting_a_password_ends_every_session_of_the_account() {
    let app = spawn_app().await;
    let admin = app.create_admin("admin1").await;
    let user = app.create_user("reset").await;
    let reply = app
        .patch(
            &format!("/api/users/{}", user.id),
            &json!({"password": "set by the admin"}),
            Some(&admin),
        )
        .await;
    assert_eq!(reply.status, Status::Ok, "{:?}", reply.body);
    assert_eq!(
        app.get("/api/me", Some(&user)).await.status,
        Status::Unauthorized
    );
    assert_eq!(
        app.get("/api/me", Some(&admin)).await.status,
        Status::Ok,
        "the admin's own session stays"
    );
}

#[rocket::async_test]
async fn deleting_a_user_ends_their_sessions() {
    let app = spawn_app().await;
    let admin = app.create_admin("admin1").await;
    let user = app.create_user("doomed").await;
    assert_eq!(
        app.delete(&format!("/api/users/{}", user.id), Some(&admin))
            .await
            .status,
        Status::NoContent
    );
    let reply = app.get("/api/me", Some(&user)).await;
    assert_eq!(reply.status, Status::Unauthorized);
    // A stale cookie is an error, not anonymity, even where anonymous is fine.
    assert_eq!(
        app.get("/api/posts", Some(&user)).await.status,
        Status::Unauthorized
    );
}

#[rocket::async_test]
async fn a_stale_cookie_is_removed_with_the_401() {
    let app = spawn_app().await;
    let user = app.create_user("stale").await;
    app.delete("/api/session", Some(&user)).await;
    let response = app
        .client
        .get("/api/posts")
        .cookie(rocket::http::Cookie::new(
            "portfolio_session",
            user.cookie.clone(),
        ))
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::Unauthorized);
    let removal = response
        .headers()
        .get_one("Set-Cookie")
        .unwrap_or("")
        .to_owned();
    assert!(
        removal.starts_with("portfolio_session=;") && removal.contains("Max-Age=0"),
        "{removal}"
    );
}

#[rocket::async_test]
async fn a_tampered_or_forged_cookie_is_refused() {
    let app = spawn_app().await;
    let user = app.create_user("target").await;
    let mut tampered = user.clone();
    let mut bytes = tampered.cookie.into_bytes();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    tampered.cookie = String::from_utf8(bytes).unwrap();
    assert_eq!(
        app.get("/api/me", Some(&tampered)).await.status,
        Status::Unauthorized
    );

    let forged = TestUser {
        cookie: "not-even-encrypted".to_owned(),
        ..user.clone()
    };
    assert_eq!(
        app.get("/api/me", Some(&forged)).await.status,
        Status::Unauthorized
    );
    assert_eq!(app.get("/api/me", Some(&user)).await.status, Status::Ok);
}

mod throttling {
    use rocket::http::{ContentType, Status};
    use serde_json::json;

    use crate::helpers::{spawn_app, spawn_configured, PASSWORD};

    async fn attempt(
        app: &crate::helpers::TestApp,
        uid: &str,
        password: &str,
        from: &str,
    ) -> (Status, Option<String>) {
        let response = app
            .client
            .post("/api/session")
            .header(ContentType::JSON)
            .remote(from.parse().unwrap())
            .body(json!({"uid": uid, "password": password}).to_string())
            .dispatch()
            .await;
        let retry = response.headers().get_one("Retry-After").map(str::to_owned);
        (response.status(), retry)
    }

    #[rocket::async_test]
    async fn five_failures_for_an_account_lock_it_with_retry_after() {
        let app = spawn_app().await;
        app.create_user("target").await;
        for n in 0..5 {
            let from = format!("192.0.2.{n}:4000");
            assert_eq!(
                attempt(&app, "target", "wrong guess", &from).await.0,
                Status::Unauthorized
            );
        }
        let (status, retry) = attempt(&app, "target", PASSWORD, "192.0.2.99:4000").await;
        assert_eq!(
            status,
            Status::TooManyRequests,
            "even the right password waits"
        );
        let seconds: u64 = retry.expect("Retry-After").parse().unwrap();
        assert!(seconds > 800 && seconds <= 900, "{seconds}");
        // Another account is not affected.
        app.create_user("bystander").await;
    }

    #[rocket::async_test]
    async fn five_failures_from_one_address_throttle_it_across_accounts() {
        let app = spawn_app().await;
        app.create_user("victim").await;
        for n in 0..5 {
            let uid = format!("guess{n}");
            assert_eq!(
                attempt(&app, &uid, "wrong guess", "198.51.100.7:1").await.0,
                Status::Unauthorized
            );
        }
        assert_eq!(
            attempt(&app, "victim", PASSWORD, "198.51.100.7:2").await.0,
            Status::TooManyRequests
        );
        assert_eq!(
            attempt(&app, "victim", PASSWORD, "198.51.100.8:2").await.0,
            Status::Ok
        );
    }

    #[rocket::async_test]
    async fn a_success_resets_the_account_count() {
        let app = spawn_app().await;
        app.create_user("forgetful").await;
        for round in 0..2 {
            for n in 0..4 {
                let from = format!("203.0.113.{}:1", round * 10 + n);
                assert_eq!(
                    attempt(&app, "forgetful", "wrong guess", &from).await.0,
                    Status::Unauthorized
                );
            }
            assert_eq!(
                attempt(
                    &app,
                    "forgetful",
                    PASSWORD,
                    &format!("203.0.113.{}:1", 50 + round)
                )
                .await
                .0,
                Status::Ok
            );
        }
    }

    #[rocket::async_test]
    async fn a_burst_of_parallel_guesses_gets_only_five_checked() {
        let app = spawn_app().await;
        app.create_user("target").await;
        let guesses = (0..20).map(|n| {
            let app = &app;
            async move {
                attempt(app, "target", &format!("guess {n}"), "192.0.2.1:1")
                    .await
                    .0
            }
        });
        let statuses = futures::future::join_all(guesses).await;
        let checked = statuses
            .iter()
            .filter(|s| **s == Status::Unauthorized)
            .count();
        let refused = statuses
            .iter()
            .filter(|s| **s == Status::TooManyRequests)
            .count();
        assert_eq!((checked, refused), (5, 15), "{statuses:?}");
    }

    #[rocket::async_test]
    async fn a_burst_of_correct_logins_is_slowed_never_refused() {
        let app = spawn_app().await;
        app.create_user("popular").await;
        let logins = (0..12).map(|_| {
            let app = &app;
            async move { attempt(app, "popular", PASSWORD, "192.0.2.1:1").await.0 }
        });
        let statuses = futures::future::join_all(logins).await;
        assert!(statuses.iter().all(|s| *s == Status::Ok), "{statuses:?}");
    }

    #[rocket::async_test]
    async fn the_lock_expires() {
        let app = spawn_configured(false, |f| f.merge(("login_window_secs", 1))).await;
        app.create_user("admin2").await;
        for n in 0..5 {
            attempt(&app, "admin2", "wrong guess", &format!("192.0.2.{n}:1")).await;
        }
        assert_eq!(
            attempt(&app, "admin2", PASSWORD, "192.0.2.200:1").await.0,
            Status::TooManyRequests
        );
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert_eq!(
            attempt(&app, "admin2", PASSWORD, "192.0.2.201:1").await.0,
            Status::Ok
        );
    }
}
