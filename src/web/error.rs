//! How the domain's errors reach a client: each variant's status, the JSON
//! body the API answers
//! (`{"error": {"status": 422, "message": "...", "fields": {"uid": "..."}}}`)
//! and the error page the site shows. Client mistakes are 4xx with a message
//! meant for the client; our own faults are 500 with a generic message, the
//! cause logged in full with the request's id.

use std::io::Cursor;

use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::serde::json;
use serde::Serialize;

use crate::domain::error::{AppError, FieldErrors};

impl AppError {
    pub fn status(&self) -> Status {
        match self {
            AppError::BadRequest(_) => Status::BadRequest,
            AppError::Unauthorized(_) | AppError::SecondFactorRequired(_) => Status::Unauthorized,
            AppError::Forbidden(_) => Status::Forbidden,
            AppError::NotFound => Status::NotFound,
            AppError::Conflict { .. } => Status::Conflict,
            AppError::PayloadTooLarge => Status::PayloadTooLarge,
            AppError::UnsupportedMediaType => Status::UnsupportedMediaType,
            AppError::Validation { .. } => Status::UnprocessableEntity,
            AppError::TooManyRequests(_) => Status::TooManyRequests,
            AppError::Busy | AppError::Unavailable(_) => Status::ServiceUnavailable,
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
    /// A machine-readable reason, where a client must act on it
    /// (`second_factor_required`).
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    /// With `second_factor_required`: the token of the half-done login, to
    /// send back with the code.
    #[serde(skip_serializing_if = "Option::is_none")]
    challenge: Option<&'a str>,
}

/// The JSON error response for `status`, used by [`AppError`] and by the
/// catchers for errors Rocket raises itself (unknown routes, limits).
pub fn json_error(
    status: Status,
    message: String,
    fields: Option<&FieldErrors>,
) -> Response<'static> {
    json_error_body(ErrorDetail {
        status: status.code,
        message,
        fields,
        code: None,
        challenge: None,
    })
}

fn json_error_body(detail: ErrorDetail<'_>) -> Response<'static> {
    let status = Status::from_code(detail.status).unwrap_or(Status::InternalServerError);
    let body = serde_json::to_string(&ErrorBody { error: detail }).unwrap_or_else(|_| {
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
                crate::web::request_log::request_id(request),
                crate::domain::error::chain(cause.as_ref())
            );
        }
        let mut response = if request.uri().path().starts_with("/api") {
            let challenge = match &self {
                AppError::SecondFactorRequired(challenge) => Some(challenge.as_str()),
                _ => None,
            };
            json_error_body(ErrorDetail {
                status: self.status().code,
                message: self.public_message(),
                fields: self.fields(),
                code: challenge.map(|_| "second_factor_required"),
                challenge,
            })
        } else {
            let page = crate::web::pages::error_page(self.status(), Some(&self.public_message()));
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
}
