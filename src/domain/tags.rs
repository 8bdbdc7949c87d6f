//! Tags: a post's topics (`rust`, `travel-notes`), their pages and their
//! counts.
//!
//! A tag is a row of `tags` made the first time a post uses it; `post_tags`
//! links posts to tags and copies each post's `published` and `updated_at`
//! (triggers keep them), so a tag's page reads its posts in index order
//! whatever the size of the tag, and `tags.posts` (the number of published
//! posts carrying it, also kept by triggers) is its total: nothing is
//! counted on read. Tags left without posts stay as rows: their page is a
//! 404 and they leave the popular list, and a tag used again keeps its id.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::fields::FieldError;
use super::page::{Cursor, Position, Slice, Window};
use super::post::{time_of_key, Post, PostWithAuthor};
use super::Page;
use crate::db::schema::{post_tags, tags};
use crate::db::DbConnection;
use crate::domain::error::{AppError, AppResult};

/// One tag's name: 1–32 characters of `a-z 0-9 -`, stored lower-case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct TagName(String);

impl TagName {
    pub const MAX_CHARS: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim().trim_start_matches('#').to_lowercase();
        if name.is_empty() || name.len() > Self::MAX_CHARS {
            return Err(format!(
                "must each be 1 to {} characters long",
                Self::MAX_CHARS
            ));
        }
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if !name.chars().all(allowed) {
            return Err(format!(
                "may only contain letters a-z, digits and -: \"{}\" does not",
                raw.trim()
            ));
        }
        Ok(TagName(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A post's tags: at most [`TagList::MAX`] distinct names, in the order
/// first given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagList(Vec<TagName>);

impl TagList {
    pub const MAX: usize = 10;

    /// The tags of a list (the API's `tags: [...]`): at most ten given
    /// (repeats count: a list's length alone says whether it may be
    /// valid, as the API's document states it), each checked, repeats then
    /// dropped. Refused before anything in it is looked at when longer: the
    /// work is bounded whatever the body holds.
    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Self, FieldError> {
        const TOO_MANY: &str = "must be 10 at most";
        if raw.len() > Self::MAX {
            return Err(TOO_MANY.into());
        }
        let mut names: Vec<TagName> = Vec::with_capacity(Self::MAX);
        for each in raw {
            let name = TagName::parse(each.as_ref())?;
            if !names.contains(&name) {
                if names.len() == Self::MAX {
                    return Err(TOO_MANY.into());
                }
                names.push(name);
            }
        }
        Ok(TagList(names))
    }

    /// The tags as typed in the post form: separated by commas or spaces.
    /// At most a hundred words are kept (more is refused by [`parse`]
    /// anyway), so a huge field costs no more than a small one.
    ///
    /// [`parse`]: TagList::parse
    pub fn typed_words(raw: &str) -> Vec<String> {
        raw.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|word| !word.is_empty())
            .take(Self::MAX + 1)
            .map(str::to_owned)
            .collect()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(TagName::as_str)
    }
}

/// A tag as listed: its name and published posts.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = tags, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct Tag {
    #[serde(skip)]
    pub id: i32,
    pub name: String,
    pub posts: i32,
}

impl Tag {
    /// The tag called `name`, if any post ever used it.
    pub fn find(conn: &mut DbConnection, name: &TagName) -> AppResult<Option<Tag>> {
        Ok(crate::natively!(conn, |c| tags::table
            .filter(tags::name.eq(name.as_str()))
            .select(Tag::as_select())
            .first(c)
            .optional())?)
    }

    /// The `limit` tags with the most published posts (ties by name), from
    /// the `tags_popular` index.
    pub fn popular(conn: &mut DbConnection, limit: i64) -> AppResult<Vec<Tag>> {
        Ok(crate::natively!(conn, |c| tags::table
            .filter(tags::posts.gt(0))
            .order((tags::posts.desc(), tags::name))
            .select(Tag::as_select())
            .limit(limit)
            .load(c))?)
    }

