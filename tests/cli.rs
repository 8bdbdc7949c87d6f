//! Every subcommand of the binary, on real database files.

mod support;

use std::path::PathBuf;

use diesel::prelude::*;
use portfolio::db::schema::{posts, sessions, users};
use support::{command, run, start, text, Server, ADMIN_PASSWORD};

struct Setup {
    dir: tempfile::TempDir,
    database: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("volumes").join("portfolio.db");
    Setup { dir, database }
}

impl Setup {
    fn portfolio(&self, args: &[&str], stdin: &str) -> std::process::Output {
        let mut cmd = command(self.dir.path(), &self.database);
        cmd.args(args);
        run(cmd, stdin)
    }

    fn ok(&self, args: &[&str], stdin: &str) -> String {
        let output = self.portfolio(args, stdin);
        assert!(
            output.status.success(),
            "portfolio {args:?} failed: {}",
            text(&output)
        );
        text(&output)
    }

    fn fails(&self, args: &[&str], stdin: &str) -> String {
        let output = self.portfolio(args, stdin);
        assert!(
            !output.status.success(),
            "portfolio {args:?} should fail: {}",
            text(&output)
        );
        text(&output)
    }

    fn conn(&self) -> portfolio::db::DbConnection {
        portfolio::db::establish(self.database.to_str().unwrap()).unwrap()
    }

    fn count_posts(&self) -> i64 {
        posts::table.count().get_result(&mut self.conn()).unwrap()
    }

    fn server(&self) -> Server {
        let log = self
            .dir
            .path()
            .join(format!("server-{}.log", support::free_port()));
        start(command(self.dir.path(), &self.database), log)
    }
}

fn migration_versions() -> Vec<String> {
    let mut versions = portfolio::db::known_migrations(portfolio::db::Backend::Sqlite).unwrap();
    versions.sort();
    versions
}

fn migration_count() -> usize {
    migration_versions().len()
}

#[test]
fn every_subcommand_has_help() {
    let s = setup();
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["db", "--help"],
        vec!["db", "migrate", "--help"],
        vec!["db", "status", "--help"],
        vec!["db", "rollback", "--help"],
        vec!["db", "seed", "--help"],
        vec!["user", "create", "--help"],
        vec!["user", "set-password", "--help"],
        vec!["user", "reset-link", "--help"],
        vec!["invite", "create", "--help"],
        vec!["user", "reset-2fa", "--help"],
        vec!["backup", "--help"],
        vec!["restore", "--help"],
        vec!["healthcheck", "--help"],
    ] {
        let out = s.ok(&args, "");
        assert!(out.contains("Usage: portfolio"), "{args:?}: {out}");
    }
    assert!(s
        .fails(&["nonsense"], "")
        .contains("unrecognized subcommand"));
}

#[test]
fn db_migrate_status_rollback_and_seed() {
    let s = setup();
    assert!(s
        .fails(&["db", "status"], "")
        .contains("there is no database"));
    assert!(!s.database.exists(), "status creates nothing");

    assert!(s.ok(&["db", "migrate"], "").contains(&format!(
        "up to date ({} migrations applied)",
        migration_count()
    )));
    let status = s.ok(&["db", "status"], "");
    assert_eq!(
        status.matches("applied").count(),
        migration_count(),
        "{status}"
    );

    assert!(s.ok(&["db", "rollback"], "").contains("rolled back 2026"));
    let status = s.ok(&["db", "status"], "");
    let last = migration_versions().pop().unwrap();
    assert!(status.contains(&format!("pending  {last}")), "{status}");
    assert!(s
        .ok(&["db", "rollback", "--steps", "50"], "")
        .contains("rolled back 20261123000001"));
    assert!(s
        .ok(&["db", "rollback"], "")
        .contains("nothing to roll back"));
    s.ok(&["db", "migrate"], "");

    let seeded = s.ok(&["db", "seed"], "");
    assert!(
        seeded.contains("seeded the empty database with 7 users"),
        "{seeded}"
    );
    assert!(
        !seeded.contains(ADMIN_PASSWORD),
        "a chosen password is not printed"
    );
    assert!(s.ok(&["db", "seed"], "").contains("nothing seeded"));
    assert!(s
        .fails(&["db", "rollback", "--steps", "x"], "")
        .contains("invalid value"));
}

