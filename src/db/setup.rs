//! Start-up: the database's folder, the lock file that keeps `restore` and a
//! running server apart, and the migrations applied before anything else.

use std::path::{Path, PathBuf};

use super::{establish, file_of, lock_path, migrate, postgres, redacted, sqlite, DbConnection};

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
