//! The scaling benchmark (`bench/scaling.sh`) covers every GET route: its
//! list, `bench/routes.txt`, names exactly the GET routes Rocket mounts, so
//! a new route cannot be left out of the benchmark unnoticed.

use std::collections::BTreeSet;

use crate::helpers::spawn_app;

#[rocket::async_test]
async fn the_benchmark_lists_every_get_route_the_app_mounts() {
    let app = spawn_app().await;
    let mounted: BTreeSet<String> = app
        .client
        .rocket()
        .routes()
        .filter(|route| route.method == rocket::http::Method::Get)
        // The API's contract gate (405s, repeated query parameters) is in
        // front of every API route and serves no page of its own.
        .filter(|route| route.name.as_deref() != Some(portfolio::web::api::CONTRACT_GATE_ROUTE))
        .map(|route| format!("GET {}", route.uri))
        .collect();
    let listed_file = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/routes.txt");
    let listed: BTreeSet<String> = std::fs::read_to_string(listed_file)
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect();
    let missing: Vec<&String> = mounted.difference(&listed).collect();
    let stale: Vec<&String> = listed.difference(&mounted).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "bench/routes.txt is out of step: not listed {missing:?}; no longer mounted {stale:?}"
    );
}