#[test]
fn user_create_reads_the_password_from_stdin_and_validates() {
    let s = setup();
    let out = s.ok(
        &[
            "user",
            "create",
            "--uid",
            "Neo",
            "--name",
            "Thomas Anderson",
            "--admin",
        ],
        "there is no spoon\n",
    );
    assert!(out.contains("created admin neo"), "{out}");
    let hash: String = users::table
        .filter(users::uid.eq("neo"))
        .select(users::password_hash)
        .first(&mut s.conn())
        .unwrap();
    assert!(portfolio::domain::password::verify_blocking(
        "there is no spoon",
        Some(&hash)
    ));

    let refused = s.fails(
        &[
            "user", "create", "--uid", "x", "--name", "", "--email", "nope",
        ],
        "short\n",
    );
    assert!(
        refused.contains("uid must be 3 to 32 characters long"),
        "{refused}"
    );
    assert!(
        refused.contains("password must be at least 8 characters long"),
        "{refused}"
    );
    assert!(s
        .fails(
            &["user", "create", "--uid", "NEO", "--name", "Other"],
            "another password\n"
        )
        .contains("already taken"));
    assert!(s
        .fails(
            &["user", "create", "--uid", "trinity", "--name", "Trinity"],
            ""
        )
        .contains("no password"));
    let count: i64 = users::table.count().get_result(&mut s.conn()).unwrap();
    assert_eq!(count, 1);
}

#[test]
fn user_set_password_changes_it_and_ends_sessions() {
    let s = setup();
    s.ok(
        &["user", "create", "--uid", "morpheus", "--name", "Morpheus"],
        "first password\n",
    );
    let id: i32 = users::table.select(users::id).first(&mut s.conn()).unwrap();
    portfolio::domain::session::start(&mut s.conn(), id, 14).unwrap();

    s.ok(&["user", "set-password", "Morpheus"], "second password\n");
    let hash: String = users::table
        .select(users::password_hash)
        .first(&mut s.conn())
        .unwrap();
    assert!(portfolio::domain::password::verify_blocking(
        "second password",
        Some(&hash)
    ));
    let live: i64 = sessions::table.count().get_result(&mut s.conn()).unwrap();
    assert_eq!(live, 0);

    assert!(s
        .fails(&["user", "set-password", "morpheus"], "morpheus\n")
        .contains("password"));
    assert!(s
        .fails(&["user", "set-password", "nobody"], "whatever123\n")
        .contains("no user nobody"));
}

#[test]
fn user_reset_link_prints_a_one_time_link_on_the_public_url() {
    use portfolio::db::schema::password_resets;
    let s = setup();
    s.ok(
        &["user", "create", "--uid", "morpheus", "--name", "Morpheus"],
        "first password\n",
    );
    let link_of = |out: &str| {
        out.lines()
            .find(|line| line.contains("/password/reset?token="))
            .unwrap_or_else(|| panic!("no link in {out}"))
            .to_owned()
    };
    let mut cmd = command(s.dir.path(), &s.database);
    cmd.env("ROCKET_PUBLIC_URL", "https://portfolio.test/")
        .args(["user", "reset-link", "Morpheus"]);
    let output = run(cmd, "");
    assert!(output.status.success(), "{}", text(&output));
    let first = link_of(&text(&output));
    assert!(
        first.starts_with("https://portfolio.test/password/reset?token="),
        "{first}"
    );
    // Stored as a hash, one per account: a second link replaces the first.
    let second = link_of(&s.ok(&["user", "reset-link", "morpheus"], ""));
    assert_ne!(first, second);
    let stored: Vec<String> = password_resets::table
        .select(password_resets::token_hash)
        .load(&mut s.conn())
        .unwrap();
    let token = second.split("token=").nth(1).unwrap();
    assert_eq!(stored, [portfolio::domain::secret::sha256_hex(token)]);
    assert!(s
        .fails(&["user", "reset-link", "nobody"], "")
        .contains("no user nobody"));
}

