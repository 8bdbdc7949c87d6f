//! Durability and faults, against the real binary: concurrent writers,
//! `kill -9` mid-stream, and broken disks or files at start-up.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use portfolio::db::schema::posts;
use support::{command, running_as_root, start, text, ADMIN_PASSWORD};

fn count_posts(database: &Path) -> i64 {
    let mut conn = portfolio::db::establish(database.to_str().unwrap()).unwrap();
    posts::table.count().get_result(&mut conn).unwrap()
}

#[test]
fn thirty_two_concurrent_writers_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("volumes").join("portfolio.db");
    let server = start(
        command(dir.path(), &database),
        dir.path().join("server.log"),
    );
    let before = count_posts(&database);
    let cookie = server.log_in("admin", ADMIN_PASSWORD);
    let port = server.port;

    let clients: Vec<_> = (0..32)
        .map(|client| {
            let cookie = cookie.clone();
            std::thread::spawn(move || {
                let mut statuses = Vec::new();
                for n in 0..50 {
                    let body = serde_json::json!({"title": format!("client {client} post {n}"), "content": "x"}).to_string();
                    statuses.push(support::request(port, "POST", "/api/posts", Some(&body), Some(&cookie)).status);
                }
                statuses
            })
        })
        .collect();
    let statuses: Vec<u16> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    assert_eq!(statuses.len(), 1600);
    let failures: Vec<&u16> = statuses.iter().filter(|s| **s != 201).collect();
    assert!(
        failures.is_empty(),
        "non-201 answers: {failures:?}\n{}",
        server.log_text()
    );
    assert_eq!(count_posts(&database) - before, 1600);
    assert!(!server.log_text().contains("database is locked"));
}

#[test]
fn kill_9_mid_stream_loses_no_acknowledged_post() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("volumes").join("portfolio.db");
    let mut server = start(command(dir.path(), &database), dir.path().join("first.log"));
    let cookie = server.log_in("admin", ADMIN_PASSWORD);
    let port = server.port;

    let acknowledged = Arc::new(Mutex::new(Vec::<i64>::new()));
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let (cookie, acknowledged) = (cookie.clone(), Arc::clone(&acknowledged));
            std::thread::spawn(move || {
                for n in 0.. {
                    let body = serde_json::json!({"title": format!("writer {writer} post {n}"), "content": "x"}).to_string();
                    // Once the server is gone, connecting or reading fails: stop.
                    let Ok(response) = std::panic::catch_unwind(|| {
                        support::request(port, "POST", "/api/posts", Some(&body), Some(&cookie))
                    }) else {
                        return;
                    };
                    if response.status == 201 {
                        let id = response.json()["id"].as_i64().unwrap();
                        acknowledged.lock().unwrap().push(id);
                    } else if response.status == 0 {
                        return;
                    }
                }
            })
        })
        .collect();
    // Let them write for a while, then pull the plug.
    let deadline = Instant::now() + Duration::from_secs(10);
    while acknowledged.lock().unwrap().len() < 200 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    server.child.kill().unwrap(); // SIGKILL: no shutdown, no checkpoint.
    server.child.wait().unwrap();
    for writer in writers {
        let _ = writer.join();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 50,
        "the writers barely wrote: {}",
        acknowledged.len()
    );

    // Restart on the same files: the WAL is recovered.
    let restarted = start(
        command(dir.path(), &database),
        dir.path().join("second.log"),
    );
    let mut conn = portfolio::db::establish(database.to_str().unwrap()).unwrap();
    portfolio::db::integrity_check(&mut conn).unwrap();
    let stored: Vec<i32> = posts::table.select(posts::id).load(&mut conn).unwrap();
    let missing: Vec<&i64> = acknowledged
        .iter()
        .filter(|id| !stored.contains(&(**id as i32)))
        .collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    assert_eq!(restarted.request("GET", "/health", None, None).status, 200);
}

/// Runs the server briefly; it must refuse to start. Returns its output.
fn refused_start(folder: &Path, database: &Path, unprivileged: bool) -> String {
    let mut cmd = command(folder, database);
    cmd.env("ROCKET_PORT", support::free_port().to_string());
    if unprivileged && running_as_root() {
        // Root ignores file permissions: run as an ordinary user instead.
        cmd.uid(10001).gid(10001);
    }
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server started on a broken volume");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success(), "{}", text(&output));
    text(&output)
}

fn open_up(path: &Path) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_read_only_volume_is_a_clear_error_not_a_silent_start() {
    let dir = tempfile::tempdir().unwrap();
    open_up(dir.path());
    let volume = dir.path().join("volumes");
    std::fs::create_dir(&volume).unwrap();
    std::fs::set_permissions(&volume, std::fs::Permissions::from_mode(0o555)).unwrap();
    let output = refused_start(dir.path(), &volume.join("portfolio.db"), true);
    // One line that names the folder (the database's), who owns it and the fix.
    assert!(
        output.contains(&format!("cannot write to {}", volume.display())),
        "{output}"
    );
    assert!(output.contains("chown"), "{output}");
    assert_eq!(output.trim().lines().count(), 1, "{output}");
    assert!(!volume.join("portfolio.db").exists());
}

#[test]
fn a_volume_that_cannot_be_created_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    open_up(dir.path());
    let locked = dir.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    let database = locked.join("volumes").join("portfolio.db");
    let output = refused_start(dir.path(), &database, true);
    assert!(output.contains("cannot create"), "{output}");
}

#[test]
fn a_garbage_database_file_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let volume = dir.path().join("volumes");
    std::fs::create_dir(&volume).unwrap();
    let database = volume.join("portfolio.db");
    let garbage = b"not a database, certainly not an empty one to replace ".repeat(100);
    std::fs::write(&database, &garbage).unwrap();
    let output = refused_start(dir.path(), &database, false);
    assert!(
        output.contains("cannot open the database") || output.contains("not a database"),
        "{output}"
    );
    assert_eq!(
        std::fs::read(&database).unwrap(),
        garbage,
        "the file was not replaced"
    );
}
