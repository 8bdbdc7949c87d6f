//! Request guards for "who is asking".
//!
//! - [`CurrentUser`]: a logged-in user, or 401.
//! - [`Viewer`]: a logged-in user or nobody, for routes open to everyone.
//!
//! On `/api`, an `Authorization: Bearer <token>` header (a personal API
//! token) identifies the token's owner instead of the cookie.
//!
//! A cookie (or token) that is present but does not hold (tampered with, expired,
//! logged out, its user deleted) is an error (401) on both, not anonymity:
//! the client believes it is logged in and should hear that it is not. The
//! stale cookie is removed in the same response, so the next request goes
//! through as anonymous.

use rocket::http::Status;
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};

use super::session_cookie;
use crate::db::Db;
use crate::domain::error::AppError;
use crate::domain::{api_token, session};
pub use crate::domain::{Credential, CurrentUser, Viewer};

/// What the session cookie says, worked out once per request.
#[derive(Debug, Clone)]
enum Identity {
    Anonymous,
    LoggedIn(CurrentUser),
    /// A cookie came but it does not hold.
    Invalid,
    /// A bearer token came but it is not one of ours (revoked, mistyped).
    InvalidToken,
    /// The database could not be asked.
    Unavailable(Status),
}

async fn identify(request: &Request<'_>) -> Identity {
    if request.uri().path().starts_with("/api") {
        if let Some(header) = request.headers().get_one("Authorization") {
            return identify_by_token(request, header).await;
        }
    }
    let cookies = request.cookies();
    let Some(raw) = cookies.get(session_cookie::COOKIE_NAME) else {
        return Identity::Anonymous;
    };
    let raw_value = raw.value().to_owned();
    let Some(cookie) = cookies.get_private(session_cookie::COOKIE_NAME) else {
        log::debug!(
            "session cookie failed to decrypt ({} bytes)",
            raw_value.len()
        );
        session_cookie::remove(cookies);
        return Identity::Invalid;
    };
    let db = Db::new(request.rocket());
    let token = cookie.value().to_owned();
    match db.read(move |conn| session::resolve(conn, &token)).await {
        Ok(Some((session_id, user))) => Identity::LoggedIn(CurrentUser {
            user,
            credential: Credential::Session(session_id),
        }),
        Ok(None) => {
            session_cookie::remove(cookies);
            Identity::Invalid
        }
        Err(error) => Identity::Unavailable(error.status()),
    }
}

/// `Authorization: Bearer <token>`; any other scheme is refused as well,
/// rather than silently ignored.
async fn identify_by_token(request: &Request<'_>, header: &str) -> Identity {
    let Some((scheme, secret)) = header.trim().split_once(' ') else {
        return Identity::InvalidToken;
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Identity::InvalidToken;
    }
    let secret = secret.trim().to_owned();
    let db = Db::new(request.rocket());
    match db.read(move |conn| api_token::resolve(conn, &secret)).await {
        Ok(Some((token_id, user))) => Identity::LoggedIn(CurrentUser {
            user,
            credential: Credential::ApiToken(token_id),
        }),
        Ok(None) => Identity::InvalidToken,
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
            Identity::InvalidToken => Outcome::Error((
                Status::Unauthorized,
                AppError::Unauthorized(
                    "the API token is not valid (revoked?); send Authorization: Bearer <token>",
                ),
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

/// The database handle, for any handler that asks.
#[rocket::async_trait]
impl<'r> FromRequest<'r> for Db<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        rocket::request::Outcome::Success(Db::new(request.rocket()))
    }
}
