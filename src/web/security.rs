//! Security headers on every response, on top of Rocket's Shield
//! (`X-Content-Type-Options`, `X-Frame-Options`, `Permissions-Policy`).

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::{Request, Response};

/// Only our own scripts, styles and fonts; no inline script at all, so an
/// injected `<script>` would not run even if it got past the escaping.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; \
     form-action 'self'; frame-ancestors 'none'";

pub struct SecurityHeaders;

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info {
            name: "Security headers",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, request: &'r Request<'_>, response: &mut Response<'r>) {
        response.set_header(Header::new(
            "Content-Security-Policy",
            CONTENT_SECURITY_POLICY,
        ));
        response.set_header(Header::new("Referrer-Policy", "same-origin"));
        // A new API token's secret is in this answer: no cache may keep it.
        let path = request.uri().path();
        if path == "/tokens" || path == "/api/tokens" {
            response.set_header(Header::new("Cache-Control", "no-store"));
        }
    }
}
