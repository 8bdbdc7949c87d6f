//! HTTP handlers: thin adapters from requests to the model layer.

pub mod api;
pub mod health;
pub mod pages;
pub mod paging;
pub mod trending;
pub mod uploads;