#[test]
fn invite_create_prints_a_one_time_sign_up_link() {
    use portfolio::db::schema::invites;
    let s = setup();
    s.ok(&["db", "migrate"], "");
    let out = s.ok(&["invite", "create", "--days", "3"], "");
    let line = out
        .lines()
        .find(|line| line.starts_with("/signup?invite="))
        .unwrap_or_else(|| panic!("no link in {out}"));
    let token = line.trim_start_matches("/signup?invite=");
    let stored: Vec<(String, Option<i32>)> = invites::table
        .select((invites::token_hash, invites::created_by))
        .load(&mut s.conn())
        .unwrap();
    assert_eq!(
        stored,
        [(portfolio::domain::secret::sha256_hex(token), None)]
    );
    assert!(s
        .fails(&["invite", "create", "--days", "0"], "")
        .contains("days"));
}

#[test]
fn user_reset_2fa_turns_two_factor_login_off() {
    use portfolio::db::schema::{recovery_codes, two_factor};
    let s = setup();
    s.ok(
        &["user", "create", "--uid", "morpheus", "--name", "Morpheus"],
        "first password\n",
    );
    let user = portfolio::domain::User::find_by_uid(&mut s.conn(), "morpheus")
        .unwrap()
        .unwrap();
    let enrollment = portfolio::domain::two_factor::begin(&mut s.conn(), &user).unwrap();
    let time = portfolio::domain::two_factor::clock();
    let code = portfolio::domain::two_factor::code_at(&enrollment.secret, time).unwrap();
    portfolio::domain::two_factor::confirm(&mut s.conn(), &user, &code, time).unwrap();
    assert!(portfolio::domain::two_factor::is_enabled(&mut s.conn(), user.id).unwrap());

    assert!(s
        .ok(&["user", "reset-2fa", "Morpheus"], "")
        .contains("turned two-factor login off"));
    assert!(!portfolio::domain::two_factor::is_enabled(&mut s.conn(), user.id).unwrap());
    let left: i64 = two_factor::table.count().get_result(&mut s.conn()).unwrap();
    let codes: i64 = recovery_codes::table
        .count()
        .get_result(&mut s.conn())
        .unwrap();
    assert_eq!((left, codes), (0, 0));
    assert!(s
        .ok(&["user", "reset-2fa", "morpheus"], "")
        .contains("nothing changed"));
}

#[test]
fn backup_is_consistent_while_the_server_keeps_writing() {
    let s = setup();
    let server = s.server();
    let cookie = server.log_in("admin", ADMIN_PASSWORD);
    let port = server.port;
    let writer = std::thread::spawn(move || {
        let mut written = 0;
        for n in 0..60 {
            let body = serde_json::json!({"title": format!("during backup {n}"), "content": "x"})
                .to_string();
            let response = support::request(port, "POST", "/api/posts", Some(&body), Some(&cookie));
            assert_eq!(response.status, 201, "{}", response.body);
            written += 1;
        }
        written
    });
    let mut backups = Vec::new();
    for n in 0..3 {
        let file = s.dir.path().join(format!("backup-{n}.db"));
        let out = s.ok(&["backup", file.to_str().unwrap()], "");
        assert!(out.contains("backed up"), "{out}");
        backups.push(file);
    }
    let written = writer.join().unwrap();
    assert_eq!(written, 60, "the server kept serving");
    for file in &backups {
        let mut copy = portfolio::db::establish(file.to_str().unwrap()).unwrap();
        portfolio::db::integrity_check(&mut copy).unwrap();
        let users: i64 = users::table.count().get_result(&mut copy).unwrap();
        assert_eq!(users, 7, "a complete copy");
    }
    assert!(s
        .fails(&["backup", backups[0].to_str().unwrap()], "")
        .contains("already exists"));
}

