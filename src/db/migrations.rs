//! The embedded migrations, one set per backend, and where a database
//! stands against them.

use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::sqlite::Sqlite;
use diesel::{QueryDsl, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::{Backend, DbConnection, SetupError};

/// The SQLite migrations in `migrations/sqlite/`, compiled into the binary.
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
/// The PostgreSQL migrations in `migrations/postgres/`: the same versions,
/// making the same tables and columns (a test compares them).
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

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
