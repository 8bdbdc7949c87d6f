//! The database: connections with our settings, the request pool, and the
//! embedded migrations, for SQLite or PostgreSQL.
//!
//! The database URL decides: `postgres://…` (or `postgresql://…`) is
//! PostgreSQL, anything else is a SQLite file. Queries are written once with
//! Diesel's query builder against [`DbConnection`], which is either. What
//! genuinely differs between the two (connection settings, read-only mode,
//! error details, SQLite's file maintenance) is one small function each in
//! `sqlite` and `postgres`, side by side; the other modules pick one.
//!
//! One module per concern: `connection` (what a connection is and how one
//! is opened), `pool` (the readers and the request's handle), `writer`
//! (the one writer), `transaction`, `error`, `migrations`, `setup`
//! (start-up and the lock file) and `maintenance` (checkpoints, copies,
//! checks). Everything is re-exported here, so callers write `db::Db`.

mod connection;
mod error;
mod folders;
mod fts5_rank;
mod maintenance;
mod migrations;
mod pool;
mod postgres;
mod read_cache;
pub mod schema;
mod setup;
mod sqlite;
mod transaction;
mod writer;

pub use connection::{columns_of, establish, redacted, Backend, DbBackend, DbConnection};
pub use error::{is_busy, unique_violation_column, DbError};
pub use folders::{check_writable, FolderError, NotWritable};
pub use maintenance::{
    after_import, checkpoint, database_bytes, integrity_check, integrity_ping, tidy_after_import,
    vacuum_into, SQLITE_ONLY,
};
pub use migrations::{
    known_migrations, migrate, migration_status, rollback, MigrationStatus, POSTGRES_MIGRATIONS,
    SQLITE_MIGRATIONS,
};
pub use pool::{
    read_within, ConnectionManager, Db, ReadConnection, ReadPool, ReadPoolHandle, READ_BUDGET,
    SLOW_READ_BUDGET,
};
pub use read_cache::{Freshness, ReadCache};
pub use setup::{lock_exclusive, lock_shared, prepare, LockError, ServerLock, SetupError};
pub use sqlite::{file_of, lock_path, with_budget, PRAGMAS};
pub use transaction::{immediate_transaction, snapshot_transaction};
pub use writer::{write_transaction, Writer};
