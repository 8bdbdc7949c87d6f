//! Posts: their rules (who sees and who edits a post) and queries.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sqlite::Sqlite;
use serde::Deserialize;

use super::fields::{FieldError, PostContent, PostTitle};
use super::page::{Cursor, Position, Slice, Window};
use super::tags::{Tag, TagList};
use super::{now, Checker, Page, User};
use crate::db::schema::{post_totals, posts, users};
use crate::db::{DbBackend, DbConnection};
use crate::domain::error::{AppError, AppResult, FieldErrors};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = posts, check_for_backend(Sqlite, Pg))]
pub struct Post {
    pub id: i32,
    pub user_id: i32,
    pub title: String,
    pub content: String,
    pub image: Option<String>,
    pub published: bool,
    pub views: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// When it was published, or (while not yet published) will be: a
    /// scheduled post. `None`: a draft.
    pub publish_at: Option<NaiveDateTime>,
    /// Visible comments, kept by triggers.
    pub comments: i32,
    pub comments_closed: bool,
}

/// The public face of a post's author.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(Sqlite, Pg))]
pub struct Author {
    pub id: i32,
    pub uid: String,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct PostWithAuthor {
    pub post: Post,
    pub author: Author,
    /// Its tags' names, alphabetical.
    pub tags: Vec<String>,
}

/// When a post is public. (Stored as `published` and `publish_at`; see
/// [`Post::publication`].)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publication {
    /// Seen by its author and admins only.
    Draft,
    /// Public since then.
    Published(NaiveDateTime),
    /// A draft until then, then public: the scheduler publishes it.
    Scheduled(NaiveDateTime),
}

impl Publication {
    /// The stored columns: `(published, publish_at)`.
    fn columns(self) -> (bool, Option<NaiveDateTime>) {
        match self {
            Publication::Draft => (false, None),
            Publication::Published(at) => (true, Some(at)),
            Publication::Scheduled(at) => (false, Some(at)),
        }
    }
}

/// What the writer asked for; made a [`Publication`] against the post as it
/// is and the time it is (see [`PublishRequest::resolve`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishRequest {
    Draft,
    /// Public now, or kept public since whenever it was published.
    Now,
    /// Public at this time: scheduled if it is to come, backdated if past.
    At(NaiveDateTime),
}

/// Why a publication time was refused.
pub const PAST_DRAFT: &str =
    "a time in the past publishes the post: leave the time out to keep a draft";
pub const FUTURE_PUBLISHED: &str =
    "a time to come schedules the post: it cannot be published before then";

/// Why a suspended author's post cannot be published or unpublished.
pub const HELD: &str = "its author is suspended: whether it is published is decided when the \
     suspension is lifted";

/// A time as both databases keep it: UTC, to the microsecond (PostgreSQL
/// keeps no finer; SQLite would keep the nanoseconds it is given).
fn to_stored_time(at: DateTime<Utc>) -> NaiveDateTime {
    use chrono::{DurationRound, TimeDelta};
    let at = at.naive_utc();
    at.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(at)
}

pub const OUT_OF_RANGE: &str = "must be a time between the years 1900 and 9999";

/// The times a post may be published at. Both databases store these, and
/// as text (SQLite) they sort as times do: a year with a sign or a fifth
/// digit would not, and would sit before every other time in the
/// scheduler's index.
fn earliest_time() -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(1900, 1, 1)
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

fn latest_time() -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|day| day.and_hms_opt(23, 59, 59))
        .unwrap_or_default()
}

impl PublishRequest {
    /// The request the two fields make (`published`, `publish_at`), as of
    /// `now`; `None` when neither is given. A time wins over an absent
    /// `published`; the two may not contradict each other.
    pub fn from_fields(
        published: Option<bool>,
        publish_at: Option<NaiveDateTime>,
        now: NaiveDateTime,
    ) -> Result<Option<Self>, FieldError> {
        if publish_at.is_some_and(|at| !(earliest_time()..=latest_time()).contains(&at)) {
            return Err(OUT_OF_RANGE.into());
        }
        Ok(match (published, publish_at) {
            (None, None) => None,
            (Some(true), None) => Some(PublishRequest::Now),
            (Some(false), None) => Some(PublishRequest::Draft),
            (Some(false), Some(at)) if at <= now => return Err(PAST_DRAFT.into()),
            (Some(true), Some(at)) if at > now => return Err(FUTURE_PUBLISHED.into()),
            (_, Some(at)) => Some(PublishRequest::At(at)),
        })
    }

