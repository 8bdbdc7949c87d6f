//! [`ReadCache`]: values read from a SQLite database, served again until
//! the database changes, so a post read again and again is read once.
//!
//! What "until the database changes" means, exactly: SQLite counts the
//! commits a connection has not made itself (`PRAGMA data_version`: the
//! writer's, another process's such as the CLI or the `sqlite3` shell's).
//! Each request served from a cache first asks its connection for that
//! number, which takes the same read lock a read would; only the statements
//! are saved. A connection that sees the number moved bumps one counter
//! shared by the pool, [`Changes`], and every entry made before the bump is
//! stale from then on. So no commit is ever missed, whoever made it, and a
//! write answered before a read starts is always in what that read returns.
//!
//! Why an entry is stamped with the count taken *before* its read: a commit
//! landing between the read's snapshot and the stamping may be counted by
//! another connection at once; a stamp taken after that count would mark
//! the older value current. Taken before, the worst case is an entry stale
//! on arrival, read again next time.
//!
//! PostgreSQL has no such number on the connection, and several instances
//! write to it: asking the server is a round trip as dear as the read, so
//! on PostgreSQL nothing is cached (see [`super::Db::read_cached`]).

use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::BigInt;
use diesel::sqlite::Sqlite;
use diesel::{QueryResult, RunQueryDsl, SqliteConnection};
use metrics::Counter;
use quick_cache::sync::Cache;
use quick_cache::Weighter;

/// How many times a reader of this database has seen it changed: the age
/// of every [`ReadCache`] entry is measured in it. One per readers' pool.
#[derive(Default)]
pub struct Changes(AtomicU64);

impl Changes {
    pub(super) fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    /// Asks `conn` whether anyone committed since it last asked (its
    /// previous answer is `seen`), and counts it if so. Returns the count.
    pub(super) fn look(
        &self,
        conn: &mut SqliteConnection,
        seen: &mut Option<i64>,
    ) -> QueryResult<u64> {
        let version = DataVersion.get_result::<i64>(conn)?;
        if *seen != Some(version) {
            *seen = Some(version);
            return Ok(self.0.fetch_add(1, Ordering::SeqCst) + 1);
        }
        Ok(self.now())
    }
}

/// Where a request stands against [`Changes`]: the count before it looked
/// (which dates what it reads and keeps) and after (which the entries it
/// is served must carry). Made by [`super::Db::freshness`]; on PostgreSQL
/// it matches no entry and keeps none.
#[derive(Debug, Clone, Copy)]
pub struct Freshness {
    pub(super) before: u64,
    pub(super) now: Option<u64>,
}

/// `PRAGMA data_version` as a query of its own type, so that Diesel
/// prepares it once per connection and keeps it (a query written as SQL
/// text is prepared again on every run).
#[derive(QueryId, Clone, Copy)]
struct DataVersion;

impl Query for DataVersion {
    type SqlType = BigInt;
}

impl QueryFragment<Sqlite> for DataVersion {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql("PRAGMA data_version");
        Ok(())
    }
}

impl RunQueryDsl<SqliteConnection> for DataVersion {}

/// Values read from the database by key, each stamped with the [`Changes`]
/// count it was read under; bounded by `capacity` units of its weigher (the
/// least used go first).
pub struct ReadCache<K, V> {
    entries: Cache<K, Stamped<V>, ByWeight<V>>,
    name: &'static str,
    /// Hits and misses, in the metrics: taken on first use, once the
    /// process's recorder is installed (a handle taken before is a no-op).
    outcomes: OnceLock<[Counter; 2]>,
}

#[derive(Clone)]
pub(super) struct Stamped<V> {
    changes: u64,
    value: V,
}

/// An entry's weight: what [`ReadCache::new`]'s `weigh` says of its value.
#[derive(Clone)]
struct ByWeight<V>(fn(&V) -> u64);

