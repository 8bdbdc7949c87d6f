//! Prometheus metrics at `GET /metrics`, in the text format, with the
//! `metrics` facade (the layers below record through it, like they log
//! through `log`) and `metrics-exporter-prometheus` to render.
//!
//! Off the public internet by default: nothing is served unless
//! `metrics_token` is set (then `/metrics` on the site itself answers only
//! `Authorization: Bearer <token>`) or `metrics_address` is (then a second,
//! tiny Rocket serves `/metrics` there, without a token, for a Prometheus on
//! the same machine or network). Requests are counted by route template
//! (`/api/posts/<id>`, never the raw path: a label per post id would grow
//! without bound) and status class.
//!
//! Recorded where it happens: request counts and latencies here (from the
//! request log's timing); the writer's group sizes, commit times and waits
//! in `db::writer`; login failures in `domain::throttle`; the password-hash
//! queue in `domain::password`; view batches in `domain::post_views`.
//! Sampled when scraped: the writer's queue, the readers' pool, the
//! database and WAL files, the last backup, memory and uptime.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use rocket::fairing::AdHoc;
use rocket::http::{Header, Status};
use rocket::request::{FromRequest, Outcome};
use rocket::response::Responder;
use rocket::{get, routes, Orbit, Request, Rocket, Route, State};

use crate::config::{self, MetricsToken, Settings};
use crate::db;
use crate::domain::backups::BackupStatus;

const LATENCY_BUCKETS: [f64; 13] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
const SIZE_BUCKETS: [f64; 10] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1024.0];

/// The process's recorder, installed by the first app built in it (tests
/// build many; they share it, as they share the process).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&LATENCY_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Suffix("_size".into()),
                    &SIZE_BUCKETS,
                )
            })
            .and_then(|b| {
                b.set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Suffix("_posts".into()),
                    &SIZE_BUCKETS,
                )
            })
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            log::warn!("metrics: another recorder was installed first");
        }
        describe();
        metrics::gauge!("portfolio_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        handle
    })
}

/// Each metric's `# HELP` line.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "portfolio_http_requests_total",
        "Requests answered, by method, route template and status class"
    );
    describe_counter!(
        "portfolio_http_refused_total",
        "Requests refused with 429 (throttled) or 503 (busy), by route template"
    );
    describe_counter!(
        "portfolio_read_cache_total",
        "Reads served from a read cache (hit) or from the database (miss), by cache"
    );
    describe_histogram!(
        "portfolio_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer a request, by method and route template"
    );
    describe_histogram!(
        "portfolio_writer_group_size",
        "Writes committed together in one transaction by the writer"
    );
    describe_histogram!(
        "portfolio_writer_commit_seconds",
        Unit::Seconds,
        "Time the writer took to run and commit one group"
    );
    describe_histogram!(
        "portfolio_writer_wait_seconds",
        Unit::Seconds,
        "Time a write waited from joining the queue to its commit"
    );
    describe_gauge!(
        "portfolio_writer_queue",
        "Writes waiting in the writer's queue"
    );
    describe_gauge!(
        "portfolio_read_pool_connections",
        "Connections open in the readers' pool"
    );
    describe_gauge!(
        "portfolio_read_pool_idle",
        "Idle connections in the readers' pool"
    );
    describe_gauge!("portfolio_read_pool_in_use", "Readers' connections in use");
    describe_counter!(
        "portfolio_login_failures_total",
        "Failed logins (wrong password or code)"
    );
    describe_gauge!(
        "portfolio_password_hash_queue",
        "Password hashes waiting or being computed"
    );
    describe_histogram!(
        "portfolio_view_batch_posts",
        "Posts whose views one batch wrote"
    );
    describe_gauge!(
        "portfolio_database_bytes",
        Unit::Bytes,
        "Size of the SQLite database file"
    );
    describe_gauge!(
        "portfolio_wal_bytes",
        Unit::Bytes,
        "Size of the SQLite write-ahead log"
    );
    describe_gauge!(
        "portfolio_backups_scheduled",
        "1 when scheduled backups are on"
    );
    describe_counter!(
        "portfolio_backups_total",
        "Scheduled backups since start, by result"
    );
    describe_gauge!(
        "portfolio_backup_last_ok",
        "1 when the last scheduled backup worked, 0 when it failed"
    );
    describe_gauge!(
        "portfolio_backup_last_success_timestamp_seconds",
        Unit::Seconds,
        "When the newest sound backup was taken (Unix time)"
    );
    describe_gauge!(
        "portfolio_backup_age_seconds",
        Unit::Seconds,
        "Age of the newest sound backup"
    );
    describe_gauge!(
        "portfolio_backup_last_bytes",
        Unit::Bytes,
        "Size of the newest sound backup"
    );
    describe_gauge!(
        "process_resident_memory_bytes",
        Unit::Bytes,
        "Resident memory of the process"
    );
    describe_gauge!(
        "portfolio_uptime_seconds",
        Unit::Seconds,
        "Time since the server started"
    );
    describe_gauge!(
        "portfolio_build_info",
        "1, labelled with the running version"
    );
}