    /// What the post becomes: `current` is the post before the change
    /// (`None` for a new one).
    pub fn resolve(self, current: Option<&Post>, now: NaiveDateTime) -> Publication {
        match self {
            PublishRequest::Draft => Publication::Draft,
            PublishRequest::Now => match current.map(Post::publication) {
                Some(published @ Publication::Published(_)) => published,
                _ => Publication::Published(now),
            },
            PublishRequest::At(at) if at > now => Publication::Scheduled(at),
            PublishRequest::At(at) => Publication::Published(at),
        }
    }
}

/// A time typed in a form's `datetime-local` field (`2026-12-05T09:30`,
/// seconds optional) in the writer's time zone, `utc_offset` minutes east of
/// UTC (the browser's, sent beside it; blank: the time is UTC), as UTC.
/// Blank: no time.
pub fn parse_local_time(raw: &str, utc_offset: &str) -> Result<Option<NaiveDateTime>, FieldError> {
    const INVALID: &str = "must be a date and time like 2026-12-05T09:30";
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let local = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| FieldError::from(INVALID))?;
    let offset: i64 = match utc_offset.trim() {
        "" => 0,
        minutes => minutes
            .parse()
            .ok()
            .filter(|m: &i64| m.abs() <= 18 * 60)
            .ok_or_else(|| FieldError::from("came with a time zone offset that is not one"))?,
    };
    local
        .checked_sub_signed(chrono::TimeDelta::minutes(offset))
        .map(Some)
        .ok_or_else(|| INVALID.into())
}

/// A new post as the client sent it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostDraft {
    pub title: String,
    pub content: String,
    #[serde(default)]
    pub published: Option<bool>,
    /// A time to publish at (RFC 3339): to come schedules the post.
    #[serde(default)]
    pub publish_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub comments_closed: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct NewPost {
    pub title: PostTitle,
    pub content: PostContent,
    pub publish: PublishRequest,
    pub tags: TagList,
    pub comments_closed: bool,
}

impl PostDraft {
    pub fn validate(&self) -> AppResult<NewPost> {
        let mut checker = Checker::default();
        let title = checker.check("title", PostTitle::parse(&self.title));
        let content = checker.check("content", PostContent::parse(&self.content));
        let publish = checker.check(
            "publish_at",
            PublishRequest::from_fields(self.published, self.publish_at.map(to_stored_time), now()),
        );
        let tags = checker.check("tags", TagList::parse(self.tags.as_deref().unwrap_or(&[])));
        checker.finish(|| {
            Some(NewPost {
                title: title?,
                content: content?,
                publish: publish?.unwrap_or(PublishRequest::Now),
                tags: tags?,
                comments_closed: self.comments_closed.unwrap_or(false),
            })
        })
    }
}

/// Changes to a post as the client sent them; absent fields stay.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostPatch {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub published: Option<bool>,
    #[serde(default)]
    pub publish_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub comments_closed: Option<bool>,
}

/// Validated changes: `None` leaves a part as it is.
#[derive(Debug, Clone, Default)]
pub struct PostChanges {
    pub title: Option<PostTitle>,
    pub content: Option<PostContent>,
    pub publish: Option<PublishRequest>,
    pub tags: Option<TagList>,
    pub comments_closed: Option<bool>,
}

impl PostPatch {
    pub fn validate(&self) -> AppResult<PostChanges> {
        let mut checker = Checker::default();
        let title = checker.check_optional("title", self.title.as_deref(), PostTitle::parse);
        let content =
            checker.check_optional("content", self.content.as_deref(), PostContent::parse);
        let publish = checker.check(
            "publish_at",
            PublishRequest::from_fields(self.published, self.publish_at.map(to_stored_time), now()),
        );
        let tags = match &self.tags {
            None => Some(None),
            Some(raw) => checker.check("tags", TagList::parse(raw)).map(Some),
        };
        checker.finish(|| {
            Some(PostChanges {
                title: title?,
                content: content?,
                publish: publish?,
                tags: tags?,
                comments_closed: self.comments_closed,
            })
        })
    }
}

