//! Atom 1.0 feeds (RFC 4287) of the newest published posts:
//! `GET /feed.xml` (the site), `GET /users/<id>/feed.xml` (one person) and
//! `GET /tags/<name>/feed.xml` (one tag). A feed of any other list is
//! [`atom`] of its posts and a [`FeedMeta`], answered with
//! [`feed_response`].
//!
//! Links are absolute, on [`Site`] (`public_url`). An entry's id is its
//! post's `/posts/<id>` URL, which no edit changes (the title, and so the
//! slug, may change: the entry's `alternate` link carries that).

use atom_syndication::{Content, Entry, Feed, FixedDateTime, Generator, Link, Person, Text};
use chrono::{DateTime, NaiveDateTime};
use rocket::http::ContentType;
use rocket::{get, routes, Route, State};

use crate::db::Db;
use crate::domain::error::{AppError, AppResult};
use crate::domain::post::Author;
use crate::domain::syndication;
use crate::domain::{markdown, Post, PostWithAuthor, User};
use crate::web::fresh::Fresh;
use crate::web::site::Site;

pub fn routes() -> Vec<Route> {
    routes![site_feed, user_feed, tag_feed]
}

/// How long an entry's plain-text summary is, in characters.
const SUMMARY_CHARS: usize = 280;

/// What a feed says about itself.
pub struct FeedMeta<'a> {
    pub title: String,
    /// The page the feed follows (`/`, `/users/3`): its `alternate` link.
    pub page: String,
    /// The feed's own path: its `self` link, and (absolute) its id.
    pub feed: String,
    /// The one author of every entry, for a person's feed.
    pub author: Option<&'a Author>,
}

/// `application/atom+xml; charset=utf-8`
pub fn content_type() -> ContentType {
    ContentType::new("application", "atom+xml").with_params(("charset", "utf-8"))
}

/// The feed's path for the page at `page` (`/` or `/users/3`).
pub fn feed_path(page: &str) -> String {
    format!("{}/feed.xml", page.trim_end_matches('/'))
}

/// `GET /feed.xml`: the site's newest posts.
#[get("/feed.xml")]
async fn site_feed(db: Db<'_>, site: &State<Site>) -> AppResult<Fresh> {
    let posts = db
        .read(|conn| syndication::newest_published(conn, None))
        .await?;
    let meta = FeedMeta {
        title: "portfolio: the newest posts".to_owned(),
        page: "/".to_owned(),
        feed: feed_path("/"),
        author: None,
    };
    feed_response(site, &meta, &posts)
}

/// `GET /users/<id>/feed.xml`: one person's newest posts; 404 for no such
/// account.
#[get("/users/<id>/feed.xml")]
async fn user_feed(db: Db<'_>, site: &State<Site>, id: i32) -> AppResult<Fresh> {
    let (user, posts) = db
        .read(move |conn| {
            let user = User::find(conn, id)?;
            let posts = syndication::newest_published(conn, Some(id))?;
            Ok::<_, AppError>((user, posts))
        })
        .await?;
    let author = Author {
        id: user.id,
        uid: user.uid,
        name: user.name,
    };
    let page = format!("/users/{id}");
    let meta = FeedMeta {
        title: format!("{} · portfolio", author.name),
        feed: feed_path(&page),
        page,
        author: Some(&author),
    };
    feed_response(site, &meta, &posts)
}

/// `GET /tags/<name>/feed.xml`: one tag's newest posts; 404 for a tag no
/// published post carries.
#[get("/tags/<name>/feed.xml")]
async fn tag_feed(db: Db<'_>, site: &State<Site>, name: String) -> AppResult<Fresh> {
    let (tag, posts) = db
        .read(move |conn| syndication::newest_tagged(conn, &name))
        .await?;
    let page = format!("/tags/{}", tag.name);
    let meta = FeedMeta {
        title: format!("Posts tagged {} · portfolio", tag.name),
        feed: feed_path(&page),
        page,
        author: None,
    };
    feed_response(site, &meta, &posts)
}

/// The feed of `posts` as an answer with its validators (304 when the
/// reader's copy is current).
pub fn feed_response(
    site: &Site,
    meta: &FeedMeta<'_>,
    posts: &[PostWithAuthor],
) -> AppResult<Fresh> {
    let feed = atom(site, meta, posts);
    let body = feed
        .write_to(Vec::new())
        .map_err(|e| AppError::Internal(Box::new(e)))?;
    let newest = posts.iter().map(|item| item.post.updated_at).max();
    Ok(Fresh::new(body, content_type(), newest))
}

/// The Atom feed of `posts` (given newest first), described by `meta`.
pub fn atom(site: &Site, meta: &FeedMeta<'_>, posts: &[PostWithAuthor]) -> Feed {
    let entries: Vec<Entry> = posts.iter().map(|item| entry(site, item)).collect();
    // An empty feed still needs an `updated`: the epoch, which never moves.
    let updated = posts
        .iter()
        .map(|item| item.post.updated_at)
        .max()
        .map_or_else(|| time(DateTime::UNIX_EPOCH.naive_utc()), time);
    Feed {
        title: Text::plain(meta.title.clone()),
        id: site.url(&meta.feed),
        updated,
        authors: meta.author.map(|a| person(site, a)).into_iter().collect(),
        links: vec![
            link(site.url(&meta.feed), "self", "application/atom+xml"),
            link(site.url(&meta.page), "alternate", "text/html"),
        ],
        generator: Some(Generator {
            value: "portfolio".to_owned(),
            ..Generator::default()
        }),
        entries,
        ..Feed::default()
    }
}

/// One post as an entry: plain-text summary, sanitised HTML content.
fn entry(site: &Site, item: &PostWithAuthor) -> Entry {
    let post = &item.post;
    let mut html = String::new();
    if let Some(image) = &post.image {
        // Stored names are 32 hex digits and an extension: nothing to escape.
        html.push_str(&format!(
            "<p><img src=\"{}\" alt=\"\"></p>\n",
            site.url(&format!("/uploads/{image}"))
        ));
    }
    html.push_str(&markdown::to_safe_html(&post.content));
    Entry {
        title: Text::plain(post.title.clone()),
        id: entry_id(site, post),
        updated: time(post.updated_at),
        // A published post without a `publish_at` predates scheduling.
        published: Some(time(post.publish_at.unwrap_or(post.created_at))),
        authors: vec![person(site, &item.author)],
        links: vec![link(site.url(&post.path()), "alternate", "text/html")],
        summary: Some(Text::plain(markdown::excerpt(&post.content, SUMMARY_CHARS))),
        content: Some(Content {
            content_type: Some("html".to_owned()),
            value: Some(html),
            // Relative links in a post resolve against the site.
            base: Some(site.url("/")),
            ..Content::default()
        }),
        ..Entry::default()
    }
}

/// An entry's id: the post's URL by id alone, which no edit changes.
pub fn entry_id(site: &Site, post: &Post) -> String {
    site.url(&format!("/posts/{}", post.id))
}

fn person(site: &Site, author: &Author) -> Person {
    Person {
        name: author.name.clone(),
        uri: Some(site.url(&format!("/users/{}", author.id))),
        ..Person::default()
    }
}

fn link(href: String, rel: &str, mime_type: &str) -> Link {
    Link {
        href,
        rel: rel.to_owned(),
        mime_type: Some(mime_type.to_owned()),
        ..Link::default()
    }
}

/// Stored times are UTC.
fn time(at: NaiveDateTime) -> FixedDateTime {
    at.and_utc().fixed_offset()
}
