//! The database: connections with our settings, the request pool, and the
//! embedded migrations, for SQLite or PostgreSQL.
//!
//! The database URL decides: `postgres://…` (or `postgresql://…`) is
//! PostgreSQL, anything else is a SQLite file. Queries are written once with
//! Diesel's query builder against [`DbConnection`], which is either. What
//! genuinely differs between the two (connection settings, read-only mode,
//! error details, SQLite's file maintenance) is one small function each in
//! [`sqlite`] and [`postgres`], side by side; the functions here pick one.

mod error;
mod fts5_rank;
mod postgres;
pub mod schema;
mod sqlite;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::result::DatabaseErrorInformation;
use diesel::sqlite::Sqlite;
use diesel::{Connection, PgConnection, QueryDsl, RunQueryDsl, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use rocket::{Build, Orbit, Rocket};
use rocket_sync_db_pools::{database, Config, PoolResult, Poolable};

pub use error::DbError;
pub use sqlite::{file_of, lock_path, with_budget, PRAGMAS};
pub use writer::{write_transaction, Writer};

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

/// `url` fit to print: a PostgreSQL URL's password (before the last `@`,
/// whatever characters it holds) and any `password=` parameter become
/// `***`, so that logs and messages never carry them.
pub fn redacted(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let mut shown = url.to_owned();
    if let Some(at) = url[scheme_end..].rfind('@').map(|i| scheme_end + i) {
        if let Some(colon) = url[scheme_end..at].find(':').map(|i| scheme_end + i) {
            shown = format!("{}:***{}", &url[..colon], &url[at..]);
        }
    }
    if let Some(query) = shown.find('?') {
        let (base, params) = shown.split_at(query + 1);
        let params: Vec<String> = params
            .split('&')
            .map(|param| match param.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => param.to_owned(),
            })
            .collect();
        shown = format!("{base}{}", params.join("&"));
    }
    shown
}

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

/// The SQLite migrations in `migrations/sqlite/`, compiled into the binary.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
/// The PostgreSQL migrations in `migrations/postgres/`: the same versions,
/// making the same tables and columns (a test compares them).
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// The readers' pool: as many connections as configured, each read-only
/// (`PRAGMA query_only`), so a write sent here by mistake fails loudly
/// instead of competing for the lock. rocket_sync_db_pools reads its
/// configuration and opens it at launch; handlers use [`Db`], which reads
/// through [`ReadPoolHandle`].
#[database("portfolio")]
pub struct ReadPool(ReadConnection);

/// The r2d2 pool behind [`ReadPool`], kept by [`ReadConnection::pool`] when
/// rocket_sync_db_pools builds it, so [`Db::read`] can take connections
/// without rocket_sync_db_pools' two blocking-thread hops per query.
pub struct ReadPoolHandle {
    pool: OnceLock<r2d2::Pool<ConnectionManager>>,
    /// How many slow reads may hold a connection at once (one per core),
    /// so they can never take every connection from the quick ones.
    slow_reads: rocket::tokio::sync::Semaphore,
}

impl Default for ReadPoolHandle {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        ReadPoolHandle {
            pool: OnceLock::new(),
            slow_reads: rocket::tokio::sync::Semaphore::new(cores),
        }
    }
}

/// How long a read on an async worker may run on SQLite before it is
/// stopped (503): every such read returns a page of rows through indexes in
/// well under a millisecond, so one that runs this long is a runaway that
/// would otherwise hold a worker, and every request behind it.
pub const READ_BUDGET: Duration = Duration::from_millis(100);
/// The same for reads on blocking threads ([`Db::read_slow`]), and for all
/// reads on PostgreSQL (its `statement_timeout`).
pub const SLOW_READ_BUDGET: Duration = Duration::from_secs(2);

/// The database, as a request guard: `db.read(|conn| ...)` and
/// `db.write(|conn| ...)` lend a connection for the closure only.
///
/// Unlike rocket_sync_db_pools' own guard, it holds no connection for the
/// rest of the request. So a request never holds one connection while
/// waiting for another (the session guard needs one too), nor while argon2
/// runs; and no order of guards in a handler can drain the pool.
pub struct Db<'r>(&'r Rocket<Orbit>);

impl<'r> Db<'r> {
    pub fn new(rocket: &'r Rocket<Orbit>) -> Self {
        Db(rocket)
    }

