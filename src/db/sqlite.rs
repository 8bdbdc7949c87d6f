//! The SQLite-only parts of talking to the database, in one place; their
//! PostgreSQL counterparts are in [`super::postgres`], and `db/mod.rs` picks
//! one or the other.

use std::path::PathBuf;

use diesel::connection::SimpleConnection;
use diesel::result::DatabaseErrorInformation;
use diesel::SqliteConnection;

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

/// Applies [`PRAGMAS`], trying again for up to 10 s while the database is
/// locked: a connection opened just as another's last connection closes
/// (and checkpoints the WAL under an exclusive lock) can be refused before
/// its `busy_timeout` applies. A restart under load met it in CI (the new
/// app's set-up refused while the stopped app's connections closed).
pub(super) fn apply_pragmas(conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
    use std::time::{Duration, Instant};
    let patience = Instant::now() + Duration::from_secs(10);
    loop {
        match conn.batch_execute(PRAGMAS) {
            Err(diesel::result::Error::DatabaseError(_, info))
                if is_busy(info.as_ref()) && Instant::now() < patience =>
            {
                std::thread::sleep(Duration::from_millis(25));
            }
            done => return done,
        }
    }
}

/// Makes a connection refuse every write (for the readers' pool).
pub(super) fn make_read_only(conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
    conn.batch_execute("PRAGMA query_only = ON;")
}

/// The folder that must exist for SQLite to create the database file at
/// `url` (a path, or a `file:` URI); `None` for in-memory databases and
/// files in the current folder.
pub(super) fn folder_of(url: &str) -> Option<PathBuf> {
    let path = file_of(url)?;
    let parent = path.parent()?;
    (!parent.as_os_str().is_empty()).then(|| parent.to_owned())
}

/// Writes a consistent copy of the whole database to `target` while others
/// keep reading and writing (`VACUUM INTO`, one read transaction). The path
/// is bound as a parameter, never spliced into the SQL.
pub(super) fn vacuum_into(conn: &mut SqliteConnection, target: &str) -> diesel::QueryResult<()> {
    use diesel::RunQueryDsl;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<diesel::sql_types::Text, _>(target)
        .execute(conn)
        .map(drop)
}

#[derive(diesel::QueryableByName)]
struct IntegrityRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

/// `PRAGMA integrity_check`: `Ok` when SQLite says "ok", else its findings.
pub(super) fn integrity_check(conn: &mut SqliteConnection) -> Result<(), String> {
    use diesel::RunQueryDsl;
    let rows: Vec<IntegrityRow> = diesel::sql_query("PRAGMA integrity_check")
        .load(conn)
        .map_err(|e| e.to_string())?;
    let findings: Vec<String> = rows.into_iter().map(|r| r.integrity_check).collect();
    if findings == ["ok"] {
        Ok(())
    } else {
        Err(findings.join("; "))
    }
}

/// Moves everything in the write-ahead log into the database file and
/// empties the log, so the file alone is complete (on shutdown).
pub(super) fn checkpoint(conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
    conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")
}

