//! Integration tests of the JSON API: one binary, one module per feature.

mod helpers;

mod authorization;
mod database;
mod errors;
mod posts;
mod sessions;
mod users;
