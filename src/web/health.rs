//! `GET /health`: is this instance able to serve? For load balancers,
//! Docker's HEALTHCHECK (through `portfolio healthcheck`) and people.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, routes, Route};
use serde_json::{json, Value};

use crate::db::{self, Db};
use crate::domain::error::AppError;

pub fn routes() -> Vec<Route> {
    routes![health]
}

/// 200 `{"status": "ok", "database": "ok", "migrations": "current", "version"}`
/// when the database answers and its schema is this build's; 503 otherwise,
/// with what is wrong.
#[get("/health")]
async fn health(db: Db<'_>) -> (Status, Json<Value>) {
    let report = db
        .read(|conn| {
            db::integrity_ping(conn)?;
            db::migration_status(conn).map_err(AppError::internal)
        })
        .await;
    let version = env!("CARGO_PKG_VERSION");
    match report {
        Ok(status) if status.is_current() => (
            Status::Ok,
            Json(
                json!({"status": "ok", "database": "ok", "migrations": "current", "version": version}),
            ),
        ),
        Ok(status) => (
            Status::ServiceUnavailable,
            Json(json!({
                "status": "unavailable", "database": "ok", "migrations": "out of date",
                "pending": status.pending, "unknown": status.unknown, "version": version,
            })),
        ),
        Err(error) => {
            log::error!("health check: the database cannot be read: {error}");
            (
                Status::ServiceUnavailable,
                Json(
                    json!({"status": "unavailable", "database": "unreachable", "version": version}),
                ),
            )
        }
    }
}
