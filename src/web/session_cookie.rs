//! The session cookie: a login session's token (see `domain::session`) in a
//! private (encrypted, HttpOnly) cookie.

use rocket::http::{Cookie, CookieJar, SameSite};

use crate::config::Settings;

pub const COOKIE_NAME: &str = "portfolio_session";

/// Puts the token into the private session cookie.
pub fn set(cookies: &CookieJar<'_>, token: String, settings: &Settings) {
    let cookie = Cookie::build((COOKIE_NAME, token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(settings.secure_cookies)
        .max_age(rocket::time::Duration::days(settings.session_days.into()));
    cookies.add_private(cookie);
}

pub fn remove(cookies: &CookieJar<'_>) {
    cookies.remove_private(Cookie::build(COOKIE_NAME).path("/"));
}
