//! The database a test runs against: a fresh SQLite file in a temp folder,
//! or, when `PORTFOLIO_TEST_POSTGRES` names a PostgreSQL server, a fresh
//! database made on it for this test alone (and dropped afterwards). The
//! same tests run on both: `.ci/run` runs the suite once per backend.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use diesel::connection::SimpleConnection;
use diesel::Connection;

/// The variable naming the PostgreSQL server: a URL whose role may create
/// databases, e.g. `postgres://portfolio:portfolio@127.0.0.1:5432/portfolio`.
pub const POSTGRES_VARIABLE: &str = "PORTFOLIO_TEST_POSTGRES";

/// The PostgreSQL server the suite runs against, if any.
pub fn postgres_server() -> Option<String> {
    std::env::var(POSTGRES_VARIABLE)
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// Whether this run of the suite is on PostgreSQL.
pub fn on_postgres() -> bool {
    postgres_server().is_some()
}

/// A database of one test's own.
pub struct TestDatabase {
    /// What the app is configured with (`databases.portfolio.url`).
    pub url: String,
    /// The data folder (uploads; the SQLite file is in it).
    pub volume: PathBuf,
    /// On PostgreSQL: the server and the database's name, to drop it.
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A new, empty database for a test whose files go under `folder`.
    pub fn new(folder: &Path) -> TestDatabase {
        match postgres_server() {
            None => TestDatabase::sqlite(folder),
            Some(server) => TestDatabase::postgres(folder, &server),
        }
    }

    /// A SQLite file in a folder the app must create itself.
    pub fn sqlite(folder: &Path) -> TestDatabase {
        let volume = folder.join("volumes");
        TestDatabase {
            url: volume.join("portfolio.db").to_str().unwrap().to_owned(),
            volume,
            postgres: None,
        }
    }

    /// A new database on the PostgreSQL server `server`.
    pub fn postgres(folder: &Path, server: &str) -> TestDatabase {
        let volume = folder.join("volumes");
        let server = server.to_owned();
        let name = unique_name();
        let mut admin = diesel::PgConnection::establish(&server)
            .unwrap_or_else(|e| panic!("cannot reach {POSTGRES_VARIABLE}={server}: {e}"));
        // The name is ours (letters, digits, underscores), never input.
        admin
            .batch_execute(&format!(
                "CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0"
            ))
            .expect("create the test database");
        TestDatabase {
            url: with_database(&server, &name),
            volume,
            postgres: Some((server, name)),
        }
    }

    /// The SQLite file, if this is SQLite.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        self.postgres.is_none().then(|| PathBuf::from(&self.url))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.postgres {
            if let Ok(mut admin) = diesel::PgConnection::establish(server) {
                let _ =
                    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// `portfolio_test_<process>_<counter>_<random>`: unique across the test
/// binaries that run at once.
fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let random: u32 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "portfolio_test_{}_{}_{random}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// `server` with its database name replaced by `name`.
fn with_database(server: &str, name: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{root}/{name}?{query}"),
        None => format!("{root}/{name}"),
    }
}
