//! The database underneath: migrations, pragmas, seeding, start-up checks.

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use portfolio::db::schema::{posts, users};
use portfolio::db::{self, Backend, ReadPool};
use portfolio::domain::seed;
use rocket::http::Status;
use rocket::local::asynchronous::Client;

use crate::helpers::{on_postgres, spawn_app, spawn_app_with, test_figment, TestDatabase};

/// A new, empty database (not migrated) of the backend under test.
fn temp_db() -> (tempfile::TempDir, TestDatabase) {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::new(dir.path());
    std::fs::create_dir_all(&db.volume).unwrap();
    (dir, db)
}

fn migration_count() -> usize {
    let backend = if on_postgres() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    db::known_migrations(backend).unwrap().len()
}

#[test]
fn migrations_run_up_all_down_and_up_again() {
    let (_dir, test_db) = temp_db();
    let mut conn = db::establish(&test_db.url).unwrap();
    let applied = db::migrate(&mut conn).unwrap();
    assert_eq!(applied.len(), migration_count());
    assert!(users::table.count().get_result::<i64>(&mut conn).is_ok());

    let reverted = db::rollback(&mut conn, usize::MAX).unwrap();
    assert_eq!(reverted.len(), migration_count(), "every down.sql ran");
    assert!(
        users::table.count().get_result::<i64>(&mut conn).is_err(),
        "users is gone"
    );
    assert!(
        posts::table.count().get_result::<i64>(&mut conn).is_err(),
        "posts is gone"
    );

    assert_eq!(db::migrate(&mut conn).unwrap().len(), migration_count());
    assert_eq!(
        users::table.count().get_result::<i64>(&mut conn).unwrap(),
        0
    );
    assert!(
        db::migrate(&mut conn).unwrap().is_empty(),
        "nothing left to apply"
    );
}

diesel::table! {
    __diesel_schema_migrations (version) {
        version -> Text,
        run_on -> Timestamp,
    }
}

#[rocket::async_test]
async fn a_database_from_a_newer_version_is_refused() {
    let (_dir, test_db) = temp_db();
    let mut conn = db::establish(&test_db.url).unwrap();
    db::migrate(&mut conn).unwrap();
    diesel::insert_into(__diesel_schema_migrations::table)
        .values((
            __diesel_schema_migrations::version.eq("29991231000000"),
            __diesel_schema_migrations::run_on.eq(chrono::Utc::now().naive_utc()),
        ))
        .execute(&mut conn)
        .unwrap();
    let error = db::migrate(&mut conn).unwrap_err().to_string();
    assert!(
        error.contains("29991231000000") && error.contains("newer"),
        "{error}"
    );

    let launch = Client::untracked(portfolio::build(test_figment(&test_db, false))).await;
    let Err(error) = launch else {
        panic!("the app must not start on it");
    };
    assert!(matches!(
        error.kind(),
        rocket::error::ErrorKind::FailedFairings(_)
    ));
}

#[derive(QueryableByName)]
struct Timeout {
    #[diesel(sql_type = Integer)]
    timeout: i32,
}

#[derive(QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = Text)]
    journal_mode: String,
}

#[derive(QueryableByName)]
struct ForeignKeys {
    #[diesel(sql_type = Integer)]
    foreign_keys: i32,
}

#[derive(QueryableByName)]
struct Synchronous {
    #[diesel(sql_type = Integer)]
    synchronous: i32,
}

#[derive(QueryableByName)]
struct QueryOnly {
    #[diesel(sql_type = Integer)]
    query_only: i32,
}

/// busy_timeout, journal_mode, foreign_keys, synchronous, query_only.
fn pragmas(c: &mut db::DbConnection) -> (i32, String, i32, i32, i32) {
    let get = |sql: &str| diesel::sql_query(sql.to_owned());
    (
        get("PRAGMA busy_timeout")
            .get_result::<Timeout>(c)
            .unwrap()
            .timeout,
        get("PRAGMA journal_mode")
            .get_result::<JournalMode>(c)
            .unwrap()
            .journal_mode,
        get("PRAGMA foreign_keys")
            .get_result::<ForeignKeys>(c)
            .unwrap()
            .foreign_keys,
        get("PRAGMA synchronous")
            .get_result::<Synchronous>(c)
            .unwrap()
            .synchronous,
        get("PRAGMA query_only")
            .get_result::<QueryOnly>(c)
            .unwrap()
            .query_only,
    )
}