#[test]
fn restore_round_trips_and_refuses_while_a_server_runs() {
    let s = setup();
    let backup = s.dir.path().join("backup.db");
    {
        let server = s.server();
        let cookie = server.log_in("admin", ADMIN_PASSWORD);
        let body = serde_json::json!({"title": "kept in the backup", "content": "x"}).to_string();
        assert_eq!(
            server
                .request("POST", "/api/posts", Some(&body), Some(&cookie))
                .status,
            201
        );
        s.ok(&["backup", backup.to_str().unwrap()], "");
        let body =
            serde_json::json!({"title": "written after the backup", "content": "x"}).to_string();
        assert_eq!(
            server
                .request("POST", "/api/posts", Some(&body), Some(&cookie))
                .status,
            201
        );

        let refused = s.fails(&["restore", backup.to_str().unwrap()], "");
        assert!(
            refused.contains("in use by a running portfolio server"),
            "{refused}"
        );
    }
    let before = s.count_posts();
    s.ok(&["restore", backup.to_str().unwrap()], "");
    assert_eq!(s.count_posts(), before - 1, "back to the backup's posts");

    let server = s.server();
    let listing = server
        .request("GET", "/api/posts?per_page=100", None, None)
        .json();
    let titles: Vec<&str> = listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert!(titles.contains(&"kept in the backup"));
    assert!(!titles.contains(&"written after the backup"));
}

#[test]
fn scheduled_backups_are_listed_and_one_is_restored_by_name() {
    let s = setup();
    let titles = |s: &Setup| -> Vec<String> {
        posts::table
            .select(posts::title)
            .load(&mut s.conn())
            .unwrap()
    };
    let name = {
        let mut command = command(s.dir.path(), &s.database);
        command
            .env("ROCKET_BACKUP_EVERY", "1s")
            .env("ROCKET_BACKUP_KEEP", "3");
        let server = start(command, s.dir.path().join("backing-up.log"));
        let cookie = server.log_in("admin", ADMIN_PASSWORD);
        let body = serde_json::json!({"title": "kept in the backup", "content": "x"}).to_string();
        let created = server.request("POST", "/api/posts", Some(&body), Some(&cookie));
        assert_eq!(created.status, 201, "{}", created.body);
        // Names are to the second: one named a second later was begun after
        // the post was acknowledged.
        let acknowledged = chrono::Utc::now().timestamp();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let name = loop {
            let listing = s.ok(&["backup", "--list"], "");
            let newest = listing.lines().next().unwrap_or("").to_owned();
            let name = newest.split_whitespace().next().unwrap_or("").to_owned();
            let taken = chrono::NaiveDateTime::parse_from_str(&name, "%Y-%m-%dT%H-%M-%SZ.db");
            if taken.is_ok_and(|t| t.and_utc().timestamp() > acknowledged) {
                assert!(listing.lines().count() <= 3, "kept 3: {listing}");
                break name;
            }
            assert!(std::time::Instant::now() < deadline, "{listing}");
            std::thread::sleep(std::time::Duration::from_millis(200));
        };
        let body =
            serde_json::json!({"title": "written after the backup", "content": "x"}).to_string();
        let created = server.request("POST", "/api/posts", Some(&body), Some(&cookie));
        assert_eq!(created.status, 201, "{}", created.body);
        name
    };
    assert!(titles(&s).contains(&"written after the backup".to_owned()));

    // By name, with or without `.db`; an unknown name says where it looked.
    let unknown = s.fails(&["restore", "2000-01-01T00-00-00Z"], "");
    assert!(unknown.contains("backup --list"), "{unknown}");
    let out = s.ok(&["restore", name.trim_end_matches(".db")], "");
    assert!(out.contains("restored"), "{out}");
    let now = titles(&s);
    assert!(now.contains(&"kept in the backup".to_owned()), "{now:?}");
    assert!(
        !now.contains(&"written after the backup".to_owned()),
        "{now:?}"
    );
    // The backup itself is untouched, and still listed.
    assert!(s.ok(&["backup", "--list"], "").contains(&name));
}