    /// Makes post `post` carry exactly `list` (creating tags never used
    /// before), inside the caller's write transaction. Only the difference
    /// is written: a save that keeps the tags touches no tag row (and no
    /// tag's count). `published` and `updated_at` are the post's, copied
    /// for the tag pages' index.
    pub(crate) fn set_for_post(
        conn: &mut DbConnection,
        post: &Post,
        list: &TagList,
    ) -> AppResult<()> {
        let current: Vec<(i32, String)> = crate::natively!(conn, |c| post_tags::table
            .inner_join(tags::table)
            .filter(post_tags::post_id.eq(post.id))
            .select((tags::id, tags::name))
            .load(c))?;
        let gone: Vec<i32> = current
            .iter()
            .filter(|(_, name)| !list.names().any(|kept| kept == name))
            .map(|(id, _)| *id)
            .collect();
        if !gone.is_empty() {
            diesel::delete(
                post_tags::table
                    .filter(post_tags::post_id.eq(post.id))
                    .filter(post_tags::tag_id.eq_any(&gone)),
            )
            .execute(conn)?;
        }
        for name in list.names() {
            if current.iter().any(|(_, had)| had == name) {
                continue;
            }
            let tag = Tag::id_making(conn, name)?;
            diesel::insert_into(post_tags::table)
                .values((
                    post_tags::post_id.eq(post.id),
                    post_tags::tag_id.eq(tag),
                    post_tags::published.eq(post.published),
                    post_tags::updated_at.eq(post.updated_at),
                ))
                .execute(conn)?;
        }
        Ok(())
    }

    /// The id of tag `name`, made if no post ever used it. Looked up first:
    /// an insert that finds the name taken would still use up an id on
    /// PostgreSQL, and ids (which cut the sitemap's tag files) would grow
    /// with every save. The insert ignores a conflict, so a tag made
    /// meanwhile by another writer is simply found.
    fn id_making(conn: &mut DbConnection, name: &str) -> AppResult<i32> {
        let find = |conn: &mut DbConnection| -> AppResult<Option<i32>> {
            Ok(crate::natively!(conn, |c| tags::table
                .filter(tags::name.eq(name))
                .select(tags::id)
                .first(c)
                .optional())?)
        };
        if let Some(id) = find(conn)? {
            return Ok(id);
        }
        crate::natively!(conn, |c| diesel::insert_into(tags::table)
            .values(tags::name.eq(name))
            .on_conflict(tags::name)
            .do_nothing()
            .execute(c))?;
        find(conn)?.ok_or_else(|| AppError::Internal("a tag just made is not there".into()))
    }

    /// One post's tags, by name.
    pub(crate) fn of_post(conn: &mut DbConnection, id: i32) -> AppResult<Vec<String>> {
        Ok(Tag::of_posts(conn, &[id])?.remove(&id).unwrap_or_default())
    }

    /// The tags of each of these posts, by name.
    pub(crate) fn of_posts(
        conn: &mut DbConnection,
        ids: &[i32],
    ) -> AppResult<HashMap<i32, Vec<String>>> {
        let mut found: HashMap<i32, Vec<String>> = HashMap::with_capacity(ids.len());
        let of_one = post_tags::table
            .inner_join(tags::table)
            .order(tags::name)
            .select(tags::name);
        match conn {
            // One lookup per post through a statement prepared once per
            // connection: an `IN (?, ?, …)` list has as many parameters as
            // ids, so Diesel cannot cache it, and compiling the join on
            // every request cost more than reading its rows (as for
            // `Post::find_many`).
            DbConnection::Sqlite(c) => {
                for &id in ids {
                    let names: Vec<String> = of_one.filter(post_tags::post_id.eq(id)).load(c)?;
                    if !names.is_empty() {
                        found.insert(id, names);
                    }
                }
            }
            // One `= ANY($1)` statement, cached as it is: a round trip each.
            DbConnection::Postgres(c) => {
                let rows: Vec<(i32, String)> = post_tags::table
                    .inner_join(tags::table)
                    .filter(post_tags::post_id.eq_any(ids))
                    .order((post_tags::post_id, tags::name))
                    .select((post_tags::post_id, tags::name))
                    .load(c)?;
                for (post, name) in rows {
                    found.entry(post).or_default().push(name);
                }
            }
        }
        Ok(found)
    }