/// The lock file beside a database: running servers hold a shared lock on
/// it; `restore` needs it exclusively.
pub fn lock_path(database: &std::path::Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// The database file of a URL (a path or a `file:` URI).
pub fn file_of(url: &str) -> Option<PathBuf> {
    if super::Backend::of_url(url) != super::Backend::Sqlite {
        return None;
    }
    let path = url.strip_prefix("file:").unwrap_or(url);
    let path = path.split('?').next().unwrap_or(path);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// The column named by SQLite's "UNIQUE constraint failed: users.email".
pub(super) fn unique_violation_column(info: &dyn DatabaseErrorInformation) -> Option<String> {
    column_of_unique_message(info.message())
}

fn column_of_unique_message(message: &str) -> Option<String> {
    let columns = message.strip_prefix("UNIQUE constraint failed: ")?;
    let first = columns.split(',').next()?.trim();
    first.rsplit('.').next().map(str::to_owned)
}

/// Whether the database stayed locked past `busy_timeout` (SQLITE_BUSY).
pub(super) fn is_busy(info: &dyn DatabaseErrorInformation) -> bool {
    let message = info.message();
    message.contains("database is locked")
        || message.contains("database is busy")
        // A statement stopped by the time budget (SQLITE_INTERRUPT).
        || message == "interrupted"
}

thread_local! {
    /// When the statements run on this thread must give up, if ever.
    static DEADLINE: std::cell::Cell<Option<std::time::Instant>> =
        const { std::cell::Cell::new(None) };
}

/// Runs `work` with a time budget for the SQLite statements it runs on this
/// thread: one still running when the budget is spent stops with
/// SQLITE_INTERRUPT ("interrupted", which [`super::is_busy`] reports as busy: a
/// 503 with `Retry-After`), so a runaway query cannot hold its thread.
/// Budgets nest; the inner one holds while it runs.
pub fn with_budget<T>(budget: std::time::Duration, work: impl FnOnce() -> T) -> T {
    install_connection_hooks();
    let previous =
        DEADLINE.with(|deadline| deadline.replace(Some(std::time::Instant::now() + budget)));
    // Put back on the way out, even when `work` panics.
    struct Restore(Option<std::time::Instant>);
    impl Drop for Restore {
        fn drop(&mut self) {
            DEADLINE.with(|deadline| deadline.set(self.0));
        }
    }
    let _restore = Restore(previous);
    work()
}

/// SQLite calls this every [`PROGRESS_STEPS`] virtual-machine steps of a
/// statement; non-zero stops it.
unsafe extern "C" fn past_deadline(_: *mut std::ffi::c_void) -> std::ffi::c_int {
    let spent = DEADLINE.with(|deadline| {
        deadline
            .get()
            .is_some_and(|at| std::time::Instant::now() >= at)
    });
    std::ffi::c_int::from(spent)
}

/// About 10 µs of work between two looks at the clock.
const PROGRESS_STEPS: std::ffi::c_int = 1000;

/// Gives a connection the progress handler and our FTS5 ranking function
/// (for every connection SQLite opens in this process, see below).
unsafe extern "C" fn on_open(
    db: *mut libsqlite3_sys::sqlite3,
    _error: *mut *mut std::ffi::c_char,
    _api: *const libsqlite3_sys::sqlite3_api_routines,
) -> std::ffi::c_int {
    // SAFETY: `db` is the connection SQLite is opening, valid for this call
    // and not yet shared with any other thread.
    unsafe {
        libsqlite3_sys::sqlite3_progress_handler(
            db,
            PROGRESS_STEPS,
            Some(past_deadline),
            std::ptr::null_mut(),
        );
        // The query planner's stability guarantee: plans never depend on
        // the values bound to a statement. Without it SQLite 3.53 reads a
        // bound `LIMIT ?` (and values compared with a partial index's
        // condition) while planning, so every new binding expires the
        // statement and the next step prepares it again: each listing
        // query was compiled twice a request (12 % of the home page's
        // time), and Diesel's statement cache bought nothing. Our plans
        // come from the indexes alone, never from a bound value.
        let status = libsqlite3_sys::sqlite3_db_config(
            db,
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::ffi::c_int,
            std::ptr::null_mut::<std::ffi::c_int>(),
        );
        if status != libsqlite3_sys::SQLITE_OK {
            return status;
        }
        // A connection without it would answer every search with "no such
        // function": better that opening it fails, loudly.
        super::fts5_rank::register(db)
    }
}

/// Diesel does not hand out its connections' SQLite handles, so the handler
/// and the function are installed as an "automatic extension", which SQLite
/// runs on every connection it opens from then on (before the first is
/// opened: see `establish`). Without a deadline on the thread the handler
/// never stops anything.
/// SQLite's process-wide settings, which it takes only before it is first
/// used (registering the hooks below is that first use):
///
/// - multi-thread mode: each connection is used by one thread at a time
///   (Diesel's connections are not `Sync`, and a pool lends each to one
///   request), so the lock SQLite otherwise takes around every call on a
///   connection buys nothing;
/// - no memory statistics: keeping them takes one mutex, shared by every
///   connection in the process, around each of SQLite's allocations, which
///   the readers of two threads met on.
fn configure_library() {
    use libsqlite3_sys::{sqlite3_config, SQLITE_CONFIG_MEMSTATUS, SQLITE_CONFIG_MULTITHREAD};
    // SAFETY: called once, before any other SQLite call of this process
    // (see `install_connection_hooks`); after one, SQLite refuses with
    // SQLITE_MISUSE and changes nothing.
    let statuses = unsafe {
        [
            sqlite3_config(SQLITE_CONFIG_MULTITHREAD),
            sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int),
        ]
    };
    if statuses
        .iter()
        .any(|&status| status != libsqlite3_sys::SQLITE_OK)
    {
        log::debug!("SQLite was in use already: its defaults stay ({statuses:?})");
    }
}

pub(super) fn install_connection_hooks() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        configure_library();
        // SAFETY: `on_open` has the signature SQLite calls automatic
        // extensions with, and lives as long as the program.
        let status = unsafe { libsqlite3_sys::sqlite3_auto_extension(Some(on_open)) };
        if status != libsqlite3_sys::SQLITE_OK {
            log::warn!("the SQLite connection hooks could not be installed (code {status})");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::{column_of_unique_message as unique_violation_column, folder_of};

    /// A query that would run for minutes stops when its budget is spent,
    /// with an error the web layer answers 503; the connection stays usable
    /// and, outside a budget, nothing is stopped.
    #[test]
    fn a_runaway_read_stops_at_its_time_budget() {
        use diesel::prelude::*;
        use std::time::{Duration, Instant};
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("budget.db").display().to_string();
        let mut conn = crate::db::establish(&url).unwrap();
        let forever = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) \
                       SELECT COUNT(*) FROM n";
        let started = Instant::now();
        let result = super::with_budget(Duration::from_millis(50), || {
            diesel::sql_query(forever).execute(&mut conn)
        });
        let took = started.elapsed();
        let error = result.expect_err("the runaway query is stopped");
        assert!(crate::db::is_busy(&error), "{error}");
        assert!(took < Duration::from_secs(5), "stopped after {took:?}");
        assert!(matches!(
            crate::db::DbError::from(error),
            crate::db::DbError::Busy
        ));
        // The same connection goes on; a quick query within a budget passes.
        let quick = super::with_budget(Duration::from_millis(50), || {
            diesel::sql_query("SELECT 1").execute(&mut conn)
        });
        assert!(quick.is_ok());
        // Without a budget the handler never stops a statement.
        let bounded = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n \
                       WHERE i < 300000) SELECT COUNT(*) FROM n";
        diesel::sql_query(bounded).execute(&mut conn).unwrap();
    }

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

#[derive(diesel::QueryableByName)]
struct FileSize {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    bytes: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    file: String,
}

/// The database's size in bytes: its pages (`page_count * page_size`, two
/// pragmas that read the file's header, whatever its size) plus its
/// write-ahead log (`<file>-wal`, whose size the file system knows).
pub(super) fn database_bytes(conn: &mut SqliteConnection) -> diesel::QueryResult<i64> {
    use diesel::RunQueryDsl;
    let main: FileSize = diesel::sql_query(
        "SELECT (SELECT page_count FROM pragma_page_count()) \
                * (SELECT page_size FROM pragma_page_size()) AS bytes, \
                COALESCE((SELECT file FROM pragma_database_list WHERE name = 'main'), '') AS file",
    )
    .get_result(conn)?;
    let wal = if main.file.is_empty() {
        0
    } else {
        std::fs::metadata(format!("{}-wal", main.file)).map_or(0, |meta| meta.len())
    };
    Ok(main.bytes + i64::try_from(wal).unwrap_or(i64::MAX))
}
