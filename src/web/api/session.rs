//! `/api/session` and `/api/me`: logging in and out.

use rocket::http::CookieJar;
use rocket::response::status::NoContent;
use rocket::serde::json::Json;
use rocket::{delete, get, post, routes, Route, State};
use serde::Deserialize;

use super::{body, JsonBody, UserBody};
use std::net::IpAddr;

use crate::config::Settings;
use crate::db::Db;
use crate::domain::accounts;
use crate::domain::error::{AppError, AppResult};
use crate::domain::throttle::LoginThrottle;
use crate::domain::{session, CurrentUser, Viewer};
use crate::web::session_cookie;

pub fn routes() -> Vec<Route> {
    routes![log_in, log_out, me]
}

/// Either the first step (`uid`, `password`) or, for an account with
/// two-factor login, the second (`challenge`, `code`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    uid: Option<String>,
    password: Option<String>,
    challenge: Option<String>,
    code: Option<String>,
}

/// `POST /api/session`: log in with `{"uid", "password"}`. Sets the private
/// session cookie and answers with the account; 401 for a wrong uid or
/// password alike; 429 with `Retry-After` after too many failures. An
/// account with two-factor login answers a right password with 401, code
/// `second_factor_required` and a `challenge`: send `{"challenge", "code"}`
/// (a code from the app, or a recovery code) within five minutes.
#[post("/session", data = "<credentials>")]
async fn log_in(
    db: Db<'_>,
    credentials: JsonBody<Credentials>,
    cookies: &CookieJar<'_>,
    settings: &State<Settings>,
    throttle: &State<LoginThrottle>,
    client: Option<IpAddr>,
) -> AppResult<Json<UserBody>> {
    let days = settings.session_days;
    let (user, token) = match body(credentials)? {
        Credentials {
            uid: Some(uid),
            password: Some(password),
            challenge: None,
            code: None,
        } => accounts::log_in(&db, throttle, client, &uid, &password, days).await?,
        Credentials {
            uid: None,
            password: None,
            challenge: Some(challenge),
            code: Some(code),
        } => accounts::log_in_with_code(&db, throttle, client, &challenge, &code, days).await?,
        _ => {
            return Err(AppError::invalid_field(
                "uid",
                "send \"uid\" and \"password\", or \"challenge\" and \"code\"",
            ))
        }
    };
    session_cookie::set(cookies, token, settings);
    Ok(Json(UserBody::new(&user, Some(&user))))
}

/// `DELETE /api/session`: log out. Ends the session on the server, so its
/// cookie is worthless even if kept. Always 204, even for a stale cookie.
#[delete("/session")]
async fn log_out(
    db: Db<'_>,
    viewer: Result<Viewer, AppError>,
    cookies: &CookieJar<'_>,
) -> AppResult<NoContent> {
    if let Some(session_id) = viewer.ok().and_then(|v| v.0).and_then(|c| c.session_id()) {
        db.write(move |conn| session::end(conn, session_id)).await?;
    }
    session_cookie::remove(cookies);
    Ok(NoContent)
}

/// `GET /api/me`: the logged-in account, with its email.
#[get("/me")]
async fn me(current: CurrentUser) -> Json<UserBody> {
    Json(UserBody::new(&current.user, Some(&current.user)))
}
