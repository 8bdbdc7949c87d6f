//! Keeping the database in shape: checkpoints, the steps around an import,
//! copies (`VACUUM INTO`) and checks.

use super::{postgres, schema, sqlite, DbConnection, DbError};

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

/// How many bytes the database takes: on SQLite its pages plus its
/// write-ahead log, on PostgreSQL `pg_database_size`. Costs the same at any
/// size (no table is read).
pub fn database_bytes(conn: &mut DbConnection) -> diesel::QueryResult<i64> {
    match conn {
        DbConnection::Sqlite(c) => sqlite::database_bytes(c),
        DbConnection::Postgres(c) => postgres::database_bytes(c),
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
