//! Scheduled backups (`backup_every`, `backup_keep`): written by the running
//! server while it serves, checked, rotated; a failing one is reported and
//! the server goes on. (Restoring one by name: tests/cli.rs.)

use std::time::{Duration, Instant};

use diesel::prelude::*;
use portfolio::db::schema::{post_totals, posts};
use portfolio::domain::backups::{BackupFolder, BackupRecord, BackupStatus};
use rocket::http::Status;
use serde_json::json;

use crate::helpers::*;

async fn spawn_backing_up(every: &str, keep: usize) -> TestApp {
    let every = every.to_owned();
    spawn_configured(false, move |f| {
        f.merge(("backup_every", every))
            .merge(("backup_keep", keep))
    })
    .await
}

fn record(app: &TestApp) -> BackupRecord {
    app.client
        .rocket()
        .state::<BackupStatus>()
        .expect("the status is managed")
        .record()
}

/// Waits (up to 30 s) until `done` holds of the backups' record.
async fn wait_for(app: &TestApp, what: &str, done: impl Fn(&BackupRecord) -> bool) -> BackupRecord {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = record(app);
        if done(&now) {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "waited in vain for {what}: {now:?}"
        );
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn folder(app: &TestApp) -> BackupFolder {
    BackupFolder::in_volume(&app.db.volume)
}

#[rocket::async_test]
async fn a_backup_taken_while_sixteen_clients_write_is_sound_and_loses_nothing() {
    if on_postgres() {
        return; // refused there: see the test below
    }
    let app = spawn_backing_up("1s", 100).await;
    let author = app.create_user("writer").await;
    // The first backup is taken at start; wait for two more during writes.
    let first = wait_for(&app, "the first backup", |r| r.successes >= 1).await;
    let writing = std::sync::atomic::AtomicBool::new(true);
    let clients = (0..16).map(|client| {
        let (app, author, writing) = (&app, &author, &writing);
        async move {
            let mut acknowledged = Vec::new();
            let mut n = 0;
            while writing.load(std::sync::atomic::Ordering::Relaxed) || n < 5 {
                let reply = app
                    .post(
                        "/api/posts",
                        &json!({"title": format!("client {client} post {n}"), "content": "x", "published": true}),
                        Some(author),
                    )
                    .await;
                assert_eq!(reply.status, Status::Created, "{:?}", reply.body);
                acknowledged.push(reply.body["id"].as_i64().unwrap() as i32);
                n += 1;
            }
            acknowledged
        }
    });
    let stopper = async {
        wait_for(&app, "two backups during the writes", |r| {
            r.successes >= first.successes + 2
        })
        .await;
        writing.store(false, std::sync::atomic::Ordering::Relaxed);
    };
    let (written, ()) = futures::join!(futures::future::join_all(clients), stopper);
    let acknowledged: Vec<i32> = written.into_iter().flatten().collect();
    let done_writing = chrono::Utc::now();

    // Every backup, including those taken mid-write, is a sound snapshot:
    // SQLite finds nothing wrong, and its kept counts match its rows.
    let backups = folder(&app).list().unwrap();
    assert!(backups.len() >= 3, "{backups:?}");
    for backup in &backups {
        let mut copy = portfolio::db::establish(backup.path.to_str().unwrap()).unwrap();
        portfolio::db::integrity_check(&mut copy).unwrap();
        let rows: i64 = posts::table
            .filter(posts::published)
            .count()
            .get_result(&mut copy)
            .unwrap();
        let kept: i64 = post_totals::table
            .select(post_totals::published)
            .first(&mut copy)
            .unwrap();
        assert_eq!(rows, kept, "{}: counts match rows", backup.name);
    }

    // Nothing acknowledged is lost: all of it is in the database, and in
    // the first backup taken after the writes ended.
    let mut live = app.conn();
    let stored: i64 = posts::table
        .filter(posts::id.eq_any(&acknowledged))
        .count()
        .get_result(&mut live)
        .unwrap();
    assert_eq!(stored as usize, acknowledged.len());
    let after = wait_for(&app, "a backup after the writes", |r| {
        r.last_success
            .as_ref()
            .is_some_and(|b| b.taken_at > done_writing)
    })
    .await;
    let mut copy =
        portfolio::db::establish(after.last_success.unwrap().path.to_str().unwrap()).unwrap();
    let in_backup: i64 = posts::table
        .filter(posts::id.eq_any(&acknowledged))
        .count()
        .get_result(&mut copy)
        .unwrap();
    assert_eq!(in_backup as usize, acknowledged.len(), "all in the backup");
}

#[rocket::async_test]
async fn rotation_keeps_exactly_backup_keep_the_newest() {
    if on_postgres() {
        return;
    }
    let app = spawn_backing_up("1s", 2).await;
    let done = wait_for(&app, "four backups", |r| r.successes >= 4).await;
    let names: Vec<String> = folder(&app)
        .list()
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    // One more may have been taken since; still exactly two are kept.
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names.contains(&done.last_success.unwrap().name),
        "{names:?}"
    );
    let files = std::fs::read_dir(folder(&app).path()).unwrap().count();
    assert_eq!(files, 2, "nothing else is left in the folder");
}

