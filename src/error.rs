//! One error type for the whole app. Each variant knows its HTTP status; the
//! JSON API answers
//! `{"error": {"status": 422, "message": "...", "fields": {"uid": "..."}}}`.
//!
//! Client mistakes are 4xx with a message meant for the client. Our own
//! faults are 500 with a generic message, the cause logged in full.

use std::collections::BTreeMap;
use std::io::Cursor;

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::serde::json;
use serde::Serialize;

/// Per-field messages, keyed by the field's name in the request.
pub type FieldErrors = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request could not be read at all (malformed JSON, bad encoding).
    #[error("{0}")]
    BadRequest(String),
    /// No credentials, or credentials that do not hold (anymore).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Logged in, but not allowed to do this.
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    /// The request clashes with the current state: a unique value (uid,
    /// email) already in use, or a rule like "there must be an admin".
    #[error("{message}")]
    Conflict {
        message: String,
        fields: FieldErrors,
    },
    #[error("the request body is larger than the configured limit")]
    PayloadTooLarge,
    #[error("the request body must be JSON, sent with Content-Type: application/json")]
    UnsupportedMediaType,
    /// Well-formed input that breaks a rule.
    #[error("{message}")]
    Validation {
        message: String,
        fields: FieldErrors,
    },
    /// Too many failed logins: try again after this many seconds.
    #[error("too many failed logins; try again in {} minutes", .0.div_ceil(60))]
    TooManyRequests(u64),
    /// The database stayed locked past its timeout: the client may retry.
    #[error("the server is busy; try again shortly")]
    Busy,
    /// Our fault. The cause is logged, never shown.
    #[error("internal error: {0}")]
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn status(&self) -> Status {
        match self {
            AppError::BadRequest(_) => Status::BadRequest,
            AppError::Unauthorized(_) => Status::Unauthorized,
            AppError::Forbidden(_) => Status::Forbidden,
            AppError::NotFound => Status::NotFound,
            AppError::Conflict { .. } => Status::Conflict,
            AppError::PayloadTooLarge => Status::PayloadTooLarge,
            AppError::UnsupportedMediaType => Status::UnsupportedMediaType,
            AppError::Validation { .. } => Status::UnprocessableEntity,
            AppError::TooManyRequests(_) => Status::TooManyRequests,
            AppError::Busy => Status::ServiceUnavailable,
            AppError::Internal(_) => Status::InternalServerError,
        }
    }

    /// Seconds the client should wait before trying again, if any.
    fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::TooManyRequests(seconds) => Some(*seconds),
            AppError::Busy => Some(1),
            _ => None,
        }
    }

    /// A 422 listing what is wrong with each field.
    pub fn invalid(fields: FieldErrors) -> Self {
        AppError::Validation {
            message: "some fields are invalid".to_owned(),
            fields,
        }
    }

    /// A 422 for one field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::invalid(FieldErrors::from([(field.to_owned(), message.into())]))
    }

    pub fn internal(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        AppError::Internal(Box::new(cause))
    }

    fn fields(&self) -> Option<&FieldErrors> {
        match self {
            AppError::Conflict { fields, .. } | AppError::Validation { fields, .. } => Some(fields),
            _ => None,
        }
    }

    /// What the client is told.
    fn public_message(&self) -> String {
        match self {
            AppError::Internal(_) => "internal server error".to_owned(),
            other => other.to_string(),
        }
    }
}

impl From<DieselError> for AppError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => AppError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                let field = crate::db::unique_violation_column(info.as_ref())
                    .unwrap_or_else(|| "value".to_owned());
                AppError::Conflict {
                    message: format!("that {field} is already taken"),
                    fields: FieldErrors::from([(field, "is already taken".to_owned())]),
                }
            }
            error if crate::db::is_busy(&error) => AppError::Busy,
            error => AppError::internal(error),
        }
    }
}

/// Rocket's JSON guard failed: say why in our own shape. The statuses are the
/// ones Rocket's `Json` guard would give.
impl From<json::Error<'_>> for AppError {
    fn from(error: json::Error<'_>) -> Self {
        use serde_json::error::Category;
        match error {
            json::Error::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                AppError::PayloadTooLarge
            }
            json::Error::Io(e) => {
                AppError::BadRequest(format!("cannot read the request body: {e}"))
            }
            json::Error::Parse(_, e) if e.classify() == Category::Data => {
                let message = e.to_string();
                let fields = field_named_in(&message)
                    .map(|field| FieldErrors::from([(field, message.clone())]))
                    .unwrap_or_default();
                AppError::Validation { message, fields }
            }
            json::Error::Parse(_, e) => AppError::BadRequest(format!("malformed JSON: {e}")),
        }
    }
}