    /// Runs `work` on a read-only connection from the readers' pool, right
    /// here on the async worker.
    ///
    /// Why not on a blocking thread: our reads are indexed lookups and
    /// pages of 20 rows that take SQLite tens of microseconds, and in WAL
    /// mode a reader never waits for the writer. Handing each one to a
    /// blocking thread and back cost ten times the query itself (see
    /// docs/PERFORMANCE.md). The connection is never held across an
    /// `.await`, so at most one per worker is out at a time and a pool at
    /// least as large as `workers` never makes a worker wait.
    ///
    /// On PostgreSQL a read is a round trip to the server, and the same
    /// choice still measured best (docs/PERFORMANCE.md: `block_in_place`
    /// doubled the p99). The cost: a stalled database server holds the
    /// workers, so the instance stops answering rather than saying 503.
    pub async fn read<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
        E: From<DbError>,
    {
        let (pool, _) = self.read_pool()?;
        read_within(pool, READ_BUDGET, work)
    }

    /// Runs `work` like [`Db::read`] but on a blocking thread, at most one
    /// per core at a time: for reads that can take milliseconds (full-text
    /// search ranks up to a thousand matches; trending's first ranking sums
    /// a week of views), which must not hold up the async workers that serve
    /// everyone else.
    pub async fn read_slow<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let (pool, handle) = self.read_pool()?;
        let _turn = handle
            .slow_reads
            .acquire()
            .await
            .map_err(|_| DbError::Busy)?;
        let pool = pool.clone();
        rocket::tokio::task::spawn_blocking(move || read_within(&pool, SLOW_READ_BUDGET, work))
            .await
            .map_err(DbError::internal)?
    }

    /// The readers' pool itself, for background work outside requests.
    pub fn readers(rocket: &Rocket<Orbit>) -> Option<r2d2::Pool<ConnectionManager>> {
        rocket.state::<ReadPoolHandle>()?.pool.get().cloned()
    }

    fn read_pool(
        &self,
    ) -> Result<(&'r r2d2::Pool<ConnectionManager>, &'r ReadPoolHandle), DbError> {
        let handle = self
            .0
            .state::<ReadPoolHandle>()
            .ok_or_else(|| DbError::internal("the readers' pool is not managed"))?;
        let pool = handle
            .pool
            .get()
            .ok_or_else(|| DbError::internal("the readers' pool is not open"))?;
        Ok((pool, handle))
    }

    /// Runs `work` on the one writer connection, after the writes queued
    /// before it, and returns once its transaction is committed (see
    /// [`Writer`]). A queue that does not move within the database's
    /// timeout is a 503 with `Retry-After`, never a "database is locked" 500.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.writer()?.write(work).await
    }

    /// The writer, for jobs that must run outside a transaction.
    pub fn writer(&self) -> Result<&'r Writer, DbError> {
        self.0
            .state::<Writer>()
            .ok_or_else(|| DbError::internal("the writer is not running"))
    }
}

/// Runs `work` on a connection from the readers' pool, on this thread,
/// within `budget` (see [`with_budget`]). A pool that stays empty past its
/// timeout is [`DbError::Busy`].
pub fn read_within<T, E: From<DbError>>(
    pool: &r2d2::Pool<ConnectionManager>,
    budget: Duration,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    let mut conn = pool.get().map_err(|_| DbError::Busy)?;
    sqlite::with_budget(budget, || work(&mut conn.0))
}

/// A pooled, read-only connection.
///
/// A newtype of our own so that *our* settings are the ones in force:
/// rocket_sync_db_pools' built-in pool for `SqliteConnection` sets
/// `busy_timeout = 1000` on every connection.
pub struct ReadConnection(DbConnection);

impl ReadConnection {
    pub fn inner(&mut self) -> &mut DbConnection {
        &mut self.0
    }
}

/// Opens the readers' connections, each set up by [`establish`] and made
/// read-only.
pub struct ConnectionManager {
    url: String,
}

impl ManageConnection for ConnectionManager {
    type Connection = ReadConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<ReadConnection, r2d2::Error> {
        let mut conn = establish(&self.url).map_err(r2d2::Error::ConnectionError)?;
        match &mut conn {
            DbConnection::Sqlite(c) => sqlite::make_read_only(c),
            DbConnection::Postgres(c) => postgres::make_read_only(c),
        }
        .map_err(r2d2::Error::QueryError)?;
        Ok(ReadConnection(conn))
    }

