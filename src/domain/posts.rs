//! Post use cases: writing, editing and deleting a post together with its
//! image, for the API and the pages alike.
//!
//! Each is one write transaction (one writer job, so one savepoint: its
//! statements commit together or not at all). An image file is stored
//! *before* the transaction that names it, and removed again if that
//! transaction fails; the file it replaces is removed only *after* the
//! commit. A crash in between can leave an unreferenced file (the start-up
//! sweep removes those), never a row that points at nothing.
//!
//! Who may change a post is decided in one place, `Post::find_editable`:
//! inside each write here, and for the edit and delete forms through
//! [`editable`].

use std::sync::Arc;

use crate::db::{Db, ReadCache};
use crate::domain::error::{AppError, AppResult};
use crate::domain::images::Uploads;
use crate::domain::{NewPost, Post, PostChanges, PostWithAuthor, User};

/// What an edit does to the post's image.
pub enum ImageChange {
    Keep,
    /// A new image (its bytes, not yet checked), replacing any.
    Replace(Vec<u8>),
    Remove,
}

/// Posts as read for showing them (with author and tags), kept until the
/// database changes: a post is read far more often than written, and its
/// page and its API answer were most of their time in these statements.
/// Managed by Rocket. Bounded: 2 MiB, counting each post's texts and what
/// it takes besides (about 700 bytes: the struct, its allocations, the
/// cache's entry), the least used going first. Small on purpose: the
/// posts read most are the ones kept, and the server's memory under load
/// stays within its budget (docs/PERFORMANCE.md).
pub struct ShownPosts(ReadCache<i32, Arc<PostWithAuthor>>);

impl Default for ShownPosts {
    fn default() -> Self {
        ShownPosts(ReadCache::new("posts", 2048, 2 << 20, |found| {
            let post = &found.post;
            let texts = post.title.len()
                + post.content.len()
                + post.image.as_ref().map_or(0, String::len)
                + found.author.uid.len()
                + found.author.name.len()
                + found.tags.iter().map(|tag| tag.len() + 24).sum::<usize>();
            (texts + 700) as u64
        }))
    }
}

/// Post `id` if `viewer` may see it ([`Post::visible_to`]; someone else's
/// draft is "not found"), from `shown` when nothing changed since it was
/// read.
pub async fn find_visible(
    db: &Db<'_>,
    shown: &ShownPosts,
    id: i32,
    viewer: Option<&User>,
) -> AppResult<PostWithAuthor> {
    let found = db
        .read_cached(&shown.0, id, |conn| {
            Post::find_with_author(conn, id).map(Arc::new)
        })
        .await?;
    if !found.post.visible_to(viewer) {
        return Err(AppError::NotFound);
    }
    Ok(Arc::unwrap_or_clone(found))
}

/// Post `id`, for `actor` to change: 404 if they cannot see it, 403 if
/// they can see it but may not change it.
pub async fn editable(db: &Db<'_>, actor: &User, id: i32) -> AppResult<PostWithAuthor> {
    let actor = actor.clone();
    db.read(move |conn| {
        let post = Post::find_editable(conn, id, &actor)?;
        Post::with_author(conn, post)
    })
    .await
}

/// Creates a post by `author`, with `image` if given.
/// Who may write new posts, as configured. Managed by Rocket.
#[derive(Debug, Clone, Copy, Default)]
pub struct WritingRules {
    /// Only accounts whose email address is verified
    /// (`require_verified_email`).
    pub require_verified_email: bool,
}

/// Why an account may not write a post yet.
pub const VERIFY_FIRST: &str =
    "verify your email address before writing posts: the link was mailed to you";

impl WritingRules {
    /// Whether `author` may write a new post now.
    pub fn check(&self, author: &User) -> AppResult<()> {
        if self.require_verified_email && author.email_verified_at.is_none() {
            return Err(AppError::Forbidden(VERIFY_FIRST));
        }
        Ok(())
    }
}

pub async fn create(
    db: &Db<'_>,
    uploads: &Uploads,
    rules: &WritingRules,
    author: &User,
    new: NewPost,
    image: Option<Vec<u8>>,
) -> AppResult<PostWithAuthor> {
    rules.check(author)?;
    let stored = match &image {
        Some(bytes) => Some(uploads.save(bytes).await?),
        None => None,
    };
    let (author, name) = (author.clone(), stored.clone());
    let result = db
        .write(move |conn| {
            let post = Post::create(conn, &author, &new)?;
            match name {
                Some(name) => {
                    Post::set_image(conn, &author, post.post.id, Some(&name)).map(|(post, _)| post)
                }
                None => Ok(post),
            }
        })
        .await;
    if result.is_err() {
        uploads.remove(stored).await;
    }
    result
}

/// Changes post `id` as `actor`: its text when `changes` is given, and its
/// image as `image` says, both or neither.
pub async fn edit(
    db: &Db<'_>,
    uploads: &Uploads,
    actor: &User,
    id: i32,
    changes: Option<PostChanges>,
    image: ImageChange,
) -> AppResult<PostWithAuthor> {
    // The file goes to disk before the transaction that names it; the
    // bytes are checked on the way (a refusal stores nothing).
    let stored = match &image {
        ImageChange::Replace(bytes) => Some(uploads.save(bytes).await?),
        _ => None,
    };
    // What the row's image becomes: `None` to keep it as it is.
    let new_image: Option<Option<String>> = match image {
        ImageChange::Keep => None,
        ImageChange::Replace(_) => Some(stored.clone()),
        ImageChange::Remove => Some(None),
    };
    let actor = actor.clone();
    let result = db
        .write(move |conn| {
            let mut post = match &changes {
                Some(changes) => Some(Post::update(conn, &actor, id, changes)?),
                None => None,
            };
            let mut replaced = None;
            if let Some(name) = new_image {
                let (changed, old) = Post::set_image(conn, &actor, id, name.as_deref())?;
                post = Some(changed);
                replaced = old;
            }
            let post = match post {
                Some(post) => post,
                None => {
                    let post = Post::find_editable(conn, id, &actor)?;
                    Post::with_author(conn, post)?
                }
            };
            Ok((post, replaced))
        })
        .await;
    match result {
        Ok((post, replaced)) => {
            uploads.remove(replaced).await;
            Ok(post)
        }
        Err(error) => {
            uploads.remove(stored).await;
            Err(error)
        }
    }
}

/// Deletes post `id` as `actor`, then its image file.
pub async fn delete(db: &Db<'_>, uploads: &Uploads, actor: &User, id: i32) -> AppResult<()> {
    let actor = actor.clone();
    let image = db.write(move |conn| Post::delete(conn, &actor, id)).await?;
    uploads.remove(image).await;
    Ok(())
}