/// serde names the field in "missing field `uid`" and "unknown field `x`".
fn field_named_in(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("missing field `")
        .or_else(|| message.strip_prefix("unknown field `"))?;
    rest.split('`').next().map(str::to_owned)
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    status: u16,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<&'a FieldErrors>,
}

/// The JSON error response for `status`, used by [`AppError`] and by the
/// catchers for errors Rocket raises itself (unknown routes, limits).
pub fn json_error(
    status: Status,
    message: String,
    fields: Option<&FieldErrors>,
) -> Response<'static> {
    let body = serde_json::to_string(&ErrorBody {
        error: ErrorDetail {
            status: status.code,
            message,
            fields,
        },
    })
    .unwrap_or_else(|_| {
        String::from(r#"{"error":{"status":500,"message":"internal server error"}}"#)
    });
    Response::build()
        .status(status)
        .header(ContentType::JSON)
        .sized_body(body.len(), Cursor::new(body))
        .finalize()
}

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        if let AppError::Internal(cause) = &self {
            log::error!(
                "{} {} rid={}: internal error: {}",
                request.method(),
                request.uri().path(),
                crate::request_log::request_id(request),
                crate::error::chain(cause.as_ref())
            );
        }
        let mut response = if request.uri().path().starts_with("/api") {
            json_error(self.status(), self.public_message(), self.fields())
        } else {
            let page =
                crate::routes::pages::error_page(self.status(), Some(&self.public_message()));
            (self.status(), page).respond_to(request)?
        };
        if let Some(seconds) = self.retry_after() {
            response.set_header(Header::new("Retry-After", seconds.to_string()));
        }
        Ok(response)
    }
}

/// An error Rocket raised itself, before or instead of a handler (no such
/// route, a body over the limit, a guard that failed), for the catchers.
pub struct StatusError(pub Status);

impl StatusError {
    fn message(&self, request: &Request<'_>) -> String {
        match self.0.code {
            400 => "the request is malformed",
            // The guard's own reason is lost on the way to the catcher.
            401 if request.headers().contains("Authorization") => {
                "the API token is not valid (revoked?); send Authorization: Bearer <token>"
            }
            401 => "log in first (or your session has ended)",
            403 => "you are not allowed to do that",
            404 => "no such resource",
            413 => "the request body is larger than the configured limit",
            422 => "the request's parameters or body could not be understood",
            503 => "the server is busy; try again shortly",
            _ => self.0.reason_lossy(),
        }
        .to_owned()
    }
}

impl<'r> Responder<'r, 'static> for StatusError {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let mut response = json_error(self.0, self.message(request), None);
        if self.0 == Status::ServiceUnavailable {
            response.set_header(Header::new("Retry-After", "1"));
        }
        Ok(response)
    }
}

/// An error and its causes, on one line.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_field_names_are_pulled_out_of_its_messages() {
        assert_eq!(
            field_named_in("missing field `uid` at line 1 column 2").as_deref(),
            Some("uid")
        );
        assert_eq!(
            field_named_in("unknown field `x`, expected one of").as_deref(),
            Some("x")
        );
        assert_eq!(field_named_in("invalid type: integer `5`"), None);
    }

    #[test]
    fn each_error_has_the_status_its_meaning_calls_for() {
        assert_eq!(AppError::NotFound.status(), Status::NotFound);
        assert_eq!(
            AppError::invalid_field("uid", "bad").status(),
            Status::UnprocessableEntity
        );
        let conflict = AppError::Conflict {
            message: "taken".into(),
            fields: FieldErrors::new(),
        };
        assert_eq!(conflict.status(), Status::Conflict);
        assert_eq!(AppError::Busy.status(), Status::ServiceUnavailable);
    }

    #[test]
    fn internal_causes_are_not_shown_to_clients() {
        let error = AppError::internal(std::io::Error::other("disk on fire"));
        assert_eq!(error.public_message(), "internal server error");
    }
}
