//! What feeds and sitemaps read: the newest published posts, and the public
//! pages (posts, profiles, tags) a chunk of ids at a time.
//!
//! Only published posts are read, so drafts, scheduled posts (published
//! when their time comes) and a suspended account's posts (unpublished while
//! it is suspended, see `suspension`) never appear: the same one column
//! every list keys on, no rule of its own here.
//!
//! Cost: a feed walks the `(published, updated_at, id)` index for its
//! entries ([`Post::list`]). A sitemap chunk reads the ids in
//! `[n·size, (n+1)·size)` by primary key, and the number of chunks is
//! `MAX(id) / size + 1` (the primary key's last entry): no count and no
//! `OFFSET`, so each file costs its own rows at any size of site.

use std::ops::Range;

use chrono::NaiveDateTime;
use diesel::dsl::max;
use diesel::prelude::*;

use super::page::Slice;
use super::post::PostFilter;
use super::tags::{in_use, Tag};
use super::{Post, PostWithAuthor};
use crate::db::schema::{posts, tags, users};
use crate::db::DbConnection;
use crate::domain::error::AppResult;

/// How many posts a feed carries: the newest.
pub const FEED_ENTRIES: u32 = 20;

/// The sitemap protocol's limit of URLs in one file.
pub const SITEMAP_MAX_URLS: u32 = 50_000;

/// The newest [`FEED_ENTRIES`] published posts (by `author` when given),
/// most recently updated first.
pub fn newest_published(
    conn: &mut DbConnection,
    author: Option<i32>,
) -> AppResult<Vec<PostWithAuthor>> {
    // Anonymous (`None` viewer): published posts only, whoever asks.
    let (window, _total) = Post::list(
        conn,
        PostFilter { author },
        None,
        Slice::first(FEED_ENTRIES),
    )?;
    Ok(window.items)
}

/// The newest [`FEED_ENTRIES`] published posts carrying the tag `name`, in
/// the tag page's order (its `post_tags_listing` index); a tag no published
/// post carries is "not found", as its page is.
pub fn newest_tagged(conn: &mut DbConnection, name: &str) -> AppResult<(Tag, Vec<PostWithAuthor>)> {
    let tag = in_use(conn, name)?;
    let (window, _total) = tag.posts(conn, Slice::first(FEED_ENTRIES))?;
    Ok((tag, window.items))
}

/// What a sitemap lists, one kind a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SitemapKind {
    Posts,
    Users,
    Tags,
}

impl SitemapKind {
    pub const ALL: [SitemapKind; 3] = [SitemapKind::Posts, SitemapKind::Users, SitemapKind::Tags];

    /// The kind's name in a chunk's file name (`posts-0.xml`).
    pub fn name(self) -> &'static str {
        match self {
            SitemapKind::Posts => "posts",
            SitemapKind::Users => "users",
            SitemapKind::Tags => "tags",
        }
    }

    pub fn parse(name: &str) -> Option<SitemapKind> {
        SitemapKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
    }
}

/// One page a sitemap lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SitemapPage {
    Post {
        id: i32,
        title: String,
        updated_at: NaiveDateTime,
    },
    Profile {
        id: i32,
        updated_at: NaiveDateTime,
    },
    Tag {
        name: String,
    },
}

/// How many chunk files of `size` ids `kind` has: from the highest id (the
/// primary key's last entry), so nothing is counted. At least one, so an
/// empty site still has a (empty) file of each kind.
pub fn chunk_count(conn: &mut DbConnection, kind: SitemapKind, size: u32) -> AppResult<u32> {
    let highest: Option<i32> = match kind {
        SitemapKind::Posts => posts::table.select(max(posts::id)).first(conn)?,
        SitemapKind::Users => users::table.select(max(users::id)).first(conn)?,
        SitemapKind::Tags => tags::table.select(max(tags::id)).first(conn)?,
    };
    let highest = u32::try_from(highest.unwrap_or(0)).unwrap_or(0);
    Ok(highest / size.max(1) + 1)
}

/// The ids chunk `n` of `size` covers; `None` past what an `i32` id holds.
pub fn chunk_ids(n: u32, size: u32) -> Option<Range<i32>> {
    let start = i32::try_from(u64::from(n) * u64::from(size)).ok()?;
    let end = i32::try_from((u64::from(n) + 1) * u64::from(size)).unwrap_or(i32::MAX);
    Some(start..end)
}

/// The public pages of `kind` whose ids are in `ids`, in id order:
/// published posts, accounts that are not suspended, tags on at least one
/// published post.
pub fn chunk(
    conn: &mut DbConnection,
    kind: SitemapKind,
    ids: Range<i32>,
) -> AppResult<Vec<SitemapPage>> {
    Ok(match kind {
        // `published` is tested here, not in SQL: given `published = 1`,
        // SQLite walks `posts_published_updated_at` (every published post)
        // instead of this primary-key range. The range holds at most `size`
        // rows, drafts included, which is what this costs at any size.
        SitemapKind::Posts => posts::table
            .filter(posts::id.ge(ids.start).and(posts::id.lt(ids.end)))
            .order(posts::id)
            .select((posts::id, posts::title, posts::updated_at, posts::published))
            .load::<(i32, String, NaiveDateTime, bool)>(conn)?
            .into_iter()
            .filter(|(_, _, _, published)| *published)
            .map(|(id, title, updated_at, _)| SitemapPage::Post {
                id,
                title,
                updated_at,
            })
            .collect(),
        SitemapKind::Users => users::table
            .filter(users::id.ge(ids.start).and(users::id.lt(ids.end)))
            .filter(users::suspended_at.is_null())
            .order(users::id)
            .select((users::id, users::updated_at))
            .load::<(i32, NaiveDateTime)>(conn)?
            .into_iter()
            .map(|(id, updated_at)| SitemapPage::Profile { id, updated_at })
            .collect(),
        // `posts > 0` in Rust for the same reason: `tags_popular` starts
        // with `posts`, and a planner may prefer it to the id range.
        SitemapKind::Tags => tags::table
            .filter(tags::id.ge(ids.start).and(tags::id.lt(ids.end)))
            .order(tags::id)
            .select((tags::name, tags::posts))
            .load::<(String, i32)>(conn)?
            .into_iter()
            .filter(|(_, posts)| *posts > 0)
            .map(|(name, _)| SitemapPage::Tag { name })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_consecutive_id_ranges() {
        assert_eq!(chunk_ids(0, 100), Some(0..100));
        assert_eq!(chunk_ids(3, 100), Some(300..400));
        assert_eq!(chunk_ids(u32::MAX, 50_000), None);
        // The last chunk ends at the largest id an i32 holds.
        let last = i32::MAX as u32 / 50_000;
        assert_eq!(chunk_ids(last, 50_000).unwrap().end, i32::MAX);
    }

    #[test]
    fn kinds_are_named_in_file_names() {
        for kind in SitemapKind::ALL {
            assert_eq!(SitemapKind::parse(kind.name()), Some(kind));
        }
        assert_eq!(SitemapKind::parse("secrets"), None);
    }
}
