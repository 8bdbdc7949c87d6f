//! Transactions with the locking each kind needs, on either backend.

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::Connection;

use super::{postgres, DbConnection};

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
