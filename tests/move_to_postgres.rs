//! The README's steps for moving a SQLite portfolio to PostgreSQL, run with
//! the real binary: `db export` from SQLite, `db import` into PostgreSQL,
//! then a server on PostgreSQL serves the same posts and logins. Also the
//! maintenance commands on PostgreSQL (status, rollback, migrate, seed,
//! set-password; backup refused).
//!
//! Needs `PORTFOLIO_TEST_POSTGRES` (`.ci/run` sets it for this test; skipped
//! without it).

mod support;

use support::database::{postgres_server, TestDatabase, POSTGRES_VARIABLE};
use support::{command, command_for, run, start, text, ADMIN_PASSWORD};

#[test]
fn a_sqlite_portfolio_moves_to_postgres_with_export_and_import() {
    let Some(server) = postgres_server() else {
        eprintln!("skipped: set {POSTGRES_VARIABLE} to run it");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = TestDatabase::sqlite(&dir.path().join("sqlite"));
    let sqlite_file = sqlite.sqlite_file().unwrap();

    // A portfolio in use on SQLite: seeded, with a post of someone's own.
    let mut old = start(
        command(dir.path(), &sqlite_file),
        dir.path().join("old.log"),
    );
    let cookie = old.log_in("admin", ADMIN_PASSWORD);
    let body = r#"{"title": "Moving house", "content": "From a file to a server."}"#;
    let created = old.request("POST", "/api/posts", Some(body), Some(&cookie));
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    let posts_before = old.request("GET", "/api/posts", None, None).json()["total"].clone();
    assert!(old.terminate().success());

    // Export from SQLite.
    let export = dir.path().join("portfolio.json");
    let mut exporting = command(dir.path(), &sqlite_file);
    exporting.args(["db", "export", export.to_str().unwrap()]);
    let output = run(exporting, "");
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains("exported 7 users"),
        "{}",
        text(&output)
    );

    // Import into a new PostgreSQL database.
    let postgres = TestDatabase::postgres(&dir.path().join("postgres"), &server);
    let on_postgres = || command_for(dir.path(), &postgres.url, Some(&postgres.volume));
    let mut importing = on_postgres();
    importing.args(["db", "import", export.to_str().unwrap()]);
    let output = run(importing, "");
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains("imported 7 users"),
        "{}",
        text(&output)
    );
    // The URL's password is never printed (`user:***@host`).
    let credentials = postgres
        .url
        .split("://")
        .nth(1)
        .unwrap()
        .split('@')
        .next()
        .unwrap();
    assert!(credentials.contains(':'), "the test URL has a password");
    assert!(!text(&output).contains(credentials), "{}", text(&output));

    // The import left no dead row versions behind for autovacuum to find
    // later (each post's counting trigger updated its author's row): the
    // tables it filled were vacuumed.
    {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = portfolio::db::establish(&postgres.url).unwrap();
        let vacuumed: Count = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_user_tables \
             WHERE relname IN ('users', 'posts') AND last_vacuum IS NOT NULL",
        )
        .get_result(&mut conn)
        .unwrap();
        assert_eq!(
            vacuumed.n, 2,
            "users and posts are vacuumed after an import"
        );
    }

    // A second import is refused: the database is no longer empty.
    let mut again = on_postgres();
    again.args(["db", "import", export.to_str().unwrap()]);
    let output = run(again, "");
    assert!(!output.status.success());
    assert!(text(&output).contains("empty"), "{}", text(&output));

    // The maintenance commands on PostgreSQL.
    let mut status = on_postgres();
    status.args(["db", "status"]);
    let output = run(status, "");
    assert!(output.status.success(), "{}", text(&output));
    assert!(!text(&output).contains("pending"), "{}", text(&output));
    assert!(text(&output).contains("applied"), "{}", text(&output));
    let mut backup = on_postgres();
    backup.args(["backup", dir.path().join("b.db").to_str().unwrap()]);
    let output = run(backup, "");
    assert!(!output.status.success(), "backup is SQLite's");
    assert!(text(&output).contains("pg_dump"), "{}", text(&output));

    // Roll the newest migration back and forward again, seed (refused: it
    // has users), and set a password: the maintenance commands on PostgreSQL.
    let mut rollback = on_postgres();
    rollback.args(["db", "rollback", "--steps", "1"]);
    let output = run(rollback, "");
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("rolled back"), "{}", text(&output));
    let mut status = on_postgres();
    status.args(["db", "status"]);
    assert!(
        text(&run(status, "")).contains("pending"),
        "one migration is pending"
    );
    let mut migrate = on_postgres();
    migrate.args(["db", "migrate"]);
    let output = run(migrate, "");
    assert!(output.status.success(), "{}", text(&output));
    let mut seed = on_postgres();
    seed.args(["db", "seed"]);
    let output = run(seed, "");
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains("nothing seeded"),
        "{}",
        text(&output)
    );
    let new_password = "a new admin password on postgres";
    let mut set_password = on_postgres();
    set_password.args(["user", "set-password", "admin"]);
    let output = run(set_password, &format!("{new_password}\n"));
    assert!(output.status.success(), "{}", text(&output));

    // A server on PostgreSQL: the same posts, the new password.
    let new = start(on_postgres(), dir.path().join("new.log"));
    assert_eq!(
        new.request("GET", "/api/posts", None, None).json()["total"],
        posts_before
    );
    let moved = new.request("GET", &format!("/api/posts/{id}"), None, None);
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.json()["title"], "Moving house");
    let cookie = new.log_in("admin", new_password);
    let body = r#"{"title": "Settled in", "content": "A new id, after the old ones."}"#;
    let created = new.request("POST", "/api/posts", Some(body), Some(&cookie));
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.json()["id"].as_i64().unwrap() > id);
    assert!(
        !new.log_text().contains(credentials),
        "the server log shows the password"
    );
}