    /// One slice of the published posts tagged `self`, most recently
    /// updated first (the order of the post list), walking
    /// `post_tags_listing`; the total is the tag's kept count.
    pub fn posts(
        &self,
        conn: &mut DbConnection,
        slice: Slice,
    ) -> AppResult<(Window<PostWithAuthor>, i64)> {
        use post_tags::{post_id, published, tag_id, updated_at};
        let query = post_tags::table
            .into_boxed()
            .filter(tag_id.eq(self.id).and(published.eq(true)))
            .select((post_id, updated_at))
            .limit(slice.fetch());
        let query = match slice.position {
            Position::Number(number) => query.order((updated_at.desc(), post_id.desc())).offset(
                Page {
                    number,
                    per_page: slice.per_page,
                }
                .offset(),
            ),
            Position::After(at) => {
                let time = time_of_key(at.key);
                query
                    .filter(
                        updated_at
                            .le(time)
                            .and(updated_at.lt(time).or(post_id.lt(at.id))),
                    )
                    .order((updated_at.desc(), post_id.desc()))
            }
            Position::Before(at) => {
                let time = time_of_key(at.key);
                query
                    .filter(
                        updated_at
                            .ge(time)
                            .and(updated_at.gt(time).or(post_id.gt(at.id))),
                    )
                    .order((updated_at.asc(), post_id.asc()))
            }
        };
        let keys: Vec<(i32, NaiveDateTime)> = query.load(conn)?;
        let window = slice.window(keys, |(post, time)| Cursor {
            key: time.and_utc().timestamp_micros(),
            id: *post,
        });
        let ids: Vec<i32> = window.items.iter().map(|(post, _)| *post).collect();
        let posts = Post::find_many(conn, &ids)?;
        Ok((window.with_items(posts), i64::from(self.posts)))
    }
}

/// The published posts tagged `name`, as [`Tag::posts`]; none when no post
/// ever carried it.
pub fn posts_tagged(
    conn: &mut DbConnection,
    name: &TagName,
    slice: Slice,
) -> AppResult<(Window<PostWithAuthor>, i64)> {
    match Tag::find(conn, name)? {
        Some(tag) => tag.posts(conn, slice),
        None => Ok((
            slice.window(Vec::new(), |item: &PostWithAuthor| Cursor {
                key: 0,
                id: item.post.id,
            }),
            0,
        )),
    }
}

/// The tag named `raw` that has published posts: a tag nobody uses (or
/// that is not a tag name at all) is "not found".
pub fn in_use(conn: &mut DbConnection, raw: &str) -> AppResult<Tag> {
    let name = TagName::parse(raw).map_err(|_| AppError::NotFound)?;
    match Tag::find(conn, &name)? {
        Some(tag) if tag.posts > 0 => Ok(tag),
        _ => Err(AppError::NotFound),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lower_case_words_of_letters_digits_and_dashes() {
        assert_eq!(TagName::parse(" Rust ").unwrap().as_str(), "rust");
        assert_eq!(
            TagName::parse("#travel-notes").unwrap().as_str(),
            "travel-notes"
        );
        assert_eq!(TagName::parse("web3").unwrap().as_str(), "web3");
        assert!(TagName::parse("").is_err());
        assert!(TagName::parse("two words").is_err());
        assert!(TagName::parse("café").is_err());
        assert!(TagName::parse("under_score").is_err());
        assert!(TagName::parse(&"a".repeat(32)).is_ok());
        assert!(TagName::parse(&"a".repeat(33)).is_err());
    }

    #[test]
    fn a_list_drops_repeats_and_holds_at_most_ten() {
        let list = TagList::parse(&["rust", "Rust", "web"]).unwrap();
        assert_eq!(list.names().collect::<Vec<_>>(), ["rust", "web"]);
        let ten: Vec<String> = (0..10).map(|n| format!("t{n}")).collect();
        assert!(TagList::parse(&ten).is_ok());
        let eleven: Vec<String> = (0..11).map(|n| format!("t{n}")).collect();
        assert_eq!(TagList::parse(&eleven).unwrap_err(), "must be 10 at most");
        // Repeats count towards the ten given (the document's `maxItems`)
        // and are then dropped; a longer list is refused unread.
        assert_eq!(TagList::parse(&["same"; 10]).unwrap().names().count(), 1);
        assert_eq!(
            TagList::parse(&["same"; 11]).unwrap_err(),
            "must be 10 at most"
        );
        assert_eq!(TagList::typed_words(&"w ".repeat(100_000)).len(), 11);
    }

    #[test]
    fn typed_tags_are_split_on_commas_and_spaces() {
        assert_eq!(
            TagList::typed_words("rust, web  travel-notes,,"),
            ["rust", "web", "travel-notes"]
        );
        assert!(TagList::typed_words("  ").is_empty());
    }
}