#[rocket::async_test]
async fn a_backup_folder_that_cannot_be_written_is_reported_and_the_server_keeps_serving() {
    if on_postgres() {
        return;
    }
    let app = spawn_backing_up("1s", 3).await;
    // A file where the folder should be: unwritable even for root (the
    // tests may run as root, whom permission bits do not stop). The task
    // may make the folder meanwhile: try until the file is in its place.
    let blocked = folder(&app).path().to_owned();
    while std::fs::write(&blocked, "not a folder").is_err() {
        let _ = std::fs::remove_dir_all(&blocked);
    }
    let failed = wait_for(&app, "a failure", |r| r.failures >= 1).await;
    let message = failed.last_error.expect("the failure is kept");
    assert!(message.contains("backups"), "{message}");
    assert!(!failed.last_attempt.unwrap().1, "the last attempt failed");

    // The server is fine: it reads and writes as before.
    let author = app.create_user("still-writing").await;
    let id = app
        .create_post(&author, "After a failed backup", true)
        .await;
    let reply = app.get(&format!("/api/posts/{id}"), None).await;
    assert_eq!(reply.status, Status::Ok);

    // Once the folder can be written again, backups resume.
    std::fs::remove_file(&blocked).unwrap();
    let resumed = wait_for(&app, "a backup after the fix", |r| {
        r.successes > failed.successes
    })
    .await;
    assert!(resumed.last_error.is_none());
}

#[rocket::async_test]
async fn backup_settings_are_refused_on_postgres_and_checked_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::new(dir.path());
    let refused = |figment| async move {
        match rocket::local::asynchronous::Client::untracked(portfolio::build(figment)).await {
            Ok(_) => false,
            // Reading the kind marks Rocket's error handled.
            Err(error) => matches!(error.kind(), rocket::error::ErrorKind::FailedFairings(_)),
        }
    };
    assert_eq!(
        refused(test_figment(&db, false).merge(("backup_every", "6h"))).await,
        on_postgres(),
        "backup_every is refused on PostgreSQL only"
    );
    assert!(
        refused(test_figment(&db, false).merge(("backup_keep", 0))).await,
        "backup_keep = 0 is refused"
    );
}

#[rocket::async_test]
async fn the_dashboard_shows_the_last_backup_and_a_failure() {
    if on_postgres() {
        return;
    }
    let app = spawn_backing_up("1s", 2).await;
    let boss = app.create_admin("boss").await;
    let done = wait_for(&app, "a backup", |r| r.successes >= 1).await;
    let (status, html) = app.page_html("/admin", &boss).await;
    assert_eq!(status, Status::Ok);
    let name = done.last_success.unwrap().name;
    let shown = html
        .split("id=\"last-backup\">")
        .nth(1)
        .expect("the last backup is shown");
    // A newer one may have been taken since; it is named the same way.
    assert!(shown.contains(".db, "), "{shown}");
    assert!(!shown.starts_with("No backup yet"), "{name}: {shown}");
    assert!(!html.contains("Scheduled backups are off"));

    let blocked = folder(&app).path().to_owned();
    while std::fs::write(&blocked, "not a folder").is_err() {
        let _ = std::fs::remove_dir_all(&blocked);
    }
    wait_for(&app, "a failure", |r| r.last_error.is_some()).await;
    let (_, html) = app.page_html("/admin", &boss).await;
    assert!(
        html.contains("id=\"backup-failure\""),
        "the failure is on the dashboard"
    );
}