/// The columns an edit sets: `None` leaves one as it is.
#[derive(AsChangeset)]
#[diesel(table_name = posts)]
struct PostRowChanges<'a> {
    title: Option<&'a str>,
    content: Option<&'a str>,
    published: Option<bool>,
    publish_at: Option<Option<NaiveDateTime>>,
    comments_closed: Option<bool>,
    updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = posts)]
struct PostRow<'a> {
    user_id: i32,
    title: &'a str,
    content: &'a str,
    published: bool,
    publish_at: Option<NaiveDateTime>,
    comments_closed: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// Which posts a listing shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct PostFilter {
    /// Only this user's posts.
    pub author: Option<i32>,
}

/// The longest slug a post's URL carries (the words after it are cut).
const SLUG_MAX_CHARS: usize = 80;

impl Post {
    /// The post's title as URL words: lower-case ASCII, accents folded,
    /// joined by `-`, at most [`SLUG_MAX_CHARS`] (cut at a word's end).
    /// Empty when the title has no letters or digits at all.
    pub fn slug(&self) -> String {
        Post::slug_of(&self.title)
    }

    /// [`Post::slug`] of a title: for listings that read only a post's id
    /// and title (the sitemap).
    pub fn slug_of(title: &str) -> String {
        let mut slug = slug::slugify(title);
        if slug.len() > SLUG_MAX_CHARS {
            let cut = slug[..=SLUG_MAX_CHARS].rfind('-').unwrap_or(SLUG_MAX_CHARS);
            slug.truncate(cut);
        }
        slug
    }

    /// The post's page: `/posts/<id>-<slug>` (or `/posts/<id>` when the
    /// title gives no slug). Older forms answer 301 to this one.
    pub fn path(&self) -> String {
        Post::path_of(self.id, &self.title)
    }

    /// [`Post::path`] of the post with this id and title.
    pub fn path_of(id: i32, title: &str) -> String {
        match Post::slug_of(title) {
            slug if slug.is_empty() => format!("/posts/{id}"),
            slug => format!("/posts/{id}-{slug}"),
        }
    }

    /// When the post is public, from its stored columns.
    pub fn publication(&self) -> Publication {
        match (self.published, self.publish_at) {
            (true, at) => Publication::Published(at.unwrap_or(self.created_at)),
            (false, Some(at)) => Publication::Scheduled(at),
            (false, None) => Publication::Draft,
        }
    }

    /// Published posts are public; drafts are seen by their author and admins.
    pub fn visible_to(&self, viewer: Option<&User>) -> bool {
        self.published || viewer.is_some_and(|viewer| self.can_be_edited_by(viewer))
    }

    /// The author and admins may edit or delete a post.
    pub fn can_be_edited_by(&self, actor: &User) -> bool {
        actor.id == self.user_id || actor.is_admin()
    }

    pub(crate) fn with_author(conn: &mut DbConnection, post: Post) -> AppResult<PostWithAuthor> {
        let author = crate::natively!(conn, |c| users::table
            .find(post.user_id)
            .select(Author::as_select())
            .first(c))?;
        let tags = Tag::of_post(conn, post.id)?;
        Ok(PostWithAuthor { post, author, tags })
    }

    /// A post that `viewer` may see; someone else's draft is "not found",
    /// so its existence is not given away.
    pub fn find_visible(
        conn: &mut DbConnection,
        id: i32,
        viewer: Option<&User>,
    ) -> AppResult<PostWithAuthor> {
        let found = Post::find_with_author(conn, id)?;
        if !found.post.visible_to(viewer) {
            return Err(AppError::NotFound);
        }
        Ok(found)
    }

