//! The JSON API, mounted at `/api`.
//!
//! Every error, including Rocket's own (unknown route, body over the limit),
//! answers `{"error": {"status": N, "message": "...", "fields": {...}}}`.

pub mod openapi;
pub mod posts;
pub mod session;
pub mod users;
mod views;

use rocket::http::Status;
use rocket::serde::json::{self, Json};
use rocket::{Catcher, Request, Route};

use crate::error::{AppError, StatusError};

pub use views::{Paginated, PostView, UserView};

/// A JSON request body, or the reason it could not be read, which the
/// handler turns into our error shape with `?`.
pub type JsonBody<'r, T> = Result<Json<T>, json::Error<'r>>;

/// Unwraps a [`JsonBody`].
pub fn body<T>(body: JsonBody<'_, T>) -> Result<T, AppError> {
    Ok(body?.into_inner())
}

pub fn routes() -> Vec<Route> {
    [
        users::routes(),
        posts::routes(),
        session::routes(),
        openapi::routes(),
    ]
    .concat()
}

pub fn catchers() -> Vec<Catcher> {
    rocket::catchers![api_error]
}

/// Errors Rocket raises before or instead of a handler, as JSON.
#[rocket::catch(default)]
fn api_error(status: Status, _request: &Request<'_>) -> StatusError {
    StatusError(status)
}
