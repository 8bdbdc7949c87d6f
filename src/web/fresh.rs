//! Answers that feed readers and crawlers fetch again and again (feeds,
//! sitemaps): with an `ETag` and a `Last-Modified`, and `304 Not Modified`
//! without a body when the client's copy is still current.
//!
//! The `ETag` is a hash of the body itself, so it changes with anything the
//! body shows (an edit, a new post, a post that went away, an author's new
//! name) and with nothing else. `Last-Modified` is the newest entry's
//! `updated_at`; a post that leaves a list (deleted, suspended) does not
//! move it, which is why `If-None-Match`, when sent, decides alone (RFC 9110
//! §13.2.2) and readers that send both get the exact answer.

use chrono::{DateTime, NaiveDateTime, Utc};
use rocket::http::{ContentType, Header, Status};
use rocket::response::{self, Responder, Response};
use rocket::Request;
use sha2::{Digest, Sha256};

/// A body with its validators.
pub struct Fresh {
    body: Vec<u8>,
    content_type: ContentType,
    etag: String,
    last_modified: Option<DateTime<Utc>>,
}

/// How long a cache may serve its copy without asking again: feeds and
/// sitemaps may lag a few minutes.
const CACHE_CONTROL: &str = "public, max-age=300";

impl Fresh {
    /// `body`, last changed at `last_modified` (when known).
    pub fn new(
        body: Vec<u8>,
        content_type: ContentType,
        last_modified: Option<NaiveDateTime>,
    ) -> Fresh {
        let digest = Sha256::digest(&body);
        Fresh {
            etag: format!("\"{}\"", hex::encode(&digest[..16])),
            body,
            content_type,
            // HTTP dates have whole seconds: compared as the client saw it.
            last_modified: last_modified
                .map(|time| time.and_utc())
                .and_then(|time| DateTime::from_timestamp(time.timestamp(), 0)),
        }
    }

    pub fn etag(&self) -> &str {
        &self.etag
    }

    /// Whether the client's copy is current: its `If-None-Match` names our
    /// `ETag` (or `*`); without that header, its `If-Modified-Since` is not
    /// older than our `Last-Modified`.
    fn not_modified(&self, request: &Request<'_>) -> bool {
        let headers = request.headers();
        let mut if_none_match = headers.get("If-None-Match").peekable();
        if if_none_match.peek().is_some() {
            // Weak comparison (RFC 9110 §8.8.3.2): `W/"x"` matches `"x"`.
            return if_none_match
                .flat_map(|value| value.split(','))
                .map(|tag| tag.trim().trim_start_matches("W/"))
                .any(|tag| tag == "*" || tag == self.etag);
        }
        match (headers.get_one("If-Modified-Since"), self.last_modified) {
            (Some(since), Some(modified)) => DateTime::parse_from_rfc2822(since)
                .is_ok_and(|since| modified <= since.with_timezone(&Utc)),
            _ => false,
        }
    }
}

impl<'r> Responder<'r, 'static> for Fresh {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let mut response = Response::build();
        response
            .header(Header::new("ETag", self.etag.clone()))
            .header(Header::new("Cache-Control", CACHE_CONTROL));
        if let Some(modified) = self.last_modified {
            // IMF-fixdate, the form HTTP requires.
            let date = modified.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
            response.header(Header::new("Last-Modified", date));
        }
        if self.not_modified(request) {
            return response.status(Status::NotModified).ok();
        }
        response
            .header(self.content_type)
            .sized_body(self.body.len(), std::io::Cursor::new(self.body))
            .ok()
    }
}
