//! The PostgreSQL-only parts of talking to the database, beside their SQLite
//! counterparts in [`super::sqlite`].

use diesel::connection::SimpleConnection;
use diesel::result::DatabaseErrorInformation;
use diesel::PgConnection;

/// Run on every connection we open, before anything else.
///
/// - `TIMESTAMP` columns hold UTC, as on SQLite; the session time zone must
///   be UTC too, or `now()` defaults would be written in local time.
/// - `lock_timeout` is SQLite's `busy_timeout`: a write that waits longer
///   than 5 s for a row lock (another instance's long transaction) fails and
///   is answered 503, instead of holding up the queue behind it.
pub const SETTINGS: &str = "SET TIME ZONE 'UTC'; SET lock_timeout = '5s';";

pub(super) fn apply_settings(conn: &mut PgConnection) -> diesel::QueryResult<()> {
    conn.batch_execute(SETTINGS)
}

/// Makes a connection refuse every write (for the readers' pool).
/// Its statements get the readers' time budget: one still running after
/// [`super::SLOW_READ_BUDGET`] is cancelled, and the request answers 503.
/// (One budget for all reads: setting it per read would cost a round trip.)
pub(super) fn make_read_only(conn: &mut PgConnection) -> diesel::QueryResult<()> {
    conn.batch_execute(&format!(
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY; SET statement_timeout = {};",
        super::SLOW_READ_BUDGET.as_millis()
    ))
}

/// The column of a unique violation. Our unique constraints and indexes are
/// all named `<table>_<column>_key` (PostgreSQL's own default), and
/// PostgreSQL reports the constraint and the table.
pub(super) fn unique_violation_column(info: &dyn DatabaseErrorInformation) -> Option<String> {
    let constraint = info.constraint_name()?;
    let table = info.table_name()?;
    constraint
        .strip_prefix(table)?
        .strip_prefix('_')?
        .strip_suffix("_key")
        .map(str::to_owned)
}

/// Whether a write gave up waiting for a lock (`lock_timeout`) or was picked
/// to break a deadlock: nothing was written, and the client may retry.
pub(super) fn is_busy(info: &dyn DatabaseErrorInformation) -> bool {
    let message = info.message();
    message.contains("lock timeout")
        || message.contains("deadlock detected")
        // A read stopped by `statement_timeout` (the readers' time budget).
        || message.contains("statement timeout")
}

/// Holds PostgreSQL's advisory lock for start-up on this connection until
/// it closes: instances started together (`docker compose up` with several
/// replicas) then migrate and seed one after the other, and the later ones
/// find the work done, instead of racing to create the same tables. It waits
/// as long as that takes (no `lock_timeout` on this connection).
pub(super) fn lock_for_setup(conn: &mut PgConnection) -> diesel::QueryResult<()> {
    // A key of ours: the ASCII bytes of "portfoli" as a 64-bit number.
    conn.batch_execute("SET lock_timeout = 0; SELECT pg_advisory_lock(8101820098923162729);")
}

/// Takes PostgreSQL's write lock for this transaction: what `BEGIN
/// IMMEDIATE` is on SQLite. Every writing transaction of every instance
/// takes it first, so they run one at a time as on SQLite: a rule checked
/// before a write ("keep one admin", "at most 25 tokens") cannot be broken
/// by two instances at once, and two groups of writes can never deadlock.
/// Waits at most `lock_timeout` (then the writes are answered 503).
pub(super) fn lock_for_writing(conn: &mut PgConnection) -> diesel::QueryResult<()> {
    // The key of `lock_for_setup` plus one ("portfolj").
    conn.batch_execute("SELECT pg_advisory_xact_lock(8101820098923162730);")
}

/// Makes the transaction just begun read one snapshot of the whole database
/// (for `db export`): without it each statement sees the latest commits.
pub(super) fn read_snapshot(conn: &mut PgConnection) -> diesel::QueryResult<()> {
    conn.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY;")
}

/// Clears the dead row versions of the tables an import fills and gathers
/// the planner's statistics for them.
pub(super) fn vacuum_analyze(conn: &mut PgConnection) -> diesel::QueryResult<()> {
    conn.batch_execute("VACUUM (ANALYZE) users, posts, sessions, api_tokens, post_daily_views, tags, post_tags, comments")
}

/// After rows were inserted with their ids (an import), moves each id
/// sequence past the largest id, so the next row made gets a new one.
pub(super) fn reset_id_sequences(conn: &mut PgConnection) -> diesel::QueryResult<()> {
    conn.batch_execute(
        "SELECT setval(pg_get_serial_sequence('users', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM users;
         SELECT setval(pg_get_serial_sequence('posts', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM posts;
         SELECT setval(pg_get_serial_sequence('sessions', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM sessions;
         SELECT setval(pg_get_serial_sequence('api_tokens', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM api_tokens;
         SELECT setval(pg_get_serial_sequence('tags', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM tags;
         SELECT setval(pg_get_serial_sequence('comments', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM comments;",
    )
}

#[derive(diesel::QueryableByName)]
struct DatabaseSize {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    bytes: i64,
}

/// The database's size in bytes, as the server counts it: the files of its
/// relations, one `stat` each, never their rows.
pub(super) fn database_bytes(conn: &mut PgConnection) -> diesel::QueryResult<i64> {
    use diesel::RunQueryDsl;
    diesel::sql_query("SELECT pg_database_size(current_database()) AS bytes")
        .get_result::<DatabaseSize>(conn)
        .map(|size| size.bytes)
}
