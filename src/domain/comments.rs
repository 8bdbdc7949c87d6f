//! Comments: logged-in people talk about published posts.
//!
//! The rules live here, once, for the API and the pages:
//! - who may comment: anyone logged in (a suspended account cannot be), on
//!   a post that is published and whose author has not closed comments;
//! - who may edit a comment: its author;
//! - who may delete one: its author, the post's author, and admins.
//!
//! A post's comments read oldest first through `comments_on_post`
//! `(post_id, hidden, id)`, numbered pages then cursors, so a deep page
//! costs what a first one does. `posts.comments` (kept by triggers) is the
//! total; a suspended account's comments are `hidden` (and uncounted) until
//! the suspension is lifted; a deleted account's go with it (cascade).

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sqlite::Sqlite;

use super::fields::CommentBody;
use super::page::{Cursor, Position, Slice, Window};
use super::post::Author;
use super::throttle::LoginThrottle;
use super::{now, Page, Post, User};
use crate::db::schema::{comments, users};
use crate::db::{Db, DbConnection};
use crate::domain::error::{AppError, AppResult};

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = comments, check_for_backend(Sqlite, diesel::pg::Pg))]
pub struct Comment {
    pub id: i32,
    pub post_id: i32,
    pub user_id: i32,
    /// Markdown source.
    pub body: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone)]
pub struct CommentWithAuthor {
    pub comment: Comment,
    pub author: Author,
}

/// Why a comment cannot be made.
pub const CLOSED: &str = "comments are closed on this post";
pub const NOT_PUBLISHED: &str = "only published posts take comments";

/// How many comments one account may make in [`THROTTLE_WINDOW`].
pub const THROTTLE_LIMIT: usize = 10;
pub const THROTTLE_WINDOW: Duration = Duration::from_secs(60);

/// New comments per account: at most [`THROTTLE_LIMIT`] a minute, every
/// attempt counting (a refused one too), to keep floods of spam out.
/// Counted in memory, per process: several instances count separately.
/// Managed by Rocket.
pub struct CommentThrottle(LoginThrottle);

impl Default for CommentThrottle {
    fn default() -> Self {
        CommentThrottle(LoginThrottle::new(THROTTLE_LIMIT, THROTTLE_WINDOW))
    }
}

impl Comment {
    /// The comment's author may edit it.
    pub fn can_be_edited_by(&self, actor: &User) -> bool {
        actor.id == self.user_id
    }

    /// Its author, the post's author and admins may delete it.
    pub fn can_be_deleted_by(&self, actor: &User, post: &Post) -> bool {
        self.can_be_edited_by(actor) || post.user_id == actor.id || actor.is_admin()
    }

    /// Comment `id` with its post, if `viewer` may see both: a hidden
    /// comment, or one on a post they cannot see, is "not found".
    pub fn find_visible(
        conn: &mut DbConnection,
        id: i32,
        viewer: Option<&User>,
    ) -> AppResult<(CommentWithAuthor, Post)> {
        let (comment, author): (Comment, Author) = crate::natively!(conn, |c| comments::table
            .inner_join(users::table)
            .filter(comments::id.eq(id).and(comments::hidden.eq(false)))
            .select((Comment::as_select(), Author::as_select()))
            .first(c))?;
        let post = Post::find_visible(conn, comment.post_id, viewer)?.post;
        Ok((CommentWithAuthor { comment, author }, post))
    }

    /// One slice of post `post`'s shown comments, oldest first, and how
    /// many it has. The post must be one `viewer` may see.
    pub fn list(
        conn: &mut DbConnection,
        post: i32,
        viewer: Option<&User>,
        slice: Slice,
    ) -> AppResult<(Window<CommentWithAuthor>, i64)> {
        let post = Post::find_visible(conn, post, viewer)?.post;
        Comment::list_of(conn, &post, slice)
    }

    /// [`Comment::list`] of a post already read (and found visible).
    ///
    /// Each position is its own statement rather than one boxed query:
    /// Diesel caches a prepared statement only for a query whose SQL it
    /// knows from its type, and this runs on every post page.
    pub fn list_of(
        conn: &mut DbConnection,
        post: &Post,
        slice: Slice,
    ) -> AppResult<(Window<CommentWithAuthor>, i64)> {
        use comments::{hidden, id, post_id};
        // A macro, not a value: each backend's arm types its own query.
        macro_rules! shown {
            () => {
                comments::table
                    .inner_join(users::table)
                    .filter(post_id.eq(post.id).and(hidden.eq(false)))
                    .select((Comment::as_select(), Author::as_select()))
                    .limit(slice.fetch())
            };
        }
        // The key of a comment's cursor is its id: ids grow with time.
        let rows: Vec<(Comment, Author)> = match slice.position {
            Position::Number(number) => {
                let offset = Page {
                    number,
                    per_page: slice.per_page,
                }
                .offset();
                crate::natively!(conn, |c| shown!().order(id.asc()).offset(offset).load(c))?
            }
            Position::After(at) => crate::natively!(conn, |c| shown!()
                .filter(id.gt(at.id))
                .order(id.asc())
                .load(c))?,
            Position::Before(at) => crate::natively!(conn, |c| shown!()
                .filter(id.lt(at.id))
                .order(id.desc())
                .load(c))?,
        };
        let window = slice.window(rows, |(comment, _)| Cursor {
            key: i64::from(comment.id),
            id: comment.id,
        });
        Ok((
            window.map(|(comment, author)| CommentWithAuthor { comment, author }),
            i64::from(post.comments),
        ))
    }

