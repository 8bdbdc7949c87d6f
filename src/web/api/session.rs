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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    uid: String,
    password: String,
}

/// `POST /api/session`: log in with `{"uid", "password"}`. Sets the private
/// session cookie and answers with the account; 401 for a wrong uid or
/// password alike; 429 with `Retry-After` after too many failures.
#[post("/session", data = "<credentials>")]
async fn log_in(
    db: Db<'_>,
    credentials: JsonBody<Credentials>,
    cookies: &CookieJar<'_>,
    settings: &State<Settings>,
    throttle: &State<LoginThrottle>,
    client: Option<IpAddr>,
) -> AppResult<Json<UserBody>> {
    let Credentials { uid, password } = body(credentials)?;
    let (user, token) = accounts::log_in(
        &db,
        throttle,
        client,
        &uid,
        &password,
        settings.session_days,
    )
    .await?;
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