    /// Post `id` with its author and tags, whoever may see it: callers
    /// decide with [`Post::visible_to`].
    pub(crate) fn find_with_author(conn: &mut DbConnection, id: i32) -> AppResult<PostWithAuthor> {
        // The post and its author in one statement (a post always has one).
        let (post, author): (Post, Author) = crate::natively!(conn, |c| posts::table
            .inner_join(users::table)
            .filter(posts::id.eq(id))
            .select((Post::as_select(), Author::as_select()))
            .first(c))?;
        let tags = Tag::of_post(conn, post.id)?;
        Ok(PostWithAuthor { post, author, tags })
    }

    /// Loads a post for `actor` to change: 404 if they cannot see it, 403 if
    /// they can see it but it is not theirs.
    pub(crate) fn find_editable(conn: &mut DbConnection, id: i32, actor: &User) -> AppResult<Post> {
        let post: Post = posts::table
            .find(id)
            .select(Post::as_select())
            .first(conn)?;
        if !post.visible_to(Some(actor)) {
            return Err(AppError::NotFound);
        }
        if !post.can_be_edited_by(actor) {
            return Err(AppError::Forbidden(
                "only the author or an admin can change this post",
            ));
        }
        Ok(post)
    }

    pub fn create(
        conn: &mut DbConnection,
        author: &User,
        new: &NewPost,
    ) -> AppResult<PostWithAuthor> {
        let now = now();
        let (published, publish_at) = new.publish.resolve(None, now).columns();
        let row = PostRow {
            user_id: author.id,
            title: new.title.as_str(),
            content: new.content.as_str(),
            published,
            publish_at,
            comments_closed: new.comments_closed,
            created_at: now,
            updated_at: now,
        };
        crate::db::write_transaction(conn, |conn| {
            let post = diesel::insert_into(posts::table)
                .values(&row)
                .returning(crate::db::columns_of::<Post>())
                .get_result::<Post>(conn)?;
            Tag::set_for_post(conn, &post, &new.tags)?;
            Post::with_author(conn, post)
        })
    }

    pub fn update(
        conn: &mut DbConnection,
        actor: &User,
        id: i32,
        changes: &PostChanges,
    ) -> AppResult<PostWithAuthor> {
        crate::db::write_transaction(conn, |conn| {
            let current = Post::find_editable(conn, id, actor)?;
            if changes.publish.is_some() && Post::is_held(conn, id)? {
                return Err(AppError::Conflict {
                    message: HELD.to_owned(),
                    fields: FieldErrors::from([("published".to_owned(), HELD.to_owned())]),
                });
            }
            let now = now();
            let publication = changes
                .publish
                .map(|request| request.resolve(Some(&current), now).columns());
            let row = PostRowChanges {
                title: changes.title.as_ref().map(PostTitle::as_str),
                content: changes.content.as_ref().map(PostContent::as_str),
                published: publication.map(|(published, _)| published),
                publish_at: publication.map(|(_, at)| at),
                comments_closed: changes.comments_closed,
                updated_at: now,
            };
            let post = diesel::update(posts::table.find(id))
                .set(&row)
                .returning(crate::db::columns_of::<Post>())
                .get_result::<Post>(conn)?;
            if let Some(tags) = &changes.tags {
                Tag::set_for_post(conn, &post, tags)?;
            }
            Post::with_author(conn, post)
        })
    }

    /// Whether post `id` is held by its author's suspension (see
    /// `domain::suspension`): its `published` is not its own to change
    /// until the suspension is lifted.
    fn is_held(conn: &mut DbConnection, id: i32) -> AppResult<bool> {
        let held: Option<bool> = crate::natively!(conn, |c| posts::table
            .find(id)
            .select(posts::held_published)
            .first(c))?;
        Ok(held.is_some())
    }

    /// Deletes post `id`; returns its image's file name, to remove once
    /// this is committed.
    pub fn delete(conn: &mut DbConnection, actor: &User, id: i32) -> AppResult<Option<String>> {
        crate::db::write_transaction(conn, |conn| {
            let post = Post::find_editable(conn, id, actor)?;
            diesel::delete(posts::table.find(id)).execute(conn)?;
            Ok(post.image)
        })
    }

