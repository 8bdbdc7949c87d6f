//! Running the built `portfolio` binary in tests: processes that are
//! killed when dropped, free ports, and a plain HTTP client.

#![allow(dead_code)]

pub mod database;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BINARY: &str = env!("CARGO_BIN_EXE_portfolio");
pub const SECRET_KEY: &str = "bALgVYaJ3kYV6EI1vccjroNCu0zIH5mnWkqO0OnaElY=";
pub const ADMIN_PASSWORD: &str = "admin password for tests";

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The binary with none of the caller's ROCKET_/PORTFOLIO_ settings, its
/// database at `database` (templates and styles are built in).
pub fn command(folder: &Path, database: &Path) -> Command {
    let volume = database.parent().filter(|p| !p.as_os_str().is_empty());
    command_for(folder, &database.display().to_string(), volume)
}

/// The binary on the database at `url` (a SQLite path or a PostgreSQL
/// URL), its data (uploads) in `volume`.
pub fn command_for(folder: &Path, url: &str, volume: Option<&Path>) -> Command {
    let mut command = Command::new(BINARY);
    command.current_dir(folder);
    for (key, _) in std::env::vars() {
        if key.starts_with("ROCKET_") || key.starts_with("PORTFOLIO_") {
            command.env_remove(key);
        }
    }
    command
        .env(
            "ROCKET_DATABASES",
            format!("{{portfolio={{url=\"{url}\"}}}}"),
        )
        .env("ROCKET_SECRET_KEY", SECRET_KEY)
        .env("PORTFOLIO_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("RUST_BACKTRACE", "1");
    if let Some(volume) = volume {
        command.env("ROCKET_VOLUME_DIR", volume);
    }
    command
}

/// Runs a command to completion, feeding `stdin`.
pub fn run(mut command: Command, stdin: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A running server, killed (if still running) when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Whatever a test did, the server must never have panicked.
        if !std::thread::panicking() {
            let log = self.log_text();
            assert!(!log.contains("panicked at"), "the server panicked:\n{log}");
        }
    }
}

/// Starts `command` as a server on a free port and waits until it listens.
pub fn start(mut command: Command, log: PathBuf) -> Server {
    let port = free_port();
    let log_file = std::fs::File::create(&log).unwrap();
    let child = command
        .env("ROCKET_PORT", port.to_string())
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().unwrap())
        .stderr(log_file)
        .spawn()
        .expect("start the binary");
    let server = Server { child, port, log };
    server.wait_until_listening();
    server
}

impl Server {
    pub fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the server did not start: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        cookie: Option<&str>,
    ) -> Response {
        request(self.port, method, path, body, cookie)
    }

    /// A request with `Authorization: Bearer <token>`.
    pub fn request_with_token(&self, method: &str, path: &str, token: &str) -> Response {
        let bearer = format!("Bearer {token}");
        request_with_header(
            self.port,
            method,
            path,
            None,
            Some(("Authorization", &bearer)),
        )
    }

    /// Logs in over HTTP and returns the `Cookie` header value.
    pub fn log_in(&self, uid: &str, password: &str) -> String {
        let body = serde_json::json!({"uid": uid, "password": password}).to_string();
        let response = self.request("POST", "/api/session", Some(&body), None);
        assert_eq!(response.status, 200, "login of {uid}: {}", response.body);
        response.cookie.expect("a session cookie")
    }
}

pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: String,
    pub cookie: Option<String>,
}

impl Response {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// A plain HTTP/1.1 request to 127.0.0.1:`port`, with a session cookie.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
    cookie: Option<&str>,
) -> Response {
    let header = cookie.map(|c| ("Cookie", c));
    request_with_header(port, method, path, body, header)
}

/// A plain HTTP/1.1 request to 127.0.0.1:`port`, with one extra header.
pub fn request_with_header(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
    header: Option<(&str, &str)>,
) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let body = body.unwrap_or("");
    let cookie_line = header
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{cookie_line}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let cookie = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(": ")?;
            name.eq_ignore_ascii_case("set-cookie")
                .then_some(value)
                .filter(|v| v.starts_with("portfolio_session="))
        })
        .and_then(|value| value.split(';').next())
        .map(str::to_owned);
    Response {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
        cookie,
    }
}

/// Root ignores file permissions; tests that need them run the server as
/// an ordinary user instead.
pub fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