    fn is_valid(&self, conn: &mut ReadConnection) -> Result<(), r2d2::Error> {
        conn.0.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut ReadConnection) -> bool {
        conn.0.is_broken()
    }
}

impl Poolable for ReadConnection {
    type Manager = ConnectionManager;
    type Error = std::convert::Infallible;

    // The result type is rocket_sync_db_pools' own.
    #[allow(clippy::result_large_err)]
    fn pool(db_name: &str, rocket: &Rocket<Build>) -> PoolResult<Self> {
        let config = Config::from(db_name, rocket)?;
        let manager = ConnectionManager { url: config.url };
        let pool = r2d2::Pool::builder()
            .max_size(config.pool_size)
            .connection_timeout(Duration::from_secs(config.timeout.into()))
            .build(manager)?;
        if let Some(handle) = rocket.state::<ReadPoolHandle>() {
            // Set once per launch; a second launch of the same instance
            // cannot happen (ignite consumes it).
            let _ = handle.pool.set(pool.clone());
        }
        Ok(pool)
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

/// Runs `work` in a transaction that writes, holding the database's write
/// lock from the start: `BEGIN IMMEDIATE` on SQLite (so that it waits for
/// the lock up front instead of failing with SQLITE_BUSY when it reads and
/// then writes); on PostgreSQL an advisory lock that every writer of every
/// instance takes (see `postgres::lock_for_writing`).
pub fn immediate_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    type Manager = <DbConnection as Connection>::TransactionManager;
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        DbConnection::Postgres(c) => {
            AnsiTransactionManager::begin_transaction(c)?;
            if let Err(error) = postgres::lock_for_writing(c) {
                let _ = AnsiTransactionManager::rollback_transaction(c);
                return Err(error.into());
            }
        }
    }
    // As `Connection::transaction` finishes one.
    match work(conn) {
        Ok(value) => {
            Manager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => match Manager::rollback_transaction(conn) {
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
            Err(rollback_error) => Err(rollback_error.into()),
        },
    }
}

/// Runs `work` in a read-only transaction that sees one snapshot of the
/// whole database (SQLite's deferred transactions always do).
pub fn snapshot_transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    conn.transaction(|conn| {
        if let DbConnection::Postgres(c) = conn {
            postgres::read_snapshot(c)?;
        }
        work(conn)
    })
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

/// On SQLite, folds the write-ahead log into the database file (on
/// shutdown, so the file alone is complete). PostgreSQL has nothing to do.
pub fn checkpoint(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    match conn {
        DbConnection::Sqlite(c) => sqlite::checkpoint(c),
        DbConnection::Postgres(_) => Ok(()),
    }
}

/// After an import wrote rows with their ids, in its transaction: on
/// PostgreSQL the id sequences move past them (SQLite takes the next id
/// from the table).
pub fn after_import(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    match conn {
        DbConnection::Sqlite(_) => Ok(()),
        DbConnection::Postgres(c) => postgres::reset_id_sequences(c),
    }
}

/// Once an import is committed, on PostgreSQL: `VACUUM (ANALYZE)` of the
/// tables it filled, instead of waiting for autovacuum.
/// - Every post inserted updated its author's row through the counting
///   trigger, and an update of an indexed column leaves the old row
///   version and its index entries behind: 100,000 dead versions of 1,000
///   accounts, and each lookup of a prolific author walked thousands of
///   them (32 ms for the heavy author's profile at 100,000 posts, 1 ms
///   after the vacuum; docs/PERFORMANCE.md).
/// - The planner gets statistics at once: without them it read every match
///   of a common word and sorted them (70 ms a search, against 1 ms).
///
/// (VACUUM cannot run inside a transaction, hence a step of its own.)
pub fn tidy_after_import(conn: &mut DbConnection) -> diesel::QueryResult<()> {
    match conn {
        DbConnection::Sqlite(_) => Ok(()),
        DbConnection::Postgres(c) => postgres::vacuum_analyze(c),
    }
}

/// Why a maintenance command cannot run on this backend.
pub const SQLITE_ONLY: &str = "this works on a SQLite database file; for PostgreSQL use its own \
     tools (pg_dump and pg_restore), or `portfolio db export` and `portfolio db import`";

/// Writes a consistent copy of the whole SQLite database to the file
/// `target` while others keep reading and writing.
pub fn vacuum_into(conn: &mut DbConnection, target: &str) -> Result<(), String> {
    match conn {
        DbConnection::Sqlite(c) => sqlite::vacuum_into(c, target).map_err(|e| e.to_string()),
        DbConnection::Postgres(_) => Err(SQLITE_ONLY.to_owned()),
    }
}

/// SQLite's own check of the database file: `Ok` when it finds nothing
/// wrong. (PostgreSQL checks its pages itself; there is nothing to ask.)
pub fn integrity_check(conn: &mut DbConnection) -> Result<(), String> {
    match conn {
        DbConnection::Sqlite(c) => sqlite::integrity_check(c),
        DbConnection::Postgres(_) => Ok(()),
    }
}

/// Why the database could not be made ready at start-up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("cannot create the database folder {}: {source}", path.display())]
    CreateFolder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the database at {url}: {source}")]
    Open {
        url: String,
        source: diesel::ConnectionError,
    },
    #[error("cannot migrate the database: {0}")]
    Migration(String),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(
        "the database has migration {0}, which this build of portfolio does not know; \
         it was written by a newer version: run that version, or restore a backup"
    )]
    UnknownMigration(String),
}