#[rocket::async_test]
async fn our_pragmas_hold_on_every_pooled_connection() {
    let app = spawn_app().await;
    if on_postgres() {
        return our_postgres_settings_hold_on_every_pooled_connection(&app).await;
    }
    // Hold several readers at once, so they are distinct connections.
    let mut readers = Vec::new();
    for _ in 0..4 {
        readers.push(
            ReadPool::get_one(app.client.rocket())
                .await
                .expect("a reader"),
        );
    }
    for reader in &readers {
        let (timeout, journal, foreign_keys, synchronous, query_only) =
            reader.run(|c| pragmas(c.inner())).await;
        assert!(timeout >= 5000, "busy_timeout is {timeout}");
        assert_eq!(journal, "wal");
        assert_eq!(foreign_keys, 1);
        assert_eq!(synchronous, 1, "NORMAL");
        assert_eq!(query_only, 1, "readers cannot write");
    }
    let writer = app
        .client
        .rocket()
        .state::<db::Writer>()
        .expect("the writer");
    let (timeout, journal, foreign_keys, synchronous, query_only) = writer
        .alone(|c| Ok::<_, db::DbError>(pragmas(c)))
        .await
        .unwrap();
    assert!(timeout >= 5000);
    assert_eq!(
        (journal.as_str(), foreign_keys, synchronous, query_only),
        ("wal", 1, 1, 0)
    );
}

#[derive(QueryableByName)]
struct Settings {
    #[diesel(sql_type = Text)]
    time_zone: String,
    #[diesel(sql_type = Text)]
    lock_timeout: String,
    #[diesel(sql_type = Text)]
    read_only: String,
}

/// PostgreSQL's counterpart of the pragmas: UTC, a lock timeout, and
/// read-only readers.
async fn our_postgres_settings_hold_on_every_pooled_connection(app: &crate::helpers::TestApp) {
    fn settings(c: &mut db::DbConnection) -> (String, String, String) {
        let s: Settings = diesel::sql_query(
            "SELECT current_setting('TimeZone') AS time_zone, \
             current_setting('lock_timeout') AS lock_timeout, \
             current_setting('transaction_read_only') AS read_only",
        )
        .get_result(c)
        .unwrap();
        (s.time_zone, s.lock_timeout, s.read_only)
    }
    let mut readers = Vec::new();
    for _ in 0..4 {
        readers.push(ReadPool::get_one(app.client.rocket()).await.unwrap());
    }
    for reader in &readers {
        let found = reader.run(|c| settings(c.inner())).await;
        assert_eq!(found, ("UTC".into(), "5s".into(), "on".into()));
    }
    let writer = app.client.rocket().state::<db::Writer>().unwrap();
    let found = writer
        .alone(|c| Ok::<_, db::DbError>(settings(c)))
        .await
        .unwrap();
    assert_eq!(found, ("UTC".into(), "5s".into(), "off".into()));
}

#[rocket::async_test]
async fn a_write_sent_to_a_reader_fails_instead_of_writing() {
    let app = spawn_app().await;
    app.create_user("someone").await;
    let reader = ReadPool::get_one(app.client.rocket()).await.unwrap();
    let result = reader
        .run(|c| diesel::delete(portfolio::db::schema::users::table).execute(c.inner()))
        .await;
    assert!(result.is_err());
    assert_eq!(app.count_users(), 1);
}

#[rocket::async_test]
async fn the_first_launch_seeds_demo_users_posts_and_an_admin() {
    let app = spawn_app_with(true).await;
    assert_eq!(app.count_users(), 7);
    assert!(app.count_posts() >= 6);
    let hop = app.get("/api/users?per_page=100", None).await;
    let uids: Vec<&str> = hop.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["uid"].as_str().unwrap())
        .collect();
    for uid in ["admin", "toby", "niko", "lex", "hop", "marie", "hedy"] {
        assert!(uids.contains(&uid), "{uid} missing from {uids:?}");
    }
    // The documented demo password works.
    app.log_in("hop", seed::DEMO_PASSWORD).await;
    let grace = app.get("/api/users?per_page=100", None).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["uid"] == "hop")
        .cloned()
        .unwrap();
    assert_eq!(grace["dob"], "1906-12-09");
    assert_eq!(grace["name"], "Grace Hopper");
    // One demo post shows an image, served from the uploads folder.
    let posts = app.get("/api/posts?per_page=100", None).await;
    let images: Vec<&str> = posts.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["image"].as_str())
        .collect();
    assert_eq!(images.len(), 1, "{images:?}");
    let image = app.client.get(images[0].to_owned()).dispatch().await;
    assert_eq!(image.status(), Status::Ok);
    assert_eq!(image.content_type(), Some(rocket::http::ContentType::PNG));
    let bytes = image.into_bytes().await.unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
}

