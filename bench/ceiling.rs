//! The framework's ceiling: Rocket alone, answering the two hot routes'
//! shapes (`GET /api/posts/<id>`, `GET /posts/<address>`) with a body fixed
//! at start-up, and no database, template, fairing or guard. Built with the
//! app's own release profile and Rocket version (it is an example of this
//! package: `cargo build --release --example ceiling`), and run by
//! `bench/ceiling.sh` beside the app in the same run, so each route's share
//! of the ceiling is the app's own overhead and nothing else.
//!
//! The bodies are the app's real answers, saved by the benchmark script to
//! the files `CEILING_JSON` and `CEILING_HTML`, so both send the same bytes.

use rocket::response::content::{RawHtml, RawJson};
use rocket::{get, routes, State};

struct Bodies {
    json: String,
    html: String,
}

#[get("/api/posts/<id>")]
fn api_post(id: i32, bodies: &State<Bodies>) -> RawJson<&str> {
    let _ = id;
    RawJson(&bodies.json)
}

#[get("/posts/<address>")]
fn post_page<'r>(address: &str, bodies: &'r State<Bodies>) -> RawHtml<&'r str> {
    let _ = address;
    RawHtml(&bodies.html)
}

fn read(variable: &str) -> String {
    let path = std::env::var(variable).unwrap_or_else(|_| panic!("set {variable} to a file"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[rocket::launch]
fn rocket() -> _ {
    rocket::build()
        .manage(Bodies {
            json: read("CEILING_JSON"),
            html: read("CEILING_HTML"),
        })
        .mount("/", routes![api_post, post_page])
}
