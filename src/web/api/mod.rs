//! The JSON API, mounted at `/api`.
//!
//! Every error, including Rocket's own (unknown route, body over the limit),
//! answers `{"error": {"status": N, "message": "...", "fields": {...}}}`.

mod bodies;
pub mod comments;
pub mod email_verifications;
pub mod invites;
pub mod openapi;
pub mod password_resets;
pub mod posts;
pub mod session;
pub mod tokens;
pub mod two_factor;
pub mod users;

use rocket::data::{self, Data, FromData};
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{Catcher, Request, Route};

use crate::domain::error::AppError;
use crate::web::error::StatusError;

pub use bodies::{CommentJson, Message, Paginated, PostBody, TrendingBody, TrendingPage, UserBody};

/// A JSON request body. It must say it is JSON (`Content-Type:
/// application/json`, else 415): Rocket's `Json` would parse any body, and a
/// cross-site HTML form can post `text/plain` that happens to be JSON (a
/// login CSRF against `/api/session`, for instance), but it cannot set this
/// type without the browser asking first (CORS), which we never allow.
pub struct ApiJson<T>(pub T);

#[rocket::async_trait]
impl<'r, T: serde::Deserialize<'r>> FromData<'r> for ApiJson<T> {
    type Error = AppError;

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        if !request.content_type().is_some_and(|kind| kind.is_json()) {
            let error = AppError::UnsupportedMediaType;
            return data::Outcome::Error((error.status(), error));
        }
        match Json::<T>::from_data(request, data).await {
            data::Outcome::Success(json) => data::Outcome::Success(ApiJson(json.into_inner())),
            data::Outcome::Forward(forward) => data::Outcome::Forward(forward),
            data::Outcome::Error((_, error)) => {
                let error = AppError::from(error);
                data::Outcome::Error((error.status(), error))
            }
        }
    }
}

/// A JSON request body, or the reason it could not be read, which the
/// handler turns into our error shape with `?`.
pub type JsonBody<T> = Result<ApiJson<T>, AppError>;

/// Unwraps a [`JsonBody`].
pub fn body<T>(body: JsonBody<T>) -> Result<T, AppError> {
    Ok(body?.0)
}

pub fn routes() -> Vec<Route> {
    [
        users::routes(),
        posts::routes(),
        comments::routes(),
        session::routes(),
        password_resets::routes(),
        email_verifications::routes(),
        invites::routes(),
        two_factor::routes(),
        tokens::routes(),
        openapi::routes(),
    ]
    .concat()
}

pub fn catchers() -> Vec<Catcher> {
    rocket::catchers![api_error]
}

/// Errors Rocket raises before or instead of a handler, as JSON.
#[rocket::catch(default)]
fn api_error(status: Status, request: &Request<'_>) -> StatusError {
    if status == Status::Unauthorized {
        // Cookies set before a guard failed are dropped: remove a stale
        // session cookie here, where it sticks, so the client's next request
        // goes through as anonymous.
        crate::web::session_cookie::remove(request.cookies());
    }
    StatusError(status)
}