    /// Sets (or, with `None`, clears) post `id`'s image; returns the post
    /// and the file name of the image it replaced, to remove once this is
    /// committed.
    pub fn set_image(
        conn: &mut DbConnection,
        actor: &User,
        id: i32,
        image: Option<&str>,
    ) -> AppResult<(PostWithAuthor, Option<String>)> {
        crate::db::write_transaction(conn, |conn| {
            let old = Post::find_editable(conn, id, actor)?.image;
            let post = diesel::update(posts::table.find(id))
                .set((posts::image.eq(image), posts::updated_at.eq(now())))
                .returning(crate::db::columns_of::<Post>())
                .get_result::<Post>(conn)?;
            Ok((Post::with_author(conn, post)?, old))
        })
    }

    /// The post showing the stored image `name`, if any.
    pub fn find_by_image(conn: &mut DbConnection, name: &str) -> AppResult<Option<Post>> {
        Ok(posts::table
            .filter(posts::image.eq(name))
            .select(Post::as_select())
            .first(conn)
            .optional()?)
    }

    /// Every stored image a post refers to (for the start-up sweep).
    pub fn all_images(conn: &mut DbConnection) -> AppResult<Vec<String>> {
        Ok(posts::table
            .filter(posts::image.is_not_null())
            .select(posts::image.assume_not_null())
            .load(conn)?)
    }