/// A route's counter and latency histogram for one method and status
/// class.
struct RouteHandles {
    method: &'static str,
    class: &'static str,
    requests: metrics::Counter,
    latency: metrics::Histogram,
}

thread_local! {
    /// The handles each worker thread has used, by route template: looked
    /// up by `&str`, so a request allocates nothing and hashes one short
    /// string (building the labelled keys anew cost two allocations and a
    /// registry lookup a request). Bounded by routes × methods × classes.
    static HANDLES: std::cell::RefCell<std::collections::HashMap<String, Vec<RouteHandles>>> =
        std::cell::RefCell::default();
}

/// Counts a request and its duration, under its route's template.
pub fn record_request(request: &Request<'_>, status: Status, elapsed: Duration) {
    let route = request.route().map_or("(unmatched)", |r| r.uri.path());
    let method = request.method().as_str();
    let class = match status.code {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    if matches!(status.code, 429 | 503) {
        metrics::counter!(
            "portfolio_http_refused_total",
            "route" => route.to_owned(),
            "status" => if status.code == 429 { "429" } else { "503" }
        )
        .increment(1);
    }
    HANDLES.with_borrow_mut(|handles| {
        if !handles.contains_key(route) {
            handles.insert(route.to_owned(), Vec::new());
        }
        let Some(known) = handles.get_mut(route) else {
            return;
        };
        let index = match known
            .iter()
            .position(|h| h.method == method && h.class == class)
        {
            Some(index) => index,
            None => {
                known.push(RouteHandles {
                    method,
                    class,
                    requests: metrics::counter!(
                        "portfolio_http_requests_total",
                        "method" => method,
                        "route" => route.to_owned(),
                        "status" => class
                    ),
                    latency: metrics::histogram!(
                        "portfolio_http_request_duration_seconds",
                        "method" => method,
                        "route" => route.to_owned()
                    ),
                });
                known.len() - 1
            }
        };
        let handles = &known[index];
        handles.requests.increment(1);
        handles.latency.record(elapsed.as_secs_f64());
    });
}

/// What is sampled at each scrape; filled in at lift-off, when the writer
/// and the readers exist.
#[derive(Clone, Default)]
pub struct Sources(Arc<OnceLock<Sampled>>);

struct Sampled {
    writer: db::Writer,
    readers: Option<diesel::r2d2::Pool<db::ConnectionManager>>,
    database: Option<PathBuf>,
    backups: BackupStatus,
    started: Instant,
}

impl Sources {
    fn sample(&self) {
        let Some(s) = self.0.get() else {
            return;
        };
        metrics::gauge!("portfolio_writer_queue").set(s.writer.queued() as f64);
        if let Some(pool) = &s.readers {
            let state = pool.state();
            metrics::gauge!("portfolio_read_pool_connections").set(f64::from(state.connections));
            metrics::gauge!("portfolio_read_pool_idle").set(f64::from(state.idle_connections));
            metrics::gauge!("portfolio_read_pool_in_use")
                .set(f64::from(state.connections - state.idle_connections));
        }
        if let Some(database) = &s.database {
            let size = |suffix: &str| {
                let mut name = database.as_os_str().to_owned();
                name.push(suffix);
                std::fs::metadata(PathBuf::from(name)).map_or(0, |m| m.len())
            };
            metrics::gauge!("portfolio_database_bytes").set(size("") as f64);
            metrics::gauge!("portfolio_wal_bytes").set(size("-wal") as f64);
        }
        let backups = s.backups.record();
        metrics::gauge!("portfolio_backups_scheduled").set(f64::from(u8::from(backups.scheduled)));
        metrics::counter!("portfolio_backups_total", "result" => "ok").absolute(backups.successes);
        metrics::counter!("portfolio_backups_total", "result" => "failed")
            .absolute(backups.failures);
        if let Some((_, ok)) = backups.last_attempt {
            metrics::gauge!("portfolio_backup_last_ok").set(f64::from(u8::from(ok)));
        }
        if let Some(last) = &backups.last_success {
            metrics::gauge!("portfolio_backup_last_success_timestamp_seconds")
                .set(last.taken_at.timestamp() as f64);
            let age = (chrono::Utc::now() - last.taken_at).num_seconds().max(0);
            metrics::gauge!("portfolio_backup_age_seconds").set(age as f64);
            metrics::gauge!("portfolio_backup_last_bytes").set(last.bytes as f64);
        }
        if let Some(rss) = resident_bytes() {
            metrics::gauge!("process_resident_memory_bytes").set(rss as f64);
        }
        metrics::gauge!("portfolio_uptime_seconds").set(s.started.elapsed().as_secs_f64());
    }
}

/// The process's resident memory, from `/proc/self/statm` (Linux).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf only reads a constant of the system.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}

/// The metrics, rendered.
#[derive(Responder)]
#[response(content_type = "text/plain; version=0.0.4; charset=utf-8")]
pub struct Exposition(String);

fn render(sources: &Sources) -> Exposition {
    sources.sample();
    Exposition(handle().render())
}

/// A request bearing the metrics token (`Authorization: Bearer …`).
pub struct Scraper;

/// 401 with `WWW-Authenticate`, for a scrape without the right token.
#[derive(Responder)]
#[response(status = 401, content_type = "plain")]
pub struct Unauthorized(&'static str, Header<'static>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Scraper {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, ()> {
        let token = request
            .rocket()
            .state::<Option<MetricsToken>>()
            .and_then(Option::as_ref);
        let presented = request
            .headers()
            .get_one("Authorization")
            .and_then(|h| h.strip_prefix("Bearer "));
        match (token, presented) {
            (Some(token), Some(presented)) if token.matches(presented.trim()) => {
                Outcome::Success(Scraper)
            }
            _ => Outcome::Forward(Status::Unauthorized),
        }
    }
}

/// `GET /metrics` on the site: with the token.
#[get("/metrics")]
fn scrape(_scraper: Scraper, sources: &State<Sources>) -> Exposition {
    render(sources)
}

/// `GET /metrics` on the site without the token.
#[get("/metrics", rank = 2)]
fn refuse() -> Unauthorized {
    Unauthorized(
        "a metrics token is needed: Authorization: Bearer <metrics_token>\n",
        Header::new("WWW-Authenticate", "Bearer"),
    )
}

/// `GET /metrics` on `metrics_address`: no token (the address is private).
#[get("/metrics")]
fn scrape_private(sources: &State<Sources>) -> Exposition {
    render(sources)
}

/// The routes to mount on the site: `/metrics` when a token is set.
pub fn routes(settings: &Settings) -> Vec<Route> {
    if settings.metrics_token.is_some() {
        routes![scrape, refuse]
    } else {
        Vec::new()
    }
}

/// Installs the recorder, checks the settings at ignite, and at lift-off
/// fills in what scrapes sample and starts `metrics_address`'s server.
pub fn fairing() -> impl rocket::fairing::Fairing {
    AdHoc::on_ignite("Metrics", |rocket| async move {
        handle();
        let settings = Settings::from_figment(rocket.figment()).unwrap_or_default();
        rocket
            .manage(Sources::default())
            .manage(settings.metrics_token.clone())
            .attach(AdHoc::try_on_ignite("Metrics settings", check_settings))
            .attach(AdHoc::on_liftoff("Metrics sources", |rocket| {
                Box::pin(start(rocket))
            }))
    })
}

/// A token too short to resist guessing, or an address that cannot be
/// bound, stops the start with one line.
async fn check_settings(rocket: Rocket<rocket::Build>) -> rocket::fairing::Result {
    let Ok(settings) = Settings::from_figment(rocket.figment()) else {
        return Ok(rocket);
    };
    if settings
        .metrics_token
        .as_ref()
        .is_some_and(|t| !t.is_usable())
    {
        log::error!(
            "metrics_token must be at least 16 characters (make one with `openssl rand -hex 32`)"
        );
        return Err(rocket);
    }
    if let Some(address) = settings.metrics_address {
        if let Err(error) = std::net::TcpListener::bind(address) {
            log::error!("cannot serve metrics on metrics_address {address}: {error}");
            return Err(rocket);
        }
    }
    Ok(rocket)
}

async fn start(rocket: &Rocket<Orbit>) {
    let (Some(sources), Some(writer), Some(backups)) = (
        rocket.state::<Sources>(),
        rocket.state::<db::Writer>().cloned(),
        rocket.state::<BackupStatus>().cloned(),
    ) else {
        return;
    };
    let database = config::database_url(rocket.figment())
        .ok()
        .and_then(|url| db::file_of(&url));
    let _ = sources.0.set(Sampled {
        writer,
        readers: db::Db::readers(rocket),
        database,
        backups,
        started: Instant::now(),
    });
    // Histograms are kept as buckets; upkeep folds in what was recorded.
    rocket::tokio::spawn({
        let stop = rocket.shutdown();
        async move {
            let mut stop = std::pin::pin!(stop);
            loop {
                rocket::tokio::select! {
                    _ = &mut stop => break,
                    _ = rocket::tokio::time::sleep(Duration::from_secs(5)) => handle().run_upkeep(),
                }
            }
        }
    });
    let Ok(settings) = Settings::from_figment(rocket.figment()) else {
        return;
    };
    let Some(address) = settings.metrics_address else {
        return;
    };
    let side = rocket::custom(
        rocket
            .figment()
            .clone()
            .merge(("address", address.ip()))
            .merge(("port", address.port())),
    )
    .manage(sources.clone())
    .mount("/", routes![scrape_private])
    .register("/", rocket::catchers![not_here]);
    let side = match side.ignite().await {
        Ok(side) => side,
        Err(error) => {
            log::error!("cannot serve metrics on {address}: {error}");
            return;
        }
    };
    let stop_side = side.shutdown();
    rocket::tokio::spawn(async move {
        if let Err(error) = side.launch().await {
            log::error!("the metrics server on {address} stopped: {error}");
        }
    });
    let stop = rocket.shutdown();
    rocket::tokio::spawn(async move {
        stop.await;
        stop_side.notify();
    });
}

/// Anything but `GET /metrics` on the metrics address.
#[rocket::catch(default)]
fn not_here(status: Status, _: &Request<'_>) -> (Status, &'static str) {
    (status, "only GET /metrics is served here\n")
}