impl<K, V> Weighter<K, Stamped<V>> for ByWeight<V> {
    fn weight(&self, _key: &K, entry: &Stamped<V>) -> u64 {
        (self.0)(&entry.value).max(1)
    }
}

impl<K: Eq + Hash + Clone, V: Clone> ReadCache<K, V> {
    /// A cache of at most `capacity` (in `weigh`'s units, e.g. bytes),
    /// about `items` entries; `name` labels its hits and misses in the
    /// metrics.
    pub fn new(name: &'static str, items: usize, capacity: u64, weigh: fn(&V) -> u64) -> Self {
        ReadCache {
            entries: Cache::with_weighter(items, capacity, ByWeight(weigh)),
            name,
            outcomes: OnceLock::new(),
        }
    }

    /// The value kept for `key`, if it was read after the last change seen.
    pub fn current(&self, key: &K, fresh: &Freshness) -> Option<V> {
        let changes = fresh.now?;
        let found = self
            .entries
            .get(key)
            .filter(|entry| entry.changes == changes)
            .map(|entry| entry.value);
        let [hits, misses] = self.outcomes.get_or_init(|| {
            let name = self.name;
            ["hit", "miss"].map(|outcome| {
                metrics::counter!("portfolio_read_cache_total", "cache" => name, "outcome" => outcome)
            })
        });
        if found.is_some() { hits } else { misses }.increment(1);
        found
    }

    /// Keeps `value`, made from reads that began after `fresh` was taken.
    pub fn keep(&self, key: K, fresh: &Freshness, value: V) {
        if fresh.now.is_some() {
            let changes = fresh.before;
            self.entries.insert(key, Stamped { changes, value });
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;

    use super::*;

    fn open(path: &std::path::Path) -> SqliteConnection {
        let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        conn.batch_execute(super::super::PRAGMAS).unwrap();
        conn
    }

    #[test]
    fn a_commit_by_another_connection_dates_every_entry_kept_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        let mut writer = open(&path);
        writer
            .batch_execute("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1);")
            .unwrap();
        let mut reader = open(&path);
        let changes = Changes::default();
        let cache: ReadCache<i32, i64> = ReadCache::new("test", 4, 4, |_| 1);
        let mut seen = None;

        let fresh = |conn: &mut SqliteConnection, seen: &mut Option<i64>| {
            let before = changes.now();
            let now = changes.look(conn, seen).unwrap();
            Freshness {
                before,
                now: Some(now),
            }
        };
        // A connection's first look counts: it cannot know what came before,
        // so what is read after it is dated before that count.
        let first = fresh(&mut reader, &mut seen);
        assert_eq!(first.now, Some(first.before + 1));
        assert_eq!(cache.current(&1, &first), None);
        cache.keep(1, &first, 10);
        assert_eq!(cache.current(&1, &fresh(&mut reader, &mut seen)), None);
        // Nothing committed since: the same count, and the entry stands.
        let second = fresh(&mut reader, &mut seen);
        assert_eq!(second.now, Some(second.before));
        cache.keep(1, &second, 11);
        assert_eq!(cache.current(&1, &fresh(&mut reader, &mut seen)), Some(11));

        writer.batch_execute("UPDATE t SET v = 2;").unwrap();
        let after = fresh(&mut reader, &mut seen);
        assert_eq!(after.now, Some(after.before + 1));
        assert_eq!(cache.current(&1, &after), None);
        // PostgreSQL's: nothing matches, nothing is kept.
        let never = Freshness {
            before: 0,
            now: None,
        };
        cache.keep(2, &never, 20);
        assert_eq!(cache.current(&2, &never), None);
        let after = after.now.unwrap();
        // A second reader's first look counts again, and the count only
        // grows: an entry stamped before can never match again.
        let mut other = open(&path);
        let mut other_seen = None;
        assert_eq!(
            changes.look(&mut other, &mut other_seen).unwrap(),
            after + 1
        );
        assert_eq!(changes.look(&mut reader, &mut seen).unwrap(), after + 1);
    }
}
