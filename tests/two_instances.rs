//! Two `portfolio` processes, one PostgreSQL database: what one writes the
//! other reads, a login on one is valid on the other, an image uploaded
//! through one is served by the other, and 32 writers spread over both lose
//! nothing.
//!
//! Needs the PostgreSQL server named by `PORTFOLIO_TEST_POSTGRES` (`.ci/run`
//! starts one, and runs this test on it). Without it the test says it is
//! skipped.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;

use support::database::{postgres_server, TestDatabase, POSTGRES_VARIABLE};
use support::{command_for, run, start, text, Server, ADMIN_PASSWORD};

const WRITERS: usize = 32;
const POSTS_PER_WRITER: usize = 8;

fn start_instance(folder: &std::path::Path, db: &TestDatabase, name: &str) -> Server {
    // Both instances share the same data folder (for uploads), as the
    // README requires of several instances.
    start(
        command_for(folder, &db.url, Some(&db.volume)),
        folder.join(format!("{name}.log")),
    )
}

#[test]
fn two_instances_share_one_postgres_database() {
    if postgres_server().is_none() {
        eprintln!("skipped: set {POSTGRES_VARIABLE} to run it");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::new(dir.path());

    // Started at the same moment on an empty database: they take turns to
    // migrate and seed, and both come up.
    let (first, second) = std::thread::scope(|scope| {
        let a = scope.spawn(|| start_instance(dir.path(), &db, "first"));
        let b = scope.spawn(|| start_instance(dir.path(), &db, "second"));
        (a.join().unwrap(), b.join().unwrap())
    });
    let users =
        |server: &Server| server.request("GET", "/api/users", None, None).json()["total"].clone();
    assert_eq!(users(&first), users(&second));
    assert_eq!(
        users(&first),
        7,
        "seeded once: the admin and six demo users"
    );

    // A login made on one is valid on the other (same secret key, sessions
    // in the shared database).
    let cookie = first.log_in("admin", ADMIN_PASSWORD);
    let me = second.request("GET", "/api/me", None, Some(&cookie));
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["uid"], "admin");

    // A post written through one is read through the other.
    let body = r#"{"title": "Written on the first", "content": "Read on the second."}"#;
    let created = first.request("POST", "/api/posts", Some(body), Some(&cookie));
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    let read = second.request("GET", &format!("/api/posts/{id}"), None, None);
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.json()["title"], "Written on the first");

    // An image uploaded through one is served by the other.
    let png = include_bytes!("../src/domain/seed_assets/gears.png");
    let path = format!("/api/posts/{id}/image");
    let (status, _, answer) = raw_request(first.port, "PUT", &path, png, Some(&cookie));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
    let post: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    let url = post["image"].as_str().expect("the image's URL").to_owned();
    let (status, head, served) = raw_request(second.port, "GET", &url, &[], None);
    assert_eq!(status, 200, "{url}");
    assert!(head.contains("image/png"), "{head}");
    assert_eq!(served, png, "the same bytes");

    // 32 writers, each posting through both instances in turn: every
    // acknowledged post is there, on both.
    let before = first
        .request("GET", "/api/posts?per_page=1", None, None)
        .json()["total"]
        .as_i64()
        .unwrap();
    let acknowledged: Vec<i64> = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|writer| {
                let (first, second, cookie) = (&first, &second, &cookie);
                scope.spawn(move || {
                    (0..POSTS_PER_WRITER)
                        .map(|n| {
                            let server = if (writer + n) % 2 == 0 { first } else { second };
                            let body = serde_json::json!({
                                "title": format!("Writer {writer}, post {n}"),
                                "content": "Written at the same time as 255 others.",
                            })
                            .to_string();
                            let reply =
                                server.request("POST", "/api/posts", Some(&body), Some(cookie));
                            assert_eq!(reply.status, 201, "{}", reply.body);
                            reply.json()["id"].as_i64().unwrap()
                        })
                        .collect::<Vec<i64>>()
                })
            })
            .collect();
        writers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert_eq!(acknowledged.len(), WRITERS * POSTS_PER_WRITER);
    let mut unique = acknowledged.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        unique.len(),
        acknowledged.len(),
        "every post has its own id"
    );
    for server in [&first, &second] {
        let total = server
            .request("GET", "/api/posts?per_page=1", None, None)
            .json()["total"]
            .as_i64()
            .unwrap();
        assert_eq!(total, before + acknowledged.len() as i64);
    }
    for id in acknowledged.iter().step_by(17) {
        for server in [&first, &second] {
            let reply = server.request("GET", &format!("/api/posts/{id}"), None, None);
            assert_eq!(reply.status, 200, "post {id}");
        }
    }

    // Rules checked before a write hold across instances: two admins, each
    // deleting the other at the same moment through a different instance,
    // never leave the site without an admin (the writers of all instances
    // take turns, as on SQLite).
    let mut survivor = ("admin".to_owned(), ADMIN_PASSWORD.to_owned());
    for round in 0..5 {
        let uid = format!("admin{round}");
        let password = format!("password of {uid}, long enough");
        let mut create = command_for(dir.path(), &db.url, Some(&db.volume));
        create.args([
            "user",
            "create",
            "--uid",
            &uid,
            "--name",
            "Another Admin",
            "--admin",
        ]);
        let output = run(create, &format!("{password}\n"));
        assert!(output.status.success(), "{}", text(&output));
        let id_of = |server: &Server, uid: &str| {
            let users = server
                .request("GET", "/api/users?per_page=100", None, None)
                .json();
            users["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["uid"] == uid)
                .map(|u| u["id"].as_i64().unwrap())
                .unwrap()
        };
        let (old_id, new_id) = (id_of(&first, &survivor.0), id_of(&first, &uid));
        let old_cookie = first.log_in(&survivor.0, &survivor.1);
        let new_cookie = second.log_in(&uid, &password);
        let (a, b) = std::thread::scope(|scope| {
            let a = scope.spawn(|| {
                first.request(
                    "DELETE",
                    &format!("/api/users/{new_id}"),
                    None,
                    Some(&old_cookie),
                )
            });
            let b = scope.spawn(|| {
                second.request(
                    "DELETE",
                    &format!("/api/users/{old_id}"),
                    None,
                    Some(&new_cookie),
                )
            });
            (a.join().unwrap(), b.join().unwrap())
        });
        let deleted = [a.status, b.status].iter().filter(|s| **s == 204).count();
        assert_eq!(
            deleted, 1,
            "round {round}: {} {} / {} {}",
            a.status, a.body, b.status, b.body
        );
        let admins = first
            .request("GET", "/api/users?per_page=100", None, None)
            .json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["role"] == "admin")
            .count();
        assert_eq!(admins, 1, "round {round}");
        if b.status == 204 {
            survivor = (uid, password);
        }
    }
}

/// A request with a binary body and a binary answer (the support client
/// speaks text): the status, the head, the body.
fn raw_request(
    port: u16,
    method: &str,
    path: &str,
    body: &[u8],
    cookie: Option<&str>,
) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{cookie}\
         Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete answer");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head, raw[split + 4..].to_vec())
}
