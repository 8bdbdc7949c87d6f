//! The site's absolute address, for links that are read away from the site:
//! feeds, link previews, the sitemap and robots.txt.
//!
//! It comes from `public_url`, never from a request's `Host` header (a client
//! chooses that, and a feed or preview cached by a proxy would then carry
//! whatever host the first client sent). Without `public_url` the links point
//! at `http://localhost:<port>`: right for someone trying the app on their
//! own machine, wrong behind a proxy, and [`warn_without_public_url`] says so
//! once at start-up.

use rocket::{Orbit, Rocket};

use crate::config::Settings;
use crate::domain::images::Uploads;

/// Managed by Rocket: where absolute links point, and where post images are
/// (previews give an image's size).
#[derive(Debug, Clone)]
pub struct Site {
    /// `https://example.org`, without a trailing `/`.
    base: String,
    uploads: Uploads,
}

/// An image as a link preview shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SiteImage {
    pub url: String,
    pub width: usize,
    pub height: usize,
}

impl Site {
    pub fn new(settings: &Settings, port: u16) -> Site {
        let base = match settings.public_url.as_deref() {
            Some(url) if !url.trim().is_empty() => url.trim().trim_end_matches('/').to_owned(),
            _ => format!("http://localhost:{port}"),
        };
        Site {
            base,
            uploads: settings.uploads(),
        }
    }

    /// `path` (starting with `/`) as an absolute URL.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The stored image `name` with its size, read from the file's header
    /// (a few hundred bytes, not the whole file); `None` when it cannot be
    /// read, so a preview then goes without the image rather than fail.
    pub fn image(&self, name: &str) -> Option<SiteImage> {
        let (path, _) = self.uploads.path_of(name)?;
        let size = imagesize::size(path).ok()?;
        Some(SiteImage {
            url: self.url(&format!("/uploads/{name}")),
            width: size.width,
            height: size.height,
        })
    }
}

/// Says once, at lift-off, when absolute links cannot be right behind a
/// proxy (see [`public_url_warning`]).
pub async fn warn_without_public_url(rocket: &Rocket<Orbit>) {
    if let Some(settings) = rocket.state::<Settings>() {
        if let Some(warning) = public_url_warning(settings, rocket.config().port) {
            log::warn!("{warning}");
        }
    }
}

/// What to tell the operator when `public_url` is unset or not an http(s)
/// URL; nothing when it is one.
pub fn public_url_warning(settings: &Settings, port: u16) -> Option<String> {
    match settings.public_url.as_deref().map(str::trim) {
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => None,
        Some(url) if !url.is_empty() => Some(format!(
            "public_url {url:?} is not an http(s) URL: feeds, link previews, the sitemap \
             and robots.txt will carry broken links. Set it to the address people use, \
             such as https://example.org"
        )),
        _ => Some(format!(
            "public_url is not set: feeds, link previews, the sitemap and robots.txt link \
             to http://localhost:{port}. Behind a proxy or on a real domain, set public_url \
             (ROCKET_PUBLIC_URL) to the address people use, such as https://example.org"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(public_url: Option<&str>) -> Site {
        let settings = Settings {
            public_url: public_url.map(str::to_owned),
            ..Settings::default()
        };
        Site::new(&settings, 8123)
    }

    #[test]
    fn links_are_absolute_on_public_url_or_localhost() {
        assert_eq!(
            site(Some("https://example.org/")).url("/feed.xml"),
            "https://example.org/feed.xml"
        );
        assert_eq!(
            site(Some(" https://example.org/blog ")).url("/posts/1"),
            "https://example.org/blog/posts/1"
        );
        assert_eq!(
            site(None).url("/feed.xml"),
            "http://localhost:8123/feed.xml"
        );
        assert_eq!(site(Some("")).url("/"), "http://localhost:8123/");
    }

    #[test]
    fn the_operator_is_told_when_public_url_is_missing_or_no_url() {
        let settings = |url: Option<&str>| Settings {
            public_url: url.map(str::to_owned),
            ..Settings::default()
        };
        let unset = public_url_warning(&settings(None), 8123).unwrap();
        assert!(unset.contains("public_url is not set"), "{unset}");
        assert!(unset.contains("http://localhost:8123"), "{unset}");
        let bad = public_url_warning(&settings(Some("example.org")), 8123).unwrap();
        assert!(bad.contains("not an http(s) URL"), "{bad}");
        assert_eq!(
            public_url_warning(&settings(Some("https://example.org")), 8123),
            None
        );
    }

    #[test]
    fn an_image_that_is_not_stored_has_no_preview() {
        assert_eq!(
            site(None).image("0123456789abcdef0123456789abcdef.png"),
            None
        );
        assert_eq!(site(None).image("../portfolio.db"), None);
    }
}
