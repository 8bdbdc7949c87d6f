//! The web layer: Rocket's request guards, responders, the JSON API and
//! the HTML pages, and the mapping of domain errors to statuses, JSON
//! bodies and error pages. Handlers here are thin adapters from requests to
//! the domain's functions and use cases.

pub mod api;
pub mod assets;
pub mod charts;
pub mod csrf;
pub mod error;
pub mod feeds;
pub mod fresh;
pub mod guard;
pub mod health;
pub mod mail;
pub mod metrics;
pub mod pages;
pub mod paging;
pub mod qr;
pub mod request_log;
pub mod security;
pub mod session_cookie;
pub mod site;
pub mod sitemap;
pub mod templates;
pub mod trending;
pub mod uploads;
