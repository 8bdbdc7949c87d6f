//! The database: connections with our pragmas, the request pool, and the
//! embedded migrations.
//!
//! Everything SQLite-specific that is not a migration lives in [`sqlite`], so
//! a second backend has one small place to mirror.

pub mod schema;
mod sqlite;

use std::path::{Path, PathBuf};
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

/// The connection type every query in the model layer takes.
pub type DbConnection = diesel::SqliteConnection;

/// The migrations in `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The readers' pool: as many connections as configured, each read-only
/// (`PRAGMA query_only`), so a write sent here by mistake fails loudly
/// instead of competing for the lock. Handlers use [`Db`] instead.
#[database("portfolio")]
pub struct ReadPool(ReadConnection);

/// The one writer: a pool of exactly one connection, so writes queue in
/// order for it (as PocketBase does) instead of fighting over SQLite's
/// single write lock. Its configuration is the readers' with `pool_size = 1`
/// (see [`writer_config`]).
#[database("portfolio_writer")]
pub struct WritePool(WriteConnection);

/// The configuration key of the writer's pool.
pub const WRITER: &str = "portfolio_writer";

/// The writer pool's settings, derived from the `portfolio` database's:
/// the same file, one connection, the same wait (the deadline after which a
/// queued write is answered 503).
pub fn writer_config(figment: &rocket::figment::Figment) -> serde_json::Value {
    let url: String = figment
        .extract_inner(crate::config::DATABASE_URL_KEY)
        .unwrap_or_default();
    let timeout: u32 = figment
        .extract_inner("databases.portfolio.timeout")
        .unwrap_or(5);
    serde_json::json!({ "url": url, "pool_size": 1, "timeout": timeout })
}

/// The database, as a request guard: `db.read(|conn| ...)` and
/// `db.write(|conn| ...)` borrow a pooled connection for the closure only,
/// on a blocking thread, off Rocket's async workers.
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

    /// Runs `work` on a read-only connection from the readers' pool.
    pub async fn read<T, F>(&self, work: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        // `None` only when the pool stayed empty past its timeout.
        let conn = ReadPool::get_one(self.0).await.ok_or(AppError::Busy)?;
        conn.run(move |conn| work(&mut conn.0)).await
    }

    /// Runs `work` on the one writer connection, after the writes queued
    /// before it. A queue that does not move within the pool's timeout is a
    /// 503 with `Retry-After`, never a "database is locked" 500.
    pub async fn write<T, F>(&self, work: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let conn = WritePool::get_one(self.0).await.ok_or(AppError::Busy)?;
        conn.run(move |conn| work(&mut conn.0)).await
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Db<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        request::Outcome::Success(Db::new(request.rocket()))
    }
}

/// A pooled SQLite connection of one of our two kinds.
///
/// Newtypes of our own so that *our* pragmas are the ones in force:
/// rocket_sync_db_pools' built-in pool for `SqliteConnection` sets
/// `busy_timeout = 1000` on every connection, too short for concurrent writers.
pub trait PooledKind: Sized + Send + 'static {
    /// Readers refuse to write.
    const READ_ONLY: bool;
    fn wrap(conn: DbConnection) -> Self;
    fn inner(&mut self) -> &mut DbConnection;
}

pub struct ReadConnection(DbConnection);
pub struct WriteConnection(DbConnection);

impl PooledKind for ReadConnection {
    const READ_ONLY: bool = true;
    fn wrap(conn: DbConnection) -> Self {
        ReadConnection(conn)
    }
    fn inner(&mut self) -> &mut DbConnection {
        &mut self.0
    }
}

impl PooledKind for WriteConnection {
    const READ_ONLY: bool = false;
    fn wrap(conn: DbConnection) -> Self {
        WriteConnection(conn)
    }
    fn inner(&mut self) -> &mut DbConnection {
        &mut self.0
    }
}

/// Opens connections for a pool, each set up by [`establish`].
pub struct ConnectionManager<C> {
    url: String,
    kind: std::marker::PhantomData<fn() -> C>,
}

impl<C: PooledKind> ManageConnection for ConnectionManager<C> {
    type Connection = C;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<C, r2d2::Error> {
        let mut conn = establish(&self.url).map_err(r2d2::Error::ConnectionError)?;
        if C::READ_ONLY {
            sqlite::make_read_only(&mut conn).map_err(r2d2::Error::QueryError)?;
        }
        Ok(C::wrap(conn))
    }

    fn is_valid(&self, conn: &mut C) -> Result<(), r2d2::Error> {
        conn.inner().ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut C) -> bool {
        conn.inner().is_broken()
    }
}

// The result type is rocket_sync_db_pools' own (`Poolable::pool` returns it).
#[allow(clippy::result_large_err)]
fn build_pool<C>(db_name: &str, rocket: &Rocket<Build>) -> PoolResult<C>
where
    C: PooledKind + Poolable<Manager = ConnectionManager<C>>,
{
    let config = Config::from(db_name, rocket)?;
    let manager = ConnectionManager {
        url: config.url,
        kind: std::marker::PhantomData,
    };
    let pool = r2d2::Pool::builder()
        .max_size(config.pool_size)
        .connection_timeout(Duration::from_secs(config.timeout.into()))
        .build(manager)?;
    Ok(pool)
}

impl Poolable for ReadConnection {
    type Manager = ConnectionManager<ReadConnection>;
    type Error = std::convert::Infallible;

    fn pool(db_name: &str, rocket: &Rocket<Build>) -> PoolResult<Self> {
        build_pool::<Self>(db_name, rocket)
    }
}

impl Poolable for WriteConnection {
    type Manager = ConnectionManager<WriteConnection>;
    type Error = std::convert::Infallible;

    fn pool(db_name: &str, rocket: &Rocket<Build>) -> PoolResult<Self> {
        build_pool::<Self>(db_name, rocket)
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