#[rocket::async_test]
async fn seeding_runs_once() {
    let app = spawn_app_with(true).await;
    let users_before = app.count_users();
    let posts_before = app.count_posts();
    // A second launch on the same file adds nothing.
    let again = Client::untracked(portfolio::build(test_figment(&app.db, true)))
        .await
        .unwrap();
    drop(again);
    assert_eq!(app.count_users(), users_before);
    assert_eq!(app.count_posts(), posts_before);
    // And the function itself says so.
    let outcome = seed::seed_if_empty(&mut app.conn(), None, None).unwrap();
    assert_eq!(outcome, seed::Outcome::AlreadyHadUsers);
}

#[test]
fn the_admin_password_can_be_chosen() {
    let (_dir, test_db) = temp_db();
    let mut conn = db::establish(&test_db.url).unwrap();
    db::migrate(&mut conn).unwrap();
    let outcome =
        seed::seed_if_empty(&mut conn, Some("chosen admin password".to_owned()), None).unwrap();
    assert!(matches!(outcome, seed::Outcome::Seeded { users: 7, .. }));
    let hash: String = users::table
        .filter(users::uid.eq("admin"))
        .select(users::password_hash)
        .first(&mut conn)
        .unwrap();
    assert!(portfolio::domain::password::verify_blocking(
        "chosen admin password",
        Some(&hash)
    ));
    let role: String = users::table
        .filter(users::uid.eq("admin"))
        .select(users::role)
        .first(&mut conn)
        .unwrap();
    assert_eq!(role, "admin");
}

#[rocket::async_test]
async fn seeding_can_be_turned_off() {
    let app = spawn_app().await;
    assert_eq!(app.count_users(), 0);
    assert_eq!(app.get("/api/posts", None).await.body["total"], 0);
}

#[rocket::async_test]
async fn the_database_folder_is_created_at_start_up() {
    let app = spawn_app().await;
    assert!(
        app.db.volume.is_dir(),
        "{} was not created",
        app.db.volume.display()
    );
    if let Some(file) = app.db.sqlite_file() {
        assert!(file.exists(), "{} was not created", file.display());
    }
    assert_eq!(app.get("/api/posts", None).await.status, Status::Ok);
}

#[test]
fn release_refuses_to_start_without_a_secret_key() {
    let figment = portfolio::config::figment().select(rocket::Config::RELEASE_PROFILE);
    if std::env::var_os("ROCKET_SECRET_KEY").is_some() {
        // A key is set in this environment: nothing to check.
        return;
    }
    let message = portfolio::config::require_secret_key(&figment).unwrap_err();
    assert!(message.contains("ROCKET_SECRET_KEY"), "{message}");
    assert!(message.contains("openssl rand -base64 32"), "{message}");

    let with_key = figment.merge(("secret_key", "bALgVYaJ3kYV6EI1vccjroNCu0zIH5mnWkqO0OnaElY="));
    assert!(portfolio::config::require_secret_key(&with_key).is_ok());
}

#[rocket::async_test]
async fn a_deleted_users_posts_are_removed_by_the_foreign_key() {
    let app = spawn_app().await;
    let user = app.create_user("cascade").await;
    app.create_post(&user, "p", true).await;
    let mut conn = app.conn();
    diesel::delete(users::table.find(user.id))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(
        app.count_posts(),
        0,
        "ON DELETE CASCADE holds even outside the app"
    );
}

