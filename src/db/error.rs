//! What the database layer itself can go wrong with, besides a query's own
//! Diesel error. The helpers that lend a connection ([`super::Db::read`],
//! [`super::Writer::write`]) are generic in their caller's error type and
//! need only `From<DbError>` of it: so this layer names nothing above it,
//! and the domain turns a [`DbError`] into its own error in one place.

use diesel::result::DatabaseErrorInformation;

use super::{postgres, sqlite};

/// A failure of the database layer, not of the work it ran.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database, its pool or the writer's queue stayed busy past its
    /// timeout: nothing was written, and the caller may try again.
    #[error("the database is busy")]
    Busy,
    /// A query failed (other than for being busy).
    #[error(transparent)]
    Query(diesel::result::Error),
    /// Our own fault: a pool or the writer that is not there, a job that
    /// panicked, a group that did not commit.
    #[error("{0}")]
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl DbError {
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        DbError::Internal(cause.into())
    }
}

impl From<diesel::result::Error> for DbError {
    fn from(error: diesel::result::Error) -> Self {
        if is_busy(&error) {
            DbError::Busy
        } else {
            DbError::Query(error)
        }
    }
}

/// The column a unique violation is about (`email` for a taken email).
pub fn unique_violation_column(info: &dyn DatabaseErrorInformation) -> Option<String> {
    // PostgreSQL names the constraint; SQLite only says it in the message.
    if info.constraint_name().is_some() {
        postgres::unique_violation_column(info)
    } else {
        sqlite::unique_violation_column(info)
    }
}

/// Whether an error means "the database was too busy, try again": nothing
/// was written.
pub fn is_busy(error: &diesel::result::Error) -> bool {
    match error {
        diesel::result::Error::DatabaseError(_, info) => {
            sqlite::is_busy(info.as_ref()) || postgres::is_busy(info.as_ref())
        }
        _ => false,
    }
}
