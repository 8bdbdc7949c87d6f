//! `/metrics` through the app itself: only with the token, and in a text
//! format an independent parser (`prometheus-parse`) reads. (The real
//! Prometheus server scrapes it in tests/metrics.rs.)

use rocket::http::{Header, Status};

use crate::helpers::*;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

async fn scrape(app: &TestApp, token: Option<&str>) -> (Status, String) {
    let mut request = app.client.get("/metrics");
    if let Some(token) = token {
        request = request.header(Header::new("Authorization", format!("Bearer {token}")));
    }
    let response = request.dispatch().await;
    let status = response.status();
    (status, response.into_string().await.unwrap_or_default())
}

#[rocket::async_test]
async fn metrics_are_not_served_without_a_token_or_an_address() {
    let app = spawn_app().await;
    let (status, _) = scrape(&app, None).await;
    assert_eq!(status, Status::NotFound);
}

#[rocket::async_test]
async fn metrics_need_the_token_and_parse_as_prometheus_text() {
    let app = spawn_configured(false, |f| f.merge(("metrics_token", TOKEN))).await;
    for (token, status) in [
        (None, Status::Unauthorized),
        (
            Some("0123456789abcdef0123456789abcdeX"),
            Status::Unauthorized,
        ),
    ] {
        assert_eq!(scrape(&app, token).await.0, status);
    }
    let author = app.create_user("counted").await;
    let id = app.create_post(&author, "Counted", true).await;
    assert_eq!(
        app.get(&format!("/api/posts/{id}"), None).await.status,
        Status::Ok
    );
    let (status, text) = scrape(&app, Some(TOKEN)).await;
    assert_eq!(status, Status::Ok);

    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("valid text format");
    let requests: Vec<_> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "portfolio_http_requests_total")
        .collect();
    // Metrics are per process, which the tests share: ask for at least.
    let read = requests
        .iter()
        .find(|s| {
            s.labels.get("route") == Some("/api/posts/<id>")
                && s.labels.get("method") == Some("GET")
                && s.labels.get("status") == Some("2xx")
        })
        .expect("the read was counted under its route's template");
    assert!(matches!(read.value, prometheus_parse::Value::Counter(n) if n >= 1.0));
    assert!(
        requests.iter().all(|s| {
            let route = s.labels.get("route").unwrap_or("");
            !route.chars().any(|c| c.is_ascii_digit()) || route == "(unmatched)"
        }),
        "no raw path is a label"
    );
    for gauge in [
        "portfolio_writer_queue",
        "portfolio_read_pool_connections",
        "portfolio_uptime_seconds",
        "process_resident_memory_bytes",
        "portfolio_build_info",
    ] {
        assert!(
            scrape.samples.iter().any(|s| s.metric == gauge),
            "{gauge} is missing"
        );
    }
    assert!(
        scrape.docs.contains_key("portfolio_http_requests_total"),
        "metrics are described"
    );
}

#[rocket::async_test]
async fn a_short_metrics_token_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::new(dir.path());
    let figment = test_figment(&db, false).merge(("metrics_token", "short"));
    match rocket::local::asynchronous::Client::untracked(portfolio::build(figment)).await {
        Ok(_) => panic!("a short token was accepted"),
        Err(error) => assert!(matches!(
            error.kind(),
            rocket::error::ErrorKind::FailedFairings(_)
        )),
    }
}