#[rocket::async_test]
async fn health_is_ok_and_turns_503_when_the_schema_is_behind() {
    let app = spawn_app().await;
    let reply = app.get("/health", None).await;
    assert_eq!(reply.status, Status::Ok);
    assert_eq!(reply.body["status"], "ok");
    assert_eq!(reply.body["database"], "ok");
    assert_eq!(reply.body["migrations"], "current");
    assert_eq!(reply.body["version"], env!("CARGO_PKG_VERSION"));

    // Someone rolls the schema back under the running server.
    db::rollback(&mut app.conn(), 1).unwrap();
    let reply = app.get("/health", None).await;
    assert_eq!(reply.status, Status::ServiceUnavailable);
    assert_eq!(reply.body["migrations"], "out of date");
}

#[rocket::async_test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let first = app.client.get("/api/posts").dispatch().await;
    let second = app.client.get("/api/posts").dispatch().await;
    let id = |r: &rocket::local::asynchronous::LocalResponse<'_>| {
        r.headers().get_one("X-Request-Id").map(str::to_owned)
    };
    let (a, b) = (id(&first).unwrap(), id(&second).unwrap());
    assert_eq!(a.len(), 12);
    assert_ne!(a, b);
}

#[rocket::async_test]
async fn a_write_lock_held_elsewhere_is_a_503_with_retry_after_and_writes_nothing() {
    use diesel::connection::SimpleConnection;
    let app = spawn_app().await;
    let author = app.create_user("author").await;
    let before = app.snapshot();
    // Someone (say, `sqlite3` or `psql` in a shell) holds the write lock
    // for longer than the writer waits for it.
    let mut other = app.conn();
    other
        .batch_execute(if on_postgres() {
            "BEGIN; LOCK TABLE posts IN EXCLUSIVE MODE;"
        } else {
            "BEGIN IMMEDIATE"
        })
        .unwrap();
    let response = app
        .client
        .post("/api/posts")
        .header(rocket::http::ContentType::JSON)
        .cookie(rocket::http::Cookie::new(
            "portfolio_session",
            author.cookie.clone(),
        ))
        .body(r#"{"title": "Waiting", "content": "for the lock"}"#)
        .dispatch()
        .await;
    let status = response.status();
    let retry: u64 = response
        .headers()
        .get_one("Retry-After")
        .expect("Retry-After")
        .parse()
        .unwrap();
    let body: serde_json::Value =
        serde_json::from_str(&response.into_string().await.unwrap()).unwrap();
    other.batch_execute("COMMIT").unwrap();
    assert_eq!(status, Status::ServiceUnavailable, "{body}");
    assert_eq!(body["error"]["status"], 503);
    assert!(retry >= 1);
    assert_eq!(app.snapshot(), before, "nothing written");
    // Once the lock is free, the same request goes through.
    app.create_post(&author, "Waiting", true).await;
}

#[derive(QueryableByName, Debug)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    declared: String,
    #[diesel(sql_type = Integer)]
    notnull: i32,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

#[derive(QueryableByName, Debug)]
struct PostgresColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

/// `(table, column, type, nullable)`, types in Diesel's words, for the
/// tables the application uses (each backend's search index is its own).
type Columns = std::collections::BTreeSet<(String, String, &'static str, bool)>;

const TABLES: [&str; 19] = [
    "api_tokens",
    "comments",
    "email_verifications",
    "invites",
    "login_challenges",
    "outbox",
    "password_resets",
    "post_daily_views",
    "post_tags",
    "post_totals",
    "posts",
    "recovery_codes",
    "sessions",
    "site_daily",
    "site_totals",
    "tags",
    "two_factor",
    "user_totals",
    "users",
];

fn diesel_type(declared: &str) -> &'static str {
    match declared.to_ascii_lowercase().as_str() {
        "integer" => "Integer",
        "bigint" => "BigInt",
        "text" => "Text",
        "boolean" => "Bool",
        "timestamp" | "timestamp without time zone" => "Timestamp",
        "date" => "Date",
        other => panic!("a column type the comparison does not know: {other}"),
    }
}

fn sqlite_columns(conn: &mut db::DbConnection) -> Columns {
    let mut columns = Columns::new();
    for table in TABLES {
        let rows: Vec<SqliteColumn> = diesel::sql_query(
            "SELECT name, type AS declared, \"notnull\", pk FROM pragma_table_info(?)",
        )
        .bind::<Text, _>(table)
        .load(conn)
        .unwrap();
        assert!(!rows.is_empty(), "SQLite has no table {table}");
        for row in rows {
            // An INTEGER PRIMARY KEY is never NULL, whatever it declares.
            let nullable = row.notnull == 0 && row.pk == 0;
            // SQLite stores every INTEGER in 64 bits: this count, declared
            // INTEGER, is read as the BigInt that schema.rs and PostgreSQL say.
            let declared = if (table, row.name.as_str()) == ("post_totals", "published") {
                "BIGINT"
            } else {
                row.declared.as_str()
            };
            columns.insert((table.to_owned(), row.name, diesel_type(declared), nullable));
        }
    }
    columns
}

fn postgres_columns(conn: &mut db::DbConnection) -> Columns {
    let rows: Vec<PostgresColumn> = diesel::sql_query(
        // Generated columns are left out: `posts.search_document` is
        // PostgreSQL's search index (migration 000010), whose SQLite
        // counterpart is the FTS5 table, not a column.
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns \
         WHERE table_schema = 'public' AND is_generated = 'NEVER'",
    )
    .load(conn)
    .unwrap();
    rows.into_iter()
        .filter(|row| TABLES.contains(&row.table_name.as_str()))
        .map(|row| {
            (
                row.table_name,
                row.column_name,
                diesel_type(&row.data_type),
                row.is_nullable == "YES",
            )
        })
        .collect()
}

/// Both backends' migrations make the same tables with the same columns,
/// types and nullability; and both undo completely.
#[test]
fn the_sqlite_and_postgres_migrations_make_the_same_schema() {
    let Some(server) = crate::test_database::postgres_server() else {
        eprintln!("skipped: set PORTFOLIO_TEST_POSTGRES to run it");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = TestDatabase::sqlite(&dir.path().join("sqlite"));
    std::fs::create_dir_all(&sqlite.volume).unwrap();
    let postgres = TestDatabase::postgres(&dir.path().join("postgres"), &server);

    let mut on_sqlite = db::establish(&sqlite.url).unwrap();
    let mut on_postgres = db::establish(&postgres.url).unwrap();
    db::migrate(&mut on_sqlite).unwrap();
    db::migrate(&mut on_postgres).unwrap();
    assert_eq!(
        db::known_migrations(Backend::Sqlite).unwrap(),
        db::known_migrations(Backend::Postgres).unwrap(),
        "the same versions on both"
    );
    let (sqlite_schema, postgres_schema) = (
        sqlite_columns(&mut on_sqlite),
        postgres_columns(&mut on_postgres),
    );
    assert_eq!(sqlite_schema.len(), 105, "{sqlite_schema:#?}");
    assert_eq!(sqlite_schema, postgres_schema);

    // Every down.sql undoes its up.sql: nothing of ours is left.
    db::rollback(&mut on_postgres, usize::MAX).unwrap();
    assert!(postgres_columns(&mut on_postgres).is_empty());
    db::migrate(&mut on_postgres).unwrap();
    assert_eq!(postgres_columns(&mut on_postgres), postgres_schema);
}

/// `db export` from SQLite, `db import` into a new database of the backend
/// under test: every row arrives, ids and all; derived data (published
/// count, search) follows; new rows get new ids; a second import is refused.
#[test]
fn an_export_from_sqlite_imports_into_a_new_database() {
    use portfolio::domain::transfer;
    use portfolio::domain::user::SignUp;
    let dir = tempfile::tempdir().unwrap();
    let source_db = TestDatabase::sqlite(&dir.path().join("source"));
    std::fs::create_dir_all(&source_db.volume).unwrap();
    let mut source = db::establish(&source_db.url).unwrap();
    db::migrate(&mut source).unwrap();
    seed::seed_if_empty(&mut source, Some("admin password here".to_owned()), None).unwrap();
    let first_post: i32 = posts::table
        .select(posts::id)
        .order(posts::id)
        .first(&mut source)
        .unwrap();
    let views = std::collections::HashMap::from([(first_post, 3)]);
    portfolio::domain::post_views::write_batch(
        &mut source,
        &views,
        chrono::Utc::now().date_naive(),
    )
    .unwrap();
    // A comment, whose post's count the target's triggers must rebuild.
    {
        use portfolio::db::schema::comments;
        let now = portfolio::domain::now();
        diesel::insert_into(comments::table)
            .values((
                comments::post_id.eq(first_post),
                comments::user_id.eq(1),
                comments::body.eq("Carried over."),
                comments::created_at.eq(now),
                comments::updated_at.eq(now),
            ))
            .execute(&mut source)
            .unwrap();
    }
    let exported = transfer::export(&mut source).unwrap();
    assert_eq!(exported.comments.len(), 1);
    assert_eq!(exported.users.len(), 7);
    assert!(!exported.posts.is_empty());
    assert_eq!(exported.post_daily_views.len(), 1);
    // The demo posts' tags travel too (their counts are rebuilt by the
    // target's triggers, and compared below with the source's).
    assert!(!exported.tags.is_empty() && !exported.post_tags.is_empty());
    // Through the file format, as the CLI does.
    let file = serde_json::to_vec(&exported).unwrap();
    let read: transfer::Export = serde_json::from_slice(&file).unwrap();

    let target_db = TestDatabase::new(&dir.path().join("target"));
    std::fs::create_dir_all(&target_db.volume).unwrap();
    let mut target = db::establish(&target_db.url).unwrap();
    db::migrate(&mut target).unwrap();
    transfer::import(&mut target, &read).unwrap();
    assert_eq!(
        transfer::export(&mut target).unwrap(),
        exported,
        "every row, as it was"
    );

    // Derived data follows the rows: the listing's total and search.
    let published = exported.posts.iter().filter(|p| p.published).count() as i64;
    let (_, total) = portfolio::domain::Post::list(
        &mut target,
        Default::default(),
        None,
        portfolio::domain::page::Slice::first(20),
    )
    .unwrap();
    assert_eq!(total, published);
    let word = exported.posts[0].title.split_whitespace().next().unwrap();
    let query = portfolio::domain::search::SearchQuery::parse(word).unwrap();
    let found = portfolio::domain::search::search(
        &mut target,
        &query,
        Default::default(),
        None,
        portfolio::domain::Page::parse(None, None).unwrap(),
    )
    .unwrap();
    assert!(!found.hits.is_empty(), "{word} is found after the import");
    let tag_counts = |conn: &mut db::DbConnection| -> Vec<(String, i32)> {
        use portfolio::db::schema::tags;
        tags::table
            .select((tags::name, tags::posts))
            .order(tags::name)
            .load(conn)
            .unwrap()
    };
    assert_eq!(
        tag_counts(&mut target),
        tag_counts(&mut source),
        "tag counts rebuilt"
    );
    // The dashboard's counts are rebuilt too: the totals by triggers, the
    // days' sign-ups and posts by triggers, their views from the rows.
    let dashboard = |conn: &mut db::DbConnection| {
        portfolio::domain::dashboard::figures(conn, chrono::Utc::now().date_naive()).unwrap()
    };
    let (before, after) = (dashboard(&mut source), dashboard(&mut target));
    assert_eq!(after.totals, before.totals, "totals rebuilt");
    assert_eq!(after.days, before.days, "days rebuilt");
    assert_eq!(before.totals.comments, 1);
    assert_eq!(before.days.last().unwrap().views, 3);
    let site_daily = |conn: &mut db::DbConnection| -> Vec<(chrono::NaiveDate, i64, i64, i64)> {
        use portfolio::db::schema::site_daily;
        site_daily::table
            .select((
                site_daily::day,
                site_daily::signups,
                site_daily::posts,
                site_daily::views,
            ))
            .order(site_daily::day)
            .load(conn)
            .unwrap()
    };
    assert_eq!(
        site_daily(&mut target),
        site_daily(&mut source),
        "every day rebuilt"
    );

    // New rows get new ids.
    let new = SignUp {
        uid: "newcomer".into(),
        name: "New Comer".into(),
        email: None,
        password: "a long enough password".into(),
        dob: None,
        invite: None,
    }
    .validate()
    .unwrap();
    let hash = portfolio::domain::password::hash_blocking(&new.password).unwrap();
    let user = portfolio::domain::User::create(&mut target, &new, &hash).unwrap();
    assert!(exported.users.iter().all(|u| u.id < user.id));

    // A database with users is not overwritten.
    let error = transfer::import(&mut target, &read).unwrap_err();
    assert!(error.to_string().contains("empty"), "{error}");
    assert_eq!(
        users::table.count().get_result::<i64>(&mut target).unwrap(),
        8
    );
}