    /// Which posts `viewer` finds in a list or a search, as a filter for any
    /// query over `posts` (joined or not, either backend): the published
    /// ones and their own drafts. (Admins open others' drafts by id, see
    /// [`Post::visible_to`], but lists do not show them.) One rule for the
    /// listings and for search on both backends. Anonymous visitors get
    /// `published` alone, so their listings keep walking the
    /// `(published, updated_at, id)` index.
    pub(crate) fn visible_in_lists_to<'a, QS, DB>(
        viewer: Option<&User>,
    ) -> Box<dyn BoxableExpression<QS, DB, SqlType = diesel::sql_types::Bool> + 'a>
    where
        DB: diesel::backend::Backend,
        diesel::dsl::Eq<posts::published, bool>:
            BoxableExpression<QS, DB, SqlType = diesel::sql_types::Bool> + 'a,
        diesel::dsl::Or<
            diesel::dsl::Eq<posts::published, bool>,
            diesel::dsl::Eq<posts::user_id, i32>,
        >: BoxableExpression<QS, DB, SqlType = diesel::sql_types::Bool> + 'a,
    {
        match viewer {
            Some(viewer) => Box::new(posts::published.eq(true).or(posts::user_id.eq(viewer.id))),
            None => Box::new(posts::published.eq(true)),
        }
    }

    /// The posts `viewer` may list: published ones and their own drafts.
    pub(crate) fn listable<'a>(
        filter: PostFilter,
        viewer: Option<&User>,
    ) -> posts::BoxedQuery<'a, DbBackend> {
        let mut query = posts::table
            .into_boxed()
            .filter(Post::visible_in_lists_to(viewer));
        if let Some(author) = filter.author {
            query = query.filter(posts::user_id.eq(author));
        }
        query
    }

    /// The posts with these ids and their authors, in the order of `ids`
    /// (ids of posts that are gone are skipped).
    ///
    /// On SQLite, one primary-key lookup per id through a statement that is
    /// prepared once per connection and reused: an `IN (?, ?, …)` list has
    /// as many parameters as ids, so Diesel cannot cache it, and compiling
    /// that 13-column join cost more than reading the rows (a quarter of the
    /// home page's time). On PostgreSQL, where each statement is a round
    /// trip, one `= ANY($1)` statement, which is cached as it is.
    pub fn find_many(conn: &mut DbConnection, ids: &[i32]) -> AppResult<Vec<PostWithAuthor>> {
        let with_authors = posts::table.inner_join(users::table);
        let rows: Vec<(Post, Author)> = match conn {
            DbConnection::Sqlite(c) => {
                let mut found = Vec::with_capacity(ids.len());
                for &id in ids {
                    let row = with_authors
                        .filter(posts::id.eq(id))
                        .select((Post::as_select(), Author::as_select()))
                        .first(c)
                        .optional()?;
                    found.extend(row);
                }
                found
            }
            DbConnection::Postgres(c) => {
                let mut rows: HashMap<i32, (Post, Author)> = with_authors
                    .filter(posts::id.eq_any(ids))
                    .select((Post::as_select(), Author::as_select()))
                    .load::<(Post, Author)>(c)?
                    .into_iter()
                    .map(|row| (row.0.id, row))
                    .collect();
                ids.iter().filter_map(|id| rows.remove(id)).collect()
            }
        };
        let mut tags = Tag::of_posts(conn, ids)?;
        Ok(rows
            .into_iter()
            .map(|(post, author)| PostWithAuthor {
                tags: tags.remove(&post.id).unwrap_or_default(),
                post,
                author,
            })
            .collect())
    }

    /// How many posts [`Post::listable`] holds, from the counts the
    /// triggers keep (`post_totals`, each account's `published_posts` and
    /// `draft_posts`): nothing is counted on read. Should the totals row be
    /// missing (a hand-edited database), the published posts are counted.
    fn count_listable(
        conn: &mut DbConnection,
        filter: PostFilter,
        viewer: Option<&User>,
    ) -> AppResult<i64> {
        let own_drafts = |of: i32| match viewer {
            Some(viewer) if viewer.id == of => i64::from(viewer.draft_posts),
            _ => 0,
        };
        if let Some(author) = filter.author {
            let published: Option<i32> = crate::natively!(conn, |c| users::table
                .find(author)
                .select(users::published_posts)
                .first(c)
                .optional())?;
            return Ok(published.map_or(0, |n| i64::from(n) + own_drafts(author)));
        }
        let published: Option<i64> = crate::natively!(conn, |c| post_totals::table
            .select(post_totals::published)
            .first(c)
            .optional())?;
        let published = match published {
            Some(published) => published,
            None => Post::listable(filter, None).count().get_result(conn)?,
        };
        Ok(published + viewer.map_or(0, |viewer| own_drafts(viewer.id)))
    }

    /// One slice of posts, most recently updated first, and how many there
    /// are in all.
    pub fn list(
        conn: &mut DbConnection,
        filter: PostFilter,
        viewer: Option<&User>,
        slice: Slice,
    ) -> AppResult<(Window<PostWithAuthor>, i64)> {
        // The slice's ids first: for anonymous lists the covering index
        // answers that alone, so no row but the page's is read from the
        // table (as one statement with an `IN (subquery)`, SQLite planned it
        // worse). From a cursor, the range on `updated_at` starts the index
        // walk right there; the `id` comparison only breaks ties.
        use posts::{id, updated_at};
        let query = Post::listable(filter, viewer)
            .select((id, updated_at))
            .limit(slice.fetch());
        let query = match slice.position {
            Position::Number(number) => query.order((updated_at.desc(), id.desc())).offset(
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
                            .and(updated_at.lt(time).or(id.lt(at.id))),
                    )
                    .order((updated_at.desc(), id.desc()))
            }
            Position::Before(at) => {
                let time = time_of_key(at.key);
                query
                    .filter(
                        updated_at
                            .ge(time)
                            .and(updated_at.gt(time).or(id.gt(at.id))),
                    )
                    .order((updated_at.asc(), id.asc()))
            }
        };
        let keys: Vec<(i32, NaiveDateTime)> = query.load(conn)?;
        let window = slice.window(keys, |(post, time)| Cursor {
            key: time.and_utc().timestamp_micros(),
            id: *post,
        });
        let ids: Vec<i32> = window.items.iter().map(|(post, _)| *post).collect();
        let posts = Post::find_many(conn, &ids)?;
        let total = Post::count_listable(conn, filter, viewer)?;
        Ok((window.with_items(posts), total))
    }
}

/// The time a posts cursor holds, within the years both databases store
/// (a forged cursor may hold any number).
pub(crate) fn time_of_key(micros: i64) -> NaiveDateTime {
    /// 0001-01-01 00:00:00 and 9999-12-31 23:59:59, in µs since 1970.
    const EARLIEST: i64 = -62_135_596_800_000_000;
    const LATEST: i64 = 253_402_300_799_000_000;
    chrono::DateTime::from_timestamp_micros(micros.clamp(EARLIEST, LATEST))
        .unwrap_or_default()
        .naive_utc()
}