/// Creates the database's folder if needed, takes the shared claim on the
/// database (so `restore` cannot swap the file underneath), opens it and
/// applies any pending migrations. On PostgreSQL the connection holds the
/// start-up lock until it is dropped (after seeding), so that instances
/// starting together take turns. Returns the open connection for the next
/// step (seeding) and the claim, to hold while using the database.
pub fn prepare(url: &str) -> Result<(DbConnection, Option<ServerLock>), SetupError> {
    if let Some(folder) = sqlite::folder_of(url) {
        create_folder(&folder)?;
    }
    let lock = lock_shared(url)?;
    let mut conn = establish(url).map_err(|source| SetupError::Open {
        url: redacted(url),
        source,
    })?;
    if let DbConnection::Postgres(c) = &mut conn {
        postgres::lock_for_setup(c).map_err(|e| SetupError::Migration(e.to_string()))?;
    }
    let applied = migrate(&mut conn)?;
    for version in applied {
        log::info!("applied database migration {version}");
    }
    Ok((conn, lock))
}

/// A running server's claim on its database: a shared lock on the lock file
/// beside it, held until the server exits. Several servers may share a
/// database; `restore` needs the lock exclusively and so refuses while any
/// server runs.
pub struct ServerLock(#[allow(dead_code)] std::fs::File);

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("cannot open the lock file {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the database is in use by a running portfolio server (or a restore is in progress); \
         stop it first, or try again when it is done"
    )]
    InUse,
}

fn open_lock_file(url: &str) -> Result<Option<(PathBuf, std::fs::File)>, LockError> {
    let Some(database) = file_of(url) else {
        return Ok(None);
    };
    let path = lock_path(&database);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| LockError::Open {
            path: path.clone(),
            source,
        })?;
    Ok(Some((path, file)))
}

/// Takes a server's shared claim on the database at `url`.
pub fn lock_shared(url: &str) -> Result<Option<ServerLock>, LockError> {
    let Some((_, file)) = open_lock_file(url)? else {
        return Ok(None);
    };
    file.try_lock_shared().map_err(|_| LockError::InUse)?;
    Ok(Some(ServerLock(file)))
}

/// Takes the database at `url` for exclusive maintenance (restore); fails
/// while any server holds it.
pub fn lock_exclusive(url: &str) -> Result<Option<std::fs::File>, LockError> {
    let Some((_, file)) = open_lock_file(url)? else {
        return Ok(None);
    };
    file.try_lock().map_err(|_| LockError::InUse)?;
    Ok(Some(file))
}

fn create_folder(folder: &Path) -> Result<(), SetupError> {
    std::fs::create_dir_all(folder).map_err(|source| SetupError::CreateFolder {
        path: folder.to_owned(),
        source,
    })
}

/// A cheap query that proves the database file can be read: the first
/// account's id (one index entry, not a count of a table that grows).
pub fn integrity_ping(conn: &mut DbConnection) -> Result<(), DbError> {
    use diesel::prelude::*;
    schema::users::table
        .select(schema::users::id)
        .first::<i32>(conn)
        .optional()
        .map(drop)
        .map_err(DbError::from)
}

