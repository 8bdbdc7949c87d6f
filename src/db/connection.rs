//! The connection: [`DbConnection`] is SQLite or PostgreSQL, decided by the
//! URL; [`establish`] opens one with the settings every connection of ours
//! runs with.

use diesel::{Connection, PgConnection, SqliteConnection};

use super::{postgres, sqlite};

/// The connection every query in the model layer takes: SQLite or
/// PostgreSQL, decided by the URL when it is opened ([`establish`]).
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// The Diesel backend of [`DbConnection`] (for boxed queries).
pub type DbBackend = MultiBackend;

/// Runs `$body` with `$c` bound to the backend's own connection
/// (`&mut SqliteConnection` or `&mut PgConnection`); the body is compiled
/// once for each. For the hot paths: Diesel's MultiConnection writes a
/// query's SQL out again on every execution, even when the prepared
/// statement is cached, so a point read through it spent more time
/// building SQL text than in the database. Statements with no `Box` in
/// them, run this way, are prepared once per connection and reused.
#[macro_export]
macro_rules! natively {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Postgres($c) => $body,
        }
    };
}

pub use crate::config::redacted;

/// The columns of `T`, for `RETURNING` them: Diesel's MultiConnection can
/// return a tuple of columns but not a `T::as_returning()`.
pub fn columns_of<T: diesel::Selectable<DbBackend>>() -> T::SelectExpression {
    T::construct_selection()
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Backend {
        let scheme = url
            .split_once("://")
            .map(|(scheme, _)| scheme.to_ascii_lowercase());
        if matches!(scheme.as_deref(), Some("postgres" | "postgresql")) {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    pub fn of(conn: &DbConnection) -> Backend {
        match conn {
            DbConnection::Sqlite(_) => Backend::Sqlite,
            DbConnection::Postgres(_) => Backend::Postgres,
        }
    }
}

/// Opens one connection to the database at `url`, with the settings every
/// connection of ours runs with.
pub fn establish(url: &str) -> Result<DbConnection, diesel::ConnectionError> {
    let setup = diesel::ConnectionError::CouldntSetupConfiguration;
    Ok(match Backend::of_url(url) {
        Backend::Sqlite => {
            // Before the first connection: SQLite gives the time budget's
            // handler only to connections opened after it is installed.
            sqlite::install_connection_hooks();
            let mut conn = SqliteConnection::establish(url)?;
            sqlite::apply_pragmas(&mut conn).map_err(setup)?;
            DbConnection::Sqlite(conn)
        }
        Backend::Postgres => {
            let mut conn = PgConnection::establish(url)?;
            postgres::apply_settings(&mut conn).map_err(setup)?;
            DbConnection::Postgres(conn)
        }
    })
}
