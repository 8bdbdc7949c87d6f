//! For search engines: `GET /sitemap.xml` (a sitemap index), its chunks
//! `GET /sitemaps/<kind>-<n>.xml` (published posts, profiles of accounts
//! not suspended, tags on published posts), and `GET /robots.txt`.
//!
//! The sitemap protocol allows 50,000 URLs a file, so the index lists chunk
//! files; chunk `n` of a kind holds the pages whose ids are in
//! `[n·size, (n+1)·size)` (`sitemap_chunk` ids, 10,000 by default), read by
//! primary key. Each file costs only its own rows, at any size of site
//! (see [`crate::domain::syndication`]).

use chrono::NaiveDateTime;
use quick_xml::escape::escape;
use rocket::http::{ContentType, RawStr};
use rocket::{get, routes, Route, State};

use crate::config::Settings;
use crate::db::Db;
use crate::domain::error::{AppError, AppResult};
use crate::domain::syndication::{self, SitemapKind, SitemapPage};
use crate::domain::Post;
use crate::web::fresh::Fresh;
use crate::web::site::Site;

pub fn routes() -> Vec<Route> {
    routes![index, chunk, robots]
}

const XMLNS: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";

/// The chunk size in force: the setting, within the protocol's limit.
fn chunk_size(settings: &Settings) -> u32 {
    settings
        .sitemap_chunk
        .clamp(1, syndication::SITEMAP_MAX_URLS)
}

/// `GET /sitemap.xml`: a sitemap index of every chunk file.
#[get("/sitemap.xml")]
async fn index(db: Db<'_>, site: &State<Site>, settings: &State<Settings>) -> AppResult<Fresh> {
    let size = chunk_size(settings);
    let counts = db
        .read(move |conn| {
            SitemapKind::ALL
                .into_iter()
                .map(|kind| Ok((kind, syndication::chunk_count(conn, kind, size)?)))
                .collect::<AppResult<Vec<(SitemapKind, u32)>>>()
        })
        .await?;
    let mut xml =
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"{XMLNS}\">\n");
    for (kind, count) in counts {
        for n in 0..count {
            let loc = site.url(&format!("/sitemaps/{}-{n}.xml", kind.name()));
            xml.push_str(&format!("<sitemap><loc>{}</loc></sitemap>\n", escape(&loc)));
        }
    }
    xml.push_str("</sitemapindex>\n");
    Ok(Fresh::new(xml.into_bytes(), ContentType::XML, None))
}

/// `GET /sitemaps/<kind>-<n>.xml`: one chunk; 404 for a name that is not
/// one the index lists.
#[get("/sitemaps/<file>")]
async fn chunk(
    db: Db<'_>,
    site: &State<Site>,
    settings: &State<Settings>,
    file: &str,
) -> AppResult<Fresh> {
    let (kind, n) = parse_file(file).ok_or(AppError::NotFound)?;
    let size = chunk_size(settings);
    let ids = syndication::chunk_ids(n, size).ok_or(AppError::NotFound)?;
    // Up to `size` rows: off the async workers.
    let pages = db
        .read_slow(move |conn| {
            if n >= syndication::chunk_count(conn, kind, size)? {
                return Err(AppError::NotFound);
            }
            syndication::chunk(conn, kind, ids)
        })
        .await?;
    // Thousands of slugs and escapes: off the async workers too.
    let site = Site::clone(site);
    let (xml, newest) = rocket::tokio::task::spawn_blocking(move || urlset(&site, &pages))
        .await
        .map_err(|e| AppError::Internal(Box::new(e)))?;
    Ok(Fresh::new(xml.into_bytes(), ContentType::XML, newest))
}

/// A chunk's `<urlset>`, and its newest `lastmod`.
fn urlset(site: &Site, pages: &[SitemapPage]) -> (String, Option<NaiveDateTime>) {
    let mut xml =
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"{XMLNS}\">\n");
    let mut newest: Option<NaiveDateTime> = None;
    for page in pages {
        let (path, updated) = match page {
            SitemapPage::Post {
                id,
                title,
                updated_at,
            } => (Post::path_of(*id, title), Some(*updated_at)),
            SitemapPage::Profile { id, updated_at } => (format!("/users/{id}"), Some(*updated_at)),
            SitemapPage::Tag { name } => (
                format!("/tags/{}", RawStr::new(name).percent_encode()),
                None,
            ),
        };
        xml.push_str("<url><loc>");
        xml.push_str(&escape(site.url(&path)));
        xml.push_str("</loc>");
        if let Some(updated) = updated {
            xml.push_str("<lastmod>");
            push_w3c_datetime(&mut xml, updated);
            xml.push_str("</lastmod>");
            newest = newest.max(Some(updated));
        }
        xml.push_str("</url>\n");
    }
    xml.push_str("</urlset>\n");
    (xml, newest)
}

/// `time` as a W3C Datetime (`2026-12-04T09:30:00Z`), as the protocol
/// asks; stored times are UTC. Written out by hand: chrono's `format`
/// parses its pattern again on every call, and a chunk has thousands.
fn push_w3c_datetime(xml: &mut String, time: NaiveDateTime) {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write;
    // Writing to a String cannot fail.
    let _ = write!(
        xml,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        time.year(),
        time.month(),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    );
}

/// `posts-3.xml` → (posts, 3).
fn parse_file(file: &str) -> Option<(SitemapKind, u32)> {
    let (kind, n) = file.strip_suffix(".xml")?.rsplit_once('-')?;
    // Digits only: `+3` or `03` would name the same chunk twice.
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) || (n.len() > 1 && n.starts_with('0'))
    {
        return None;
    }
    Some((SitemapKind::parse(kind)?, n.parse().ok()?))
}

/// Paths crawlers have no business in: the admin pages, the API, forms to
/// log in, sign up or reset a password, token pages, search results (an
/// endless space of queries). Edit and delete forms need a login and send
/// crawlers to `/login`, which is listed.
const DISALLOWED: &[&str] = &[
    "/admin",
    "/api/",
    "/login",
    "/signup",
    "/password/",
    "/email/",
    "/tokens",
    "/posts/new",
    "/search",
];

/// `GET /robots.txt`: everything but [`DISALLOWED`], and where the sitemap is.
#[get("/robots.txt")]
fn robots(site: &State<Site>) -> (ContentType, String) {
    let mut text = String::from("User-agent: *\n");
    for path in DISALLOWED {
        text.push_str(&format!("Disallow: {path}\n"));
    }
    text.push_str(&format!("\nSitemap: {}\n", site.url("/sitemap.xml")));
    (ContentType::Plain, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lastmod_is_a_w3c_datetime() {
        let time = chrono::NaiveDate::from_ymd_opt(2026, 12, 4)
            .unwrap()
            .and_hms_micro_opt(9, 5, 7, 123_456)
            .unwrap();
        let mut xml = String::new();
        push_w3c_datetime(&mut xml, time);
        assert_eq!(xml, "2026-12-04T09:05:07Z");
    }

    #[test]
    fn chunk_file_names_are_read_one_way_only() {
        assert_eq!(parse_file("posts-0.xml"), Some((SitemapKind::Posts, 0)));
        assert_eq!(parse_file("users-12.xml"), Some((SitemapKind::Users, 12)));
        assert_eq!(parse_file("tags-3.xml"), Some((SitemapKind::Tags, 3)));
        for bad in [
            "posts-03.xml",
            "posts-+3.xml",
            "posts-.xml",
            "posts-1",
            "drafts-1.xml",
            "posts-99999999999.xml",
        ] {
            assert_eq!(parse_file(bad), None, "{bad}");
        }
    }
}
