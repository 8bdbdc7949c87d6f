//! The SQLite-only parts of talking to the database, in one place.

use std::path::PathBuf;

use diesel::connection::SimpleConnection;

use super::DbConnection;

/// Run on every connection we open, before anything else.
///
/// - `busy_timeout` first, so the statements after it already wait for a lock
///   instead of failing; 5 s lets queued writers take their turn.
/// - WAL lets readers go on while one writer writes.
/// - `synchronous = NORMAL` is durable across application crashes in WAL mode
///   and much faster than FULL (only an OS crash can lose the last commits).
/// - SQLite leaves foreign keys off unless asked, per connection.
pub const PRAGMAS: &str = "PRAGMA busy_timeout = 5000;\
     PRAGMA journal_mode = WAL;\
     PRAGMA synchronous = NORMAL;\
     PRAGMA foreign_keys = ON;";

pub(super) fn apply_pragmas(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    conn.batch_execute(PRAGMAS)
}

/// The folder that must exist for SQLite to create the database file at
/// `url` (a path, or a `file:` URI); `None` for in-memory databases and
/// files in the current folder.
pub(super) fn folder_of(url: &str) -> Option<PathBuf> {
    let path = url.strip_prefix("file:").unwrap_or(url);
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    let parent = std::path::Path::new(path).parent()?;
    (!parent.as_os_str().is_empty()).then(|| parent.to_owned())
}

/// The column named by SQLite's "UNIQUE constraint failed: users.email".
pub fn unique_violation_column(message: &str) -> Option<String> {
    let columns = message.strip_prefix("UNIQUE constraint failed: ")?;
    let first = columns.split(',').next()?.trim();
    first.rsplit('.').next().map(str::to_owned)
}

/// Whether the database stayed locked past `busy_timeout` (SQLITE_BUSY).
pub fn is_busy(error: &diesel::result::Error) -> bool {
    match error {
        diesel::result::Error::DatabaseError(_, info) => {
            let message = info.message();
            message.contains("database is locked") || message.contains("database is busy")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{folder_of, unique_violation_column};

    #[test]
    fn the_column_of_a_unique_violation_is_named() {
        assert_eq!(
            unique_violation_column("UNIQUE constraint failed: users.email").as_deref(),
            Some("email")
        );
        assert_eq!(
            unique_violation_column("NOT NULL constraint failed: users.uid"),
            None
        );
    }
    use std::path::PathBuf;

    #[test]
    fn folder_of_a_relative_path_is_its_parent() {
        assert_eq!(
            folder_of("volumes/portfolio.db"),
            Some(PathBuf::from("volumes"))
        );
    }

    #[test]
    fn folder_of_a_uri_ignores_the_scheme_and_query() {
        assert_eq!(
            folder_of("file:/data/p.db?mode=rwc"),
            Some(PathBuf::from("/data"))
        );
    }

    #[test]
    fn memory_and_bare_files_need_no_folder() {
        assert_eq!(folder_of(":memory:"), None);
        assert_eq!(folder_of("p.db"), None);
    }
}
