//! Request guards for "who is asking".
//!
//! - [`CurrentUser`]: a logged-in user, or 401.
//! - [`Viewer`]: a logged-in user or nobody, for routes open to everyone.
//!
//! A cookie that is present but does not hold (tampered with, expired,
//! logged out, its user deleted) is an error (401) on both, not anonymity:
//! the client believes it is logged in and should hear that it is not. The
//! stale cookie is removed in the same response, so the next request goes
//! through as anonymous.

use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};

use super::session;
use crate::db::Db;
use crate::error::AppError;
use crate::models::User;

#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    /// The session this request came with (kept when a password changes).
    pub session_id: i32,
}

/// Whoever is asking: `Viewer(None)` for an anonymous visitor.
#[derive(Debug, Clone)]
pub struct Viewer(pub Option<CurrentUser>);

impl Viewer {
    pub fn user(&self) -> Option<&User> {
        self.0.as_ref().map(|current| &current.user)
    }
}

/// What the session cookie says, worked out once per request.
#[derive(Debug, Clone)]
enum Identity {
    Anonymous,
    LoggedIn(CurrentUser),
    /// A cookie came but it does not hold.
    Invalid,
    /// The database could not be asked.
    Unavailable(Status),
}

async fn identify(request: &Request<'_>) -> Identity {
    let cookies = request.cookies();
    let Some(raw) = cookies.get(session::COOKIE_NAME) else {
        return Identity::Anonymous;
    };
    let raw_value = raw.value().to_owned();
    let Some(cookie) = cookies.get_private(session::COOKIE_NAME) else {
        log::debug!(
            "session cookie failed to decrypt ({} bytes)",
            raw_value.len()
        );
        session::remove_cookie(cookies);
        return Identity::Invalid;
    };
    let db = Db::new(request.rocket());
    let token = cookie.value().to_owned();
    match db.read(move |conn| session::resolve(conn, &token)).await {
        Ok(Some((session_id, user))) => Identity::LoggedIn(CurrentUser { user, session_id }),
        Ok(None) => {
            session::remove_cookie(cookies);
            Identity::Invalid
        }
        Err(error) => Identity::Unavailable(error.status()),
    }
}

async fn cached_identity<'r>(request: &'r Request<'_>) -> &'r Identity {
    request.local_cache_async(identify(request)).await
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CurrentUser {
    type Error = AppError;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, AppError> {
        match cached_identity(request).await {
            Identity::LoggedIn(current) => Outcome::Success(current.clone()),
            Identity::Anonymous => {
                Outcome::Error((Status::Unauthorized, AppError::Unauthorized("log in first")))
            }
            Identity::Invalid => Outcome::Error((
                Status::Unauthorized,
                AppError::Unauthorized("your session has ended; log in again"),
            )),
            Identity::Unavailable(status) => Outcome::Error((*status, AppError::Busy)),
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Viewer {
    type Error = AppError;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, AppError> {
        match cached_identity(request).await {
            Identity::Anonymous => Outcome::Success(Viewer(None)),
            _ => CurrentUser::from_request(request)
                .await
                .map(|current| Viewer(Some(current))),
        }
    }
}