    fn with_author(conn: &mut DbConnection, comment: Comment) -> AppResult<CommentWithAuthor> {
        let author = crate::natively!(conn, |c| users::table
            .find(comment.user_id)
            .select(Author::as_select())
            .first(c))?;
        Ok(CommentWithAuthor { comment, author })
    }
}

/// Where comment `id` is in its post's list: the slice that ends with it
/// (the page a comment just made or changed is seen on, however many come
/// before it).
pub fn slice_ending_at(id: i32) -> Position {
    let next = id.saturating_add(1);
    Position::Before(Cursor {
        key: i64::from(next),
        id: next,
    })
}

/// `actor` comments `body` on post `post_id`, if the rules allow.
pub async fn create(
    db: &Db<'_>,
    throttle: &CommentThrottle,
    actor: &User,
    post_id: i32,
    body: CommentBody,
) -> AppResult<CommentWithAuthor> {
    // Dropped at the end: the attempt counts, whatever became of it.
    let _attempt = throttle
        .0
        .begin(vec![format!("comments:{}", actor.id)])
        .await
        .map_err(|wait| AppError::TooManyRequests(wait.as_secs().max(1)))?;
    let actor = actor.clone();
    db.write(move |conn| {
        // Looked at again inside the write: a suspension committed while
        // this waited its turn must not let the comment in.
        let suspended: Option<NaiveDateTime> = crate::natively!(conn, |c| users::table
            .find(actor.id)
            .select(users::suspended_at)
            .first(c))?;
        if suspended.is_some() {
            return Err(AppError::Forbidden("a suspended account cannot comment"));
        }
        let post = Post::find_visible(conn, post_id, Some(&actor))?.post;
        if !post.published {
            return Err(AppError::Forbidden(NOT_PUBLISHED));
        }
        if post.comments_closed {
            return Err(AppError::Forbidden(CLOSED));
        }
        let now = now();
        let comment = diesel::insert_into(comments::table)
            .values((
                comments::post_id.eq(post.id),
                comments::user_id.eq(actor.id),
                comments::body.eq(body.as_str()),
                comments::created_at.eq(now),
                comments::updated_at.eq(now),
            ))
            .returning(crate::db::columns_of::<Comment>())
            .get_result::<Comment>(conn)?;
        Comment::with_author(conn, comment)
    })
    .await
}

/// Comment `id` for `actor` to change: 404 if they cannot see it, 403 if
/// it is not theirs.
pub async fn editable(db: &Db<'_>, actor: &User, id: i32) -> AppResult<(CommentWithAuthor, Post)> {
    let actor = actor.clone();
    db.read(move |conn| {
        let (found, post) = Comment::find_visible(conn, id, Some(&actor))?;
        if !found.comment.can_be_edited_by(&actor) {
            return Err(AppError::Forbidden("only its author can edit a comment"));
        }
        Ok((found, post))
    })
    .await
}

/// Comment `id` for `actor` to delete: 404 if they cannot see it, 403 if
/// they may not.
pub async fn deletable(db: &Db<'_>, actor: &User, id: i32) -> AppResult<(CommentWithAuthor, Post)> {
    let actor = actor.clone();
    db.read(move |conn| deletable_in(conn, &actor, id)).await
}

fn deletable_in(
    conn: &mut DbConnection,
    actor: &User,
    id: i32,
) -> AppResult<(CommentWithAuthor, Post)> {
    let (found, post) = Comment::find_visible(conn, id, Some(actor))?;
    if !found.comment.can_be_deleted_by(actor, &post) {
        return Err(AppError::Forbidden(
            "only its author, the post's author or an admin can delete a comment",
        ));
    }
    Ok((found, post))
}

/// `actor` changes their comment `id` to `body`.
pub async fn edit(
    db: &Db<'_>,
    actor: &User,
    id: i32,
    body: CommentBody,
) -> AppResult<CommentWithAuthor> {
    let actor = actor.clone();
    db.write(move |conn| {
        let (found, _post) = Comment::find_visible(conn, id, Some(&actor))?;
        if !found.comment.can_be_edited_by(&actor) {
            return Err(AppError::Forbidden("only its author can edit a comment"));
        }
        let comment = diesel::update(comments::table.find(id))
            .set((
                comments::body.eq(body.as_str()),
                comments::updated_at.eq(now()),
            ))
            .returning(crate::db::columns_of::<Comment>())
            .get_result::<Comment>(conn)?;
        Comment::with_author(conn, comment)
    })
    .await
}

/// `actor` deletes comment `id`; returns the post it was on.
pub async fn delete(db: &Db<'_>, actor: &User, id: i32) -> AppResult<Post> {
    let actor = actor.clone();
    db.write(move |conn| {
        let (_found, post) = deletable_in(conn, &actor, id)?;
        diesel::delete(comments::table.find(id)).execute(conn)?;
        Ok(post)
    })
    .await
}

/// Hides (or shows again) every comment of account `user`, inside the
/// suspension's transaction.
pub(crate) fn set_hidden_for(conn: &mut DbConnection, user: i32, hidden: bool) -> AppResult<()> {
    diesel::update(comments::table.filter(comments::user_id.eq(user)))
        .set(comments::hidden.eq(hidden))
        .execute(conn)?;
    Ok(())
}
