//! The domain: users and posts, their validated inputs, their rules (who may
//! do what), their queries and the use cases that change them (accounts,
//! sessions, API tokens, images, the first-launch seed, export and import).
//! Functions here take a plain connection (or the `Db` handle) and know
//! nothing of HTTP, so the API, the pages and the CLI share them. Below
//! this layer is `db`; above it, `web` and `cli`.

pub mod accounts;
pub mod actor;
pub mod api_token;
pub mod backups;
pub mod comments;
pub mod dashboard;
pub mod email_verification;
pub mod error;
pub mod fields;
pub mod images;
pub mod invite;
pub mod markdown;
pub mod outbox;
pub mod page;
pub mod password;
pub mod password_reset;
pub mod post;
pub mod post_views;
pub mod posts;
pub mod role;
pub mod schedule;
pub mod search;
pub mod secret;
pub mod seed;
pub mod session;
pub mod suspension;
pub mod syndication;
pub mod tags;
pub mod throttle;
pub mod transfer;
pub mod two_factor;
pub mod user;

pub use actor::{Credential, CurrentUser, Viewer};
pub use page::Page;
pub use post::{NewPost, Post, PostChanges, PostWithAuthor};
pub use role::Role;
pub use user::{NewUser, User, UserChanges, UserOrder};

use crate::domain::error::FieldErrors;

/// The timestamp we store: UTC, to the microsecond (finer than SQLite's own
/// milliseconds, so "most recently updated first" holds for quick edits).
pub fn now() -> chrono::NaiveDateTime {
    use chrono::{DurationRound, TimeDelta};
    let now = chrono::Utc::now().naive_utc();
    now.duration_trunc(TimeDelta::microseconds(1))
        .unwrap_or(now)
}

/// Collects per-field validation messages while checking a whole input, so
/// the client hears about every mistake at once.
#[derive(Default)]
pub struct Checker {
    errors: FieldErrors,
}

impl Checker {
    /// Records `result`'s error under `field`; returns the value if valid.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(message) => {
                self.errors.insert(field.to_owned(), message);
                None
            }
        }
    }

    /// Checks a field that may be absent.
    pub fn check_optional<T>(
        &mut self,
        field: &str,
        raw: Option<&str>,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<Option<T>> {
        match raw {
            None => Some(None),
            Some(raw) => self.check(field, parse(raw)).map(Some),
        }
    }

    pub fn fail(&mut self, field: &str, message: &str) {
        self.errors.insert(field.to_owned(), message.to_owned());
    }

    /// `Ok(value)` when every field was valid, else a 422 listing them.
    /// `value` is built only when nothing failed.
    pub fn finish<T>(
        self,
        value: impl FnOnce() -> Option<T>,
    ) -> crate::domain::error::AppResult<T> {
        if self.errors.is_empty() {
            if let Some(value) = value() {
                return Ok(value);
            }
        }
        Err(crate::domain::error::AppError::invalid(self.errors))
    }
}