/// Where the database stands against this build's migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub applied: Vec<String>,
    pub pending: Vec<String>,
    /// Applied by a newer build: this one does not know them.
    pub unknown: Vec<String>,
}

impl MigrationStatus {
    pub fn is_current(&self) -> bool {
        self.pending.is_empty() && self.unknown.is_empty()
    }
}

diesel::table! {
    /// Diesel's record of the migrations applied.
    #[sql_name = "__diesel_schema_migrations"]
    schema_migrations (version) {
        version -> Text,
    }
}

pub fn migration_status(conn: &mut DbConnection) -> Result<MigrationStatus, SetupError> {
    let boxed = |e: Box<dyn std::error::Error + Send + Sync>| SetupError::Migration(e.to_string());
    let known = known_migrations(Backend::of(conn)).map_err(boxed)?;
    // Read with a plain query, which works on the read-only connections
    // too; Diesel's own `applied_migrations` first creates its table if
    // missing, which a read-only PostgreSQL transaction refuses.
    let recorded = schema_migrations::table
        .select(schema_migrations::version)
        .load::<String>(conn);
    let mut applied: Vec<String> = match recorded {
        Ok(versions) => versions,
        // No table yet: a new database, nothing applied.
        Err(diesel::result::Error::DatabaseError(_, info))
            if info.message().contains("no such table")
                || info.message().contains("does not exist") =>
        {
            Vec::new()
        }
        Err(error) => return Err(SetupError::Migration(error.to_string())),
    };
    applied.sort();
    Ok(MigrationStatus {
        pending: known
            .iter()
            .filter(|v| !applied.contains(v))
            .cloned()
            .collect(),
        unknown: applied
            .iter()
            .filter(|v| !known.contains(v))
            .cloned()
            .collect(),
        applied,
    })
}

/// Undoes the last `steps` migrations; returns the versions reverted.
pub fn rollback(conn: &mut DbConnection, steps: usize) -> Result<Vec<String>, SetupError> {
    let boxed = |e: Box<dyn std::error::Error + Send + Sync>| SetupError::Migration(e.to_string());
    let mut reverted = Vec::new();
    for _ in 0..steps {
        if migration_status(conn)?.applied.is_empty() {
            break;
        }
        let version = match conn {
            DbConnection::Sqlite(c) => c.revert_last_migration(SQLITE_MIGRATIONS),
            DbConnection::Postgres(c) => c.revert_last_migration(POSTGRES_MIGRATIONS),
        }
        .map_err(boxed)?;
        reverted.push(version.to_string());
    }
    Ok(reverted)
}

/// Applies pending migrations and returns the versions applied, after
/// refusing a database that a newer build has migrated further.
pub fn migrate(conn: &mut DbConnection) -> Result<Vec<String>, SetupError> {
    let boxed = |e: Box<dyn std::error::Error + Send + Sync>| SetupError::Migration(e.to_string());
    if let Some(unknown) = migration_status(conn)?.unknown.first() {
        return Err(SetupError::UnknownMigration(unknown.clone()));
    }
    let done = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        DbConnection::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
    }
    .map_err(boxed)?;
    Ok(done.iter().map(|v| v.to_string()).collect())
}

/// The versions of this build's migrations for `backend`, oldest first.
pub fn known_migrations(
    backend: Backend,
) -> Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>> {
    Ok(match backend {
        Backend::Sqlite => MigrationSource::<Sqlite>::migrations(&SQLITE_MIGRATIONS)?
            .iter()
            .map(|m| m.name().version().to_string())
            .collect(),
        Backend::Postgres => MigrationSource::<Pg>::migrations(&POSTGRES_MIGRATIONS)?
            .iter()
            .map(|m| m.name().version().to_string())
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn a_password_in_a_url_is_never_printed() {
        assert_eq!(
            redacted("postgres://portfolio:s3cret@db:5432/portfolio?sslmode=require"),
            "postgres://portfolio:***@db:5432/portfolio?sslmode=require"
        );
        assert_eq!(
            redacted("postgresql://user:p@ss:word@host/db"),
            "postgresql://user:***@host/db"
        );
        assert_eq!(
            redacted("postgres://user@host/db"),
            "postgres://user@host/db"
        );
        assert_eq!(redacted("volumes/portfolio.db"), "volumes/portfolio.db");
    }
}
