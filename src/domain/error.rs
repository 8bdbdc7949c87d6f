//! One error type for the domain, free of HTTP: what went wrong, in words a
//! client may read (or, for our own faults, a cause that is only logged).
//! The web layer (`web::error`) decides the status, the JSON body and the
//! error page of each variant.

use std::collections::BTreeMap;

use diesel::result::{DatabaseErrorKind, Error as DieselError};

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
    /// The password was right; the login needs a code from the account's
    /// authenticator app next. Carries the token of the half-done login.
    #[error(
        "the password was right: now the code from your authenticator app (or a recovery code)"
    )]
    SecondFactorRequired(String),
    /// Too many failed logins or codes, or reset links asked for: try again
    /// after this many seconds.
    #[error("too many attempts; try again in {} minutes", .0.div_ceil(60))]
    TooManyRequests(u64),
    /// This server is not set up for it (no mail server, say): asking
    /// again will not help until an admin changes the configuration.
    #[error("{0}")]
    Unavailable(&'static str),
    /// The database stayed locked past its timeout: the client may retry.
    #[error("the server is busy; try again shortly")]
    Busy,
    /// Our fault. The cause is logged, never shown.
    #[error("internal error: {0}")]
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
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

    pub fn fields(&self) -> Option<&FieldErrors> {
        match self {
            AppError::Conflict { fields, .. } | AppError::Validation { fields, .. } => Some(fields),
            _ => None,
        }
    }

    /// What the client is told.
    pub fn public_message(&self) -> String {
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

impl From<crate::db::DbError> for AppError {
    fn from(error: crate::db::DbError) -> Self {
        use crate::db::DbError;
        match error {
            DbError::Busy => AppError::Busy,
            DbError::Query(error) => AppError::from(error),
            DbError::Internal(cause) => AppError::Internal(cause),
        }
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
    fn internal_causes_are_not_shown_to_clients() {
        let error = AppError::internal(std::io::Error::other("disk on fire"));
        assert_eq!(error.public_message(), "internal server error");
    }
}
