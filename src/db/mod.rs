//! The database: connections with our pragmas, the request pool, and the
//! embedded migrations.
//!
//! Everything SQLite-specific that is not a migration lives in [`sqlite`], so
//! a second backend has one small place to mirror.

pub mod schema;
mod sqlite;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use diesel::migration::MigrationSource;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::sqlite::Sqlite;
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use rocket::request::{self, FromRequest, Request};
use rocket::{Build, Orbit, Rocket};
use rocket_sync_db_pools::{database, Config, PoolResult, Poolable};

use crate::error::{AppError, AppResult};

pub use sqlite::{
    checkpoint, file_of, integrity_check, is_busy, lock_path, unique_violation_column, vacuum_into,
    PRAGMAS,
};
pub use writer::{write_transaction, Writer};

/// The connection type every query in the model layer takes.
pub type DbConnection = diesel::SqliteConnection;

/// The SQLite migrations in `migrations/sqlite/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

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
    pub async fn read<T, F>(&self, work: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConnection) -> AppResult<T>,
    {
        let (pool, _) = self.read_pool()?;
        // `Err` only when the pool stayed empty past its timeout.
        let mut conn = pool.get().map_err(|_| AppError::Busy)?;
        work(&mut conn.0)
    }

    /// Runs `work` like [`Db::read`] but on a blocking thread, at most one
    /// per core at a time: for reads that can take milliseconds (full-text
    /// search ranks every match; trending sums a week of views), which must
    /// not hold up the async workers that serve everyone else.
    pub async fn read_slow<T, F>(&self, work: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let (pool, handle) = self.read_pool()?;
        let _turn = handle
            .slow_reads
            .acquire()
            .await
            .map_err(|_| AppError::Busy)?;
        let pool = pool.clone();
        rocket::tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|_| AppError::Busy)?;
            work(&mut conn.0)
        })
        .await
        .map_err(|e| AppError::Internal(Box::new(e)))?
    }

    fn read_pool(&self) -> AppResult<(&'r r2d2::Pool<ConnectionManager>, &'r ReadPoolHandle)> {
        let handle = self
            .0
            .state::<ReadPoolHandle>()
            .ok_or_else(|| AppError::Internal("the readers' pool is not managed".into()))?;
        let pool = handle
            .pool
            .get()
            .ok_or_else(|| AppError::Internal("the readers' pool is not open".into()))?;
        Ok((pool, handle))
    }

    /// Runs `work` on the one writer connection, after the writes queued
    /// before it, and returns once its transaction is committed (see
    /// [`Writer`]). A queue that does not move within the database's
    /// timeout is a 503 with `Retry-After`, never a "database is locked" 500.
    pub async fn write<T, F>(&self, work: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.writer()?.write(work).await
    }

    /// The writer, for jobs that must run outside a transaction.
    pub fn writer(&self) -> AppResult<&'r Writer> {
        self.0
            .state::<Writer>()
            .ok_or_else(|| AppError::Internal("the writer is not running".into()))
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Db<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        request::Outcome::Success(Db::new(request.rocket()))
    }
}

/// A pooled, read-only SQLite connection.
///
/// A newtype of our own so that *our* pragmas are the ones in force:
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
        sqlite::make_read_only(&mut conn).map_err(r2d2::Error::QueryError)?;
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

/// Opens one connection with the pragmas every connection of ours runs with.
pub fn establish(url: &str) -> Result<DbConnection, diesel::ConnectionError> {
    let mut conn = DbConnection::establish(url)?;
    sqlite::apply_pragmas(&mut conn).map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
    Ok(conn)
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
/// applies any pending migrations. Returns the open connection for the next
/// step (seeding) and the claim, to hold while using the database.
pub fn prepare(url: &str) -> Result<(DbConnection, Option<ServerLock>), SetupError> {
    if let Some(folder) = sqlite::folder_of(url) {
        create_folder(&folder)?;
    }
    let lock = lock_shared(url)?;
    let mut conn = establish(url).map_err(|source| SetupError::Open {
        url: url.to_owned(),
        source,
    })?;
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

/// A cheap query that proves the database file can be read.
pub fn integrity_ping(conn: &mut DbConnection) -> AppResult<()> {
    use diesel::prelude::*;
    schema::users::table
        .select(diesel::dsl::count_star())
        .first::<i64>(conn)
        .map(drop)
        .map_err(AppError::from)
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

pub fn migration_status(conn: &mut DbConnection) -> Result<MigrationStatus, SetupError> {
    let boxed = |e: Box<dyn std::error::Error + Send + Sync>| SetupError::Migration(e.to_string());
    let known: Vec<String> = MigrationSource::<Sqlite>::migrations(&MIGRATIONS)
        .map_err(boxed)?
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    let mut applied: Vec<String> = conn
        .applied_migrations()
        .map_err(boxed)?
        .iter()
        .map(ToString::to_string)
        .collect();
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
        if conn.applied_migrations().map_err(boxed)?.is_empty() {
            break;
        }
        reverted.push(
            conn.revert_last_migration(MIGRATIONS)
                .map_err(boxed)?
                .to_string(),
        );
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
    let done = conn.run_pending_migrations(MIGRATIONS).map_err(boxed)?;
    Ok(done.iter().map(|v| v.to_string()).collect())
}
