//! Reading: the readers' pool of read-only connections, and [`Db`], the
//! handle a request reads and writes through.

use std::sync::OnceLock;
use std::time::Duration;

use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use rocket::{Build, Orbit, Rocket};
use rocket_sync_db_pools::{database, Config, PoolResult, Poolable};

use super::read_cache::{Changes, Freshness, ReadCache};
use super::{establish, postgres, sqlite, Backend, DbConnection, DbError, Writer};

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
    /// The commits the readers have seen, which date [`ReadCache`] entries.
    changes: Changes,
}

impl Default for ReadPoolHandle {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        ReadPoolHandle {
            pool: OnceLock::new(),
            slow_reads: rocket::tokio::sync::Semaphore::new(cores),
            changes: Changes::default(),
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

    /// The value of `key` in `cache` if nothing was committed since it was
    /// read, else `load`'s, kept for next time (on the async worker, like
    /// [`Db::read`]). For reads that are repeated far more often than
    /// what they read changes: a post and its comments. `load`'s errors are
    /// not kept. See [`ReadCache`] for why a change is never missed.
    ///
    /// On PostgreSQL every call loads: instances share the database, and
    /// knowing whether another one committed is a round trip to the server,
    /// which costs what the read does.
    pub async fn read_cached<K, V, E, F>(
        &self,
        cache: &ReadCache<K, V>,
        key: K,
        load: F,
    ) -> Result<V, E>
    where
        K: Eq + std::hash::Hash + Clone,
        V: Clone,
        F: FnOnce(&mut DbConnection) -> Result<V, E>,
        E: From<DbError>,
    {
        let (pool, handle) = self.read_pool()?;
        let mut conn = pool.get().map_err(|_| DbError::Busy)?;
        sqlite::with_budget(READ_BUDGET, || {
            let fresh = look(handle, &mut conn)?;
            if let Some(kept) = cache.current(&key, &fresh) {
                return Ok(kept);
            }
            let value = match conn.inner() {
                conn @ DbConnection::Sqlite(_) => in_one_snapshot(conn, load)?,
                conn @ DbConnection::Postgres(_) => load(conn)?,
            };
            cache.keep(key, &fresh, value.clone());
            Ok(value)
        })
    }

    /// Where this request stands against the database's changes, for
    /// [`ReadCache`]s whose values are made from several reads (a page
    /// rendered): what is read after this call may be kept with it.
    pub async fn freshness(&self) -> Result<Freshness, DbError> {
        let (pool, handle) = self.read_pool()?;
        let mut conn = pool.get().map_err(|_| DbError::Busy)?;
        sqlite::with_budget(READ_BUDGET, || look(handle, &mut conn))
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

/// Asks `conn` whether the database changed since it last looked (see
/// [`ReadCache`]). On PostgreSQL: a freshness nothing matches.
fn look(handle: &ReadPoolHandle, conn: &mut ReadConnection) -> Result<Freshness, DbError> {
    // Taken before this request's snapshots begin: see ReadCache.
    let before = handle.changes.now();
    let ReadConnection { conn, seen_version } = conn;
    let now = match conn {
        DbConnection::Sqlite(sqlite) => Some(handle.changes.look(sqlite, seen_version)?),
        DbConnection::Postgres(_) => None,
    };
    Ok(Freshness { before, now })
}

/// Runs `work` on a connection from the readers' pool, on this thread,
/// within `budget` (see [`super::with_budget`]). A pool that stays empty past its
/// timeout is [`DbError::Busy`].
///
/// On SQLite, `work`'s statements share one read transaction: they see one
/// snapshot, and SQLite takes its WAL read lock (a mutex the readers of a
/// process share, and `fcntl` calls) once instead of once per statement;
/// readers on two threads met on that mutex at every statement. On
/// PostgreSQL each statement is its own snapshot, as before: `BEGIN` and
/// `COMMIT` would be two more round trips.
pub fn read_within<T, E: From<DbError>>(
    pool: &r2d2::Pool<ConnectionManager>,
    budget: Duration,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    let mut conn = pool.get().map_err(|_| DbError::Busy)?;
    let conn = conn.inner();
    sqlite::with_budget(budget, || match conn {
        DbConnection::Sqlite(_) => in_one_snapshot(conn, work),
        DbConnection::Postgres(_) => work(conn),
    })
}

/// `work` in one (read) transaction. Its own error is its answer; the
/// transaction's (at `BEGIN` or `COMMIT`) is a [`DbError`], and leaves the
/// connection marked broken, so the pool drops it.
fn in_one_snapshot<T, E: From<DbError>>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    use diesel::Connection;
    let mut outcome = None;
    conn.transaction::<(), diesel::result::Error, _>(|conn| {
        outcome = Some(work(conn));
        Ok(())
    })
    .map_err(DbError::from)?;
    outcome.unwrap_or_else(|| Err(DbError::internal("the read did not run").into()))
}

/// A pooled, read-only connection.
///
/// A newtype of our own so that *our* settings are the ones in force:
/// rocket_sync_db_pools' built-in pool for `SqliteConnection` sets
/// `busy_timeout = 1000` on every connection.
pub struct ReadConnection {
    conn: DbConnection,
    /// SQLite's `data_version` when this connection last looked (see
    /// [`ReadCache`]); `None` before the first look.
    seen_version: Option<i64>,
}

impl ReadConnection {
    pub fn inner(&mut self) -> &mut DbConnection {
        &mut self.conn
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
        Ok(ReadConnection {
            conn,
            seen_version: None,
        })
    }

    fn is_valid(&self, conn: &mut ReadConnection) -> Result<(), r2d2::Error> {
        conn.conn.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut ReadConnection) -> bool {
        conn.conn.is_broken()
    }
}

impl Poolable for ReadConnection {
    type Manager = ConnectionManager;
    type Error = std::convert::Infallible;

    // The result type is rocket_sync_db_pools' own.
    #[allow(clippy::result_large_err)]
    fn pool(db_name: &str, rocket: &Rocket<Build>) -> PoolResult<Self> {
        let config = Config::from(db_name, rocket)?;
        // r2d2 pings a connection (`SELECT 1`, parsed afresh each time)
        // before lending it out: on SQLite that was a statement more per
        // request, checking a file that cannot go away. A PostgreSQL
        // connection can (a server restarted), so it is still checked.
        let check_out_ping = Backend::of_url(&config.url) == Backend::Postgres;
        let manager = ConnectionManager { url: config.url };
        let pool = r2d2::Pool::builder()
            .test_on_check_out(check_out_ping)
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
