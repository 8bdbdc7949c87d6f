//! The built `portfolio` binary, run as a user would: from an empty folder,
//! over a real socket.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use portfolio::db::schema::users;

const BINARY: &str = env!("CARGO_BIN_EXE_portfolio");

/// A running server, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The binary with a clean environment: none of our settings leak in.
/// Templates and styles still come from the repository (until they are
/// embedded in the binary); everything else starts from nothing.
fn command(folder: &Path) -> Command {
    let mut command = Command::new(BINARY);
    command.current_dir(folder);
    for (key, _) in std::env::vars() {
        if key.starts_with("ROCKET_") || key.starts_with("PORTFOLIO_") {
            command.env_remove(key);
        }
    }
    let repository = Path::new(env!("CARGO_MANIFEST_DIR"));
    command
        .env("ROCKET_TEMPLATE_DIR", repository.join("templates"))
        .env("ROCKET_STATIC_DIR", repository.join("static"));
    command
}

fn start(folder: &Path) -> Server {
    let port = free_port();
    let log = folder.join("..").join(format!("server-{port}.log"));
    let log_file = std::fs::File::create(&log).unwrap();
    let child = command(folder)
        .env("ROCKET_PORT", port.to_string())
        .env(
            "ROCKET_SECRET_KEY",
            "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk=",
        )
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .spawn()
        .expect("start the binary");
    let server = Server { child, port, log };
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the server did not start: {}",
            server.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

impl Server {
    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A plain HTTP/1.1 request; returns the status and body.
    fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        cookie: Option<&str>,
    ) -> (u16, String, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let body = body.unwrap_or("");
        let cookie = cookie
            .map(|c| format!("Cookie: {c}\r\n"))
            .unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{cookie}\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, head.to_owned(), body.to_owned())
    }
}

#[test]
fn the_binary_starts_from_an_empty_folder_seeds_and_serves() {
    let root = tempfile::tempdir().unwrap();
    let folder = root.path().join("app");
    std::fs::create_dir(&folder).unwrap();
    let server = start(&folder);

    let (status, _, body) = server.request("GET", "/api/posts", None, None);
    assert_eq!(status, 200, "{body}");
    let posts: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(posts["total"].as_i64().unwrap() >= 6, "{body}");

    // The database file is where the docs say, and readable by a second
    // connection while the server runs.
    let db_path = folder.join("volumes").join("portfolio.db");
    assert!(db_path.exists());
    let mut conn = portfolio::db::establish(db_path.to_str().unwrap()).unwrap();
    let count: i64 = users::table.count().get_result(&mut conn).unwrap();
    assert_eq!(count, 7);

    // Logging in works over the socket, and no secret reaches the log.
    let credentials = format!(
        r#"{{"uid":"hop","password":"{}"}}"#,
        portfolio::seed::DEMO_PASSWORD
    );
    let (status, head, _) = server.request("POST", "/api/session", Some(&credentials), None);
    assert_eq!(status, 200);
    let cookie = head
        .lines()
        .find_map(|line| {
            line.strip_prefix("set-cookie: ")
                .or_else(|| line.strip_prefix("Set-Cookie: "))
        })
        .and_then(|value| value.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let (status, _, me) = server.request("GET", "/api/me", None, Some(&cookie));
    assert_eq!(status, 200, "{me}");

    let log = server.log_text();
    assert!(log.contains("seeded the empty database"), "{log}");
    assert!(
        !log.contains(portfolio::seed::DEMO_PASSWORD),
        "a password was logged"
    );
    assert!(!log.contains("$argon2"), "a hash was logged");
    let session_value = cookie.split_once('=').unwrap().1;
    assert!(!log.contains(session_value), "a session cookie was logged");
}

#[test]
fn release_refuses_to_start_without_a_secret_key_and_says_how_to_make_one() {
    let folder = tempfile::tempdir().unwrap();
    let output = command(folder.path())
        .env("ROCKET_PROFILE", "release")
        .env("ROCKET_PORT", free_port().to_string())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("openssl rand -base64 32"), "{text}");
    assert!(
        !folder.path().join("volumes").exists(),
        "nothing is written before refusing"
    );
}

#[test]
fn sqlite_is_compiled_in() {
    let Ok(output) = Command::new("ldd").arg(BINARY).output() else {
        eprintln!("no ldd here: skipped");
        return;
    };
    let libraries = String::from_utf8_lossy(&output.stdout);
    assert!(!libraries.contains("libsqlite3"), "{libraries}");
}