#[test]
fn restore_refuses_a_damaged_or_foreign_file_and_changes_nothing() {
    let s = setup();
    s.ok(&["db", "migrate"], "");
    s.ok(&["db", "seed"], "");
    let before = std::fs::read(&s.database).unwrap();

    let garbage = s.dir.path().join("garbage.db");
    std::fs::write(
        &garbage,
        b"this is not a database at all, just some text padded out ".repeat(200),
    )
    .unwrap();
    assert!(s
        .fails(&["restore", garbage.to_str().unwrap()], "")
        .contains("cannot be restored"));

    let empty_sqlite = s.dir.path().join("other.db");
    let mut other = portfolio::db::establish(empty_sqlite.to_str().unwrap()).unwrap();
    diesel::sql_query("PRAGMA user_version = 1")
        .execute(&mut other)
        .unwrap();
    drop(other);
    assert!(s
        .fails(&["restore", empty_sqlite.to_str().unwrap()], "")
        .contains("not a portfolio database"));

    assert!(s
        .fails(&["restore", "/no/such/file.db"], "")
        .contains("there is no file"));
    assert_eq!(
        std::fs::read(&s.database).unwrap(),
        before,
        "the database is untouched"
    );
}

#[test]
fn healthcheck_answers_for_the_running_server() {
    let s = setup();
    let server = s.server();
    let mut check = command(s.dir.path(), &s.database);
    check
        .arg("healthcheck")
        .env("ROCKET_PORT", server.port.to_string());
    let output = run(check, "");
    assert!(output.status.success(), "{}", text(&output));

    let health = server.request("GET", "/health", None, None);
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    assert_eq!(health.json()["migrations"], "current");
    drop(server);

    let mut check = command(s.dir.path(), &s.database);
    check
        .arg("healthcheck")
        .env("ROCKET_PORT", support::free_port().to_string());
    let output = run(check, "");
    assert!(!output.status.success());
    assert!(text(&output).contains("no server at"), "{}", text(&output));
}

#[test]
fn bad_configuration_is_a_clear_error() {
    let s = setup();
    let mut check = command(s.dir.path(), &s.database);
    check
        .args(["db", "migrate"])
        .env("ROCKET_DATABASES", "{portfolio={url=42}}");
    let output = run(check, "");
    assert!(!output.status.success());
    let message = text(&output).to_lowercase();
    assert!(
        message.contains("databases.portfolio.url") && message.contains("expected a string"),
        "{message}"
    );
}

#[test]
fn maintenance_commands_and_restore_exclude_each_other() {
    let s = setup();
    s.ok(&["db", "migrate"], "");
    let url = s.database.to_str().unwrap();
    let backup = s.dir.path().join("b.db");
    s.ok(&["backup", backup.to_str().unwrap()], "");

    // While a restore holds the database, the commands that use it refuse.
    let restoring = portfolio::db::lock_exclusive(url).unwrap();
    for args in [
        vec!["db", "status"],
        vec!["db", "migrate"],
        vec!["db", "rollback"],
    ] {
        assert!(s.fails(&args, "").contains("in use"), "{args:?}");
    }
    drop(restoring);

    // While anything holds its shared claim, restore refuses.
    let claim = portfolio::db::lock_shared(url).unwrap();
    assert!(s
        .fails(&["restore", backup.to_str().unwrap()], "")
        .contains("in use"));
    drop(claim);
    s.ok(&["restore", backup.to_str().unwrap()], "");
}
