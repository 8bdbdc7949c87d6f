//! The metrics, scraped by a real Prometheus server (Debian's `prometheus`
//! package, which `.ci/run` installs): the built binary serves them on
//! `metrics_address` and, with `metrics_token`, on its own address; the test
//! starts Prometheus with a scrape configuration for both, makes requests,
//! and reads the series back through Prometheus' own HTTP API.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{command, free_port, start, ADMIN_PASSWORD};

const TOKEN: &str = "a-metrics-token-for-the-test-0123456789";

/// Prometheus, or `None` outside CI when it is not installed.
fn prometheus() -> Option<&'static str> {
    let found = Command::new("prometheus")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Prometheus (apt-get install prometheus)"
        );
        eprintln!("no prometheus here: skipped");
        return None;
    }
    Some("prometheus")
}

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_prometheus(binary: &str, dir: &Path, app_port: u16, metrics_port: u16) -> (Killed, u16) {
    let port = free_port();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
             scrape_configs:\n\
             - job_name: private\n  static_configs:\n  - targets: ['127.0.0.1:{metrics_port}']\n\
             - job_name: token\n  authorization:\n    credentials: '{TOKEN}'\n  \
             static_configs:\n  - targets: ['127.0.0.1:{app_port}']\n"
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "Prometheus did not start: {}",
            std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (Killed(child), port)
}

/// `text` fit for a URL's query.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Prometheus' answer to an instant query: the samples' labels and values.
fn query(port: u16, promql: &str) -> Vec<(Value, f64)> {
    let path = format!("/api/v1/query?query={}", encode(promql));
    let response = support::request(port, "GET", &path, None, None);
    let body: Value = serde_json::from_str(&response.body).unwrap_or(Value::Null);
    body["data"]["result"]
        .as_array()
        .map(|results| {
            results
                .iter()
                .map(|r| {
                    let value = r["value"][1].as_str().unwrap_or("NaN").parse().unwrap();
                    (r["metric"].clone(), value)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Waits (up to 60 s) until the query's single sample has `expected`.
fn wait_for_value(port: u16, promql: &str, expected: f64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let samples = query(port, promql);
        if let [(labels, value)] = samples.as_slice() {
            if *value == expected {
                return labels.clone();
            }
        }
        assert!(
            Instant::now() < deadline,
            "{promql}: wanted {expected}, Prometheus has {samples:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn prometheus_scrapes_the_metrics_with_route_templates_and_values() {
    let Some(binary) = prometheus() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let metrics_port = free_port();
    let mut app = command(dir.path(), &dir.path().join("volumes/portfolio.db"));
    app.env("ROCKET_METRICS_TOKEN", TOKEN)
        .env(
            "ROCKET_METRICS_ADDRESS",
            format!("127.0.0.1:{metrics_port}"),
        )
        .env("ROCKET_BACKUP_EVERY", "1h");
    let server = start(app, dir.path().join("server.log"));

    // The site's /metrics wants the token.
    let refused = server.request("GET", "/metrics", None, None);
    assert_eq!(refused.status, 401);
    let wrong = server.request_with_token("GET", "/metrics", "not-the-token-0123456789");
    assert_eq!(wrong.status, 401);

    // Some traffic: three reads of a post, two of one that does not exist,
    // a failed login and a write.
    for _ in 0..3 {
        assert_eq!(
            server.request("GET", "/api/posts/1", None, None).status,
            200
        );
    }
    for _ in 0..2 {
        assert_eq!(
            server
                .request("GET", "/api/posts/999999", None, None)
                .status,
            404
        );
    }
    let wrong_password = serde_json::json!({"uid": "admin", "password": "not it"}).to_string();
    let failed = server.request("POST", "/api/session", Some(&wrong_password), None);
    assert_eq!(failed.status, 401);
    let cookie = server.log_in("admin", ADMIN_PASSWORD);
    let body = serde_json::json!({"title": "Counted", "content": "x"}).to_string();
    let created = server.request("POST", "/api/posts", Some(&body), Some(&cookie));
    assert_eq!(created.status, 201, "{}", created.body);

    let (_prometheus, port) = start_prometheus(binary, dir.path(), server.port, metrics_port);

    // Both ways of scraping work.
    for job in ["private", "token"] {
        wait_for_value(port, &format!("up{{job=\"{job}\"}}"), 1.0);
    }
    // Requests by route template and status class, never by raw path.
    let read = r#"portfolio_http_requests_total{job="private",route="/api/posts/<id>",method="GET",status="2xx"}"#;
    wait_for_value(port, read, 3.0);
    let missing = r#"portfolio_http_requests_total{job="private",route="/api/posts/<id>",method="GET",status="4xx"}"#;
    wait_for_value(port, missing, 2.0);
    let raw = query(
        port,
        r#"portfolio_http_requests_total{route=~".*/(1|999999)"}"#,
    );
    assert!(raw.is_empty(), "a raw path became a label: {raw:?}");
    wait_for_value(
        port,
        r#"portfolio_http_request_duration_seconds_count{job="private",route="/api/posts/<id>"}"#,
        5.0,
    );
    wait_for_value(
        port,
        r#"portfolio_login_failures_total{job="private"}"#,
        1.0,
    );
    let groups = query(port, r#"portfolio_writer_group_size_count{job="private"}"#);
    assert!(
        groups.first().is_some_and(|(_, n)| *n >= 1.0),
        "the write was counted: {groups:?}"
    );
    // The backup taken at start, and the build.
    wait_for_value(
        port,
        r#"portfolio_backups_total{job="private",result="ok"}"#,
        1.0,
    );
    wait_for_value(port, r#"portfolio_backup_last_ok{job="private"}"#, 1.0);
    let build = wait_for_value(port, r#"portfolio_build_info{job="private"}"#, 1.0);
    assert_eq!(build["version"], env!("CARGO_PKG_VERSION"));
    let memory = query(port, r#"process_resident_memory_bytes{job="private"}"#);
    assert!(
        memory.first().is_some_and(|(_, bytes)| *bytes > 1e6),
        "{memory:?}"
    );
    let database = query(port, r#"portfolio_database_bytes{job="token"}"#);
    assert!(
        database.first().is_some_and(|(_, bytes)| *bytes > 0.0),
        "{database:?}"
    );
}
