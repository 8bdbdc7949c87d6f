//! Integration tests of the app through Rocket's local client: one binary,
//! one module per feature, each test on its own temp database.

mod browser;
mod comments;
mod helpers;
mod hostile;
mod images;
#[path = "../support/smtp.rs"]
mod smtp;
#[path = "../support/database.rs"]
mod test_database;

mod architecture;
mod assets;
mod authorization;
mod backups;
mod bench_routes;
mod contract;
mod counts;
mod csrf;
mod cursors;
mod dashboard;
mod database;
mod errors;
mod feeds;
mod mail;
mod metrics;
mod openapi;
mod pages;
mod posts;
mod publishing;
mod read_cache;
mod registration;
mod search;
mod sessions;
mod suspension;
mod tokens;
mod trending;
mod two_factor;
mod users;
