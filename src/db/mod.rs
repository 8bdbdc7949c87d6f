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

/// The pool, managed by rocket_sync_db_pools. Handlers use [`Db`] instead.
#[database("portfolio")]
pub struct Pooled(PooledConnection);

/// The database, as a request guard: `db.run(|conn| ...)` borrows a pooled
/// connection for the closure only, on a blocking thread, off Rocket's async
/// workers.
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

    pub async fn run<T, F>(&self, work: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConnection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        // `None` only when the pool stayed empty past its timeout.
        let conn = Pooled::get_one(self.0).await.ok_or(AppError::Busy)?;
        conn.run(move |conn| work(conn)).await
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Db<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        request::Outcome::Success(Db::new(request.rocket()))
    }
}

/// A pooled SQLite connection.
///
/// A newtype of our own so that *our* pragmas are the ones in force:
/// rocket_sync_db_pools' built-in pool for `SqliteConnection` sets
/// `busy_timeout = 1000` on every connection, too short for concurrent writers.
pub struct PooledConnection(DbConnection);

impl std::ops::Deref for PooledConnection {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.0
    }
}

impl std::ops::DerefMut for PooledConnection {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.0
    }
}

/// Opens connections for the pool, each set up by [`establish`].
pub struct ConnectionManager {
    url: String,
}

impl ManageConnection for ConnectionManager {
    type Connection = PooledConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<PooledConnection, r2d2::Error> {
        establish(&self.url)
            .map(PooledConnection)
            .map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut PooledConnection) -> Result<(), r2d2::Error> {
        conn.0.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut PooledConnection) -> bool {
        conn.0.is_broken()
    }
}

impl Poolable for PooledConnection {
    type Manager = ConnectionManager;
    type Error = std::convert::Infallible;

    fn pool(db_name: &str, rocket: &Rocket<Build>) -> PoolResult<Self> {
        let config = Config::from(db_name, rocket)?;
        let manager = ConnectionManager { url: config.url };
        let pool = r2d2::Pool::builder()
            .max_size(config.pool_size)
            .connection_timeout(Duration::from_secs(config.timeout.into()))
            .build(manager)?;
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
    #[error(
        "the database has migration {0}, which this build of portfolio does not know; \
         it was written by a newer version: run that version, or restore a backup"
    )]
    UnknownMigration(String),
}

/// Creates the database's folder if needed, opens the database and applies
/// any pending migrations. Returns the open connection for the next step
/// (seeding) to use.
pub fn prepare(url: &str) -> Result<DbConnection, SetupError> {
    if let Some(folder) = sqlite::folder_of(url) {
        create_folder(&folder)?;
    }
    let mut conn = establish(url).map_err(|source| SetupError::Open {
        url: url.to_owned(),
        source,
    })?;
    let applied = migrate(&mut conn)?;
    for version in applied {
        log::info!("applied database migration {version}");
    }
    Ok(conn)
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
    #[error("the database is in use by a running portfolio server; stop it first")]
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
