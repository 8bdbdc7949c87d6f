//! One log line per request: method, path, status, duration and a request
//! id, which also goes back in the `X-Request-Id` header and into any error
//! logged while serving it. Only the path is logged: no query string, body,
//! cookie or header, so no password, token or secret can reach the log.

use std::time::Instant;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::{Data, Request, Response};

pub struct RequestLog;

struct Started {
    id: String,
    at: Instant,
}

fn started<'r>(request: &'r Request<'_>) -> &'r Started {
    request.local_cache(|| Started {
        id: crate::domain::secret::random_hex(6),
        at: Instant::now(),
    })
}

/// This request's id, for log lines about it.
pub fn request_id<'r>(request: &'r Request<'_>) -> &'r str {
    &started(request).id
}

#[rocket::async_trait]
impl Fairing for RequestLog {
    fn info(&self) -> Info {
        Info {
            name: "Request log",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, request: &mut Request<'_>, _: &mut Data<'_>) {
        started(request);
    }

    async fn on_response<'r>(&self, request: &'r Request<'_>, response: &mut Response<'r>) {
        let started = started(request);
        let elapsed = started.at.elapsed();
        crate::web::metrics::record_request(request, response.status(), elapsed);
        let millis = elapsed.as_secs_f64() * 1000.0;
        log::info!(
            target: "portfolio::request",
            "{} {} {} {:.1}ms rid={}",
            request.method(),
            request.uri().path(),
            response.status().code,
            millis,
            started.id
        );
        response.set_header(Header::new("X-Request-Id", started.id.clone()));
    }
}
