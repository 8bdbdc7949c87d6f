//! What the API shows of users and posts: the JSON bodies of its answers.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;

use crate::domain::comments::CommentWithAuthor;
use crate::domain::markdown;
use crate::domain::page::Window;
use crate::domain::post_views::Trending;
use crate::domain::search::SearchHit;
use crate::domain::{PostWithAuthor, Role, User};

/// Stored timestamps are UTC; say so in the JSON (`...Z`).
fn utc(time: NaiveDateTime) -> DateTime<Utc> {
    time.and_utc()
}

#[derive(Debug, Serialize)]
pub struct UserBody {
    pub id: i32,
    pub uid: String,
    pub name: String,
    /// Only for the user themself and admins: absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<Option<String>>,
    /// Whether the address is verified: shown with `email`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    pub dob: Option<NaiveDate>,
    pub age: Option<u32>,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub post_count: i64,
    /// For admins only: since when and why the account is suspended
    /// (`null`: it is not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspension: Option<Option<SuspensionBody>>,
}

#[derive(Debug, Serialize)]
pub struct SuspensionBody {
    pub since: DateTime<Utc>,
    pub reason: String,
}

impl UserBody {
    pub fn new(user: &User, viewer: Option<&User>) -> Self {
        UserBody {
            id: user.id,
            uid: user.uid.clone(),
            name: user.name.clone(),
            email: user.email_visible_to(viewer).then(|| user.email.clone()),
            email_verified: user
                .email_visible_to(viewer)
                .then_some(user.email_verified_at.is_some()),
            dob: user.dob,
            age: user.age_on(Utc::now().date_naive()),
            role: user.role,
            created_at: utc(user.created_at),
            updated_at: utc(user.updated_at),
            post_count: user.published_posts.into(),
            suspension: viewer.is_some_and(User::is_admin).then(|| {
                user.suspended_at.map(|since| SuspensionBody {
                    since: utc(since),
                    reason: user.suspension_reason.clone().unwrap_or_default(),
                })
            }),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct AuthorBody {
    pub id: i32,
    pub uid: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct PostBody {
    pub id: i32,
    pub title: String,
    /// Markdown source.
    pub content: String,
    /// The image's URL (`/uploads/<name>`), if the post has one.
    pub image: Option<String>,
    pub published: bool,
    pub views: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it was published, or (not published yet) will be; `null`: a draft.
    pub publish_at: Option<DateTime<Utc>>,
    /// Comments shown on it.
    pub comments: i32,
    /// Its author closed it to new comments.
    pub comments_closed: bool,
    /// Its tags, alphabetical.
    pub tags: Vec<String>,
    pub author: AuthorBody,
    /// Search results only: words around the match, as HTML (escaped, the
    /// hits in `<mark>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet_html: Option<String>,
}

/// A comment.
#[derive(Debug, Serialize)]
pub struct CommentJson {
    pub id: i32,
    pub post_id: i32,
    /// Markdown source.
    pub body: String,
    /// The body rendered: safe HTML, no images.
    pub body_html: Arc<str>,
    pub author: AuthorBody,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<CommentWithAuthor> for CommentJson {
    fn from(CommentWithAuthor { comment, author }: CommentWithAuthor) -> Self {
        CommentJson {
            id: comment.id,
            post_id: comment.post_id,
            body_html: markdown::comment_html(&comment.body),
            body: comment.body,
            author: AuthorBody {
                id: author.id,
                uid: author.uid,
                name: author.name,
            },
            created_at: utc(comment.created_at),
            updated_at: utc(comment.updated_at),
        }
    }
}

/// `GET /api/posts/trending`.
#[derive(Debug, Serialize)]
pub struct TrendingPage {
    /// The window, in days, today included.
    pub days: u64,
    pub items: Vec<TrendingBody>,
}

#[derive(Debug, Serialize)]
pub struct TrendingBody {
    #[serde(flatten)]
    pub post: PostBody,
    /// Views over the window (those of the last second may not be in yet).
    pub recent_views: i64,
}

impl From<Trending> for TrendingBody {
    fn from(hot: Trending) -> Self {
        TrendingBody {
            post: PostBody::from(hot.post),
            recent_views: hot.recent_views,
        }
    }
}

impl From<SearchHit> for PostBody {
    fn from(hit: SearchHit) -> Self {
        PostBody {
            snippet_html: Some(hit.snippet_html),
            ..PostBody::from(hit.post)
        }
    }
}

impl From<PostWithAuthor> for PostBody {
    fn from(PostWithAuthor { post, author, tags }: PostWithAuthor) -> Self {
        PostBody {
            id: post.id,
            title: post.title,
            content: post.content,
            image: post.image.map(|name| format!("/uploads/{name}")),
            published: post.published,
            views: post.views,
            created_at: utc(post.created_at),
            updated_at: utc(post.updated_at),
            publish_at: post.publish_at.map(utc),
            comments: post.comments,
            comments_closed: post.comments_closed,
            tags,
            author: AuthorBody {
                id: author.id,
                uid: author.uid,
                name: author.name,
            },
            snippet_html: None,
        }
    }
}

/// One slice of a listing, with links to its neighbours.
#[derive(Debug, Serialize)]
pub struct Paginated<T> {
    pub items: Vec<T>,
    /// The page number, when the slice was asked for by number (`page`);
    /// `null` when by cursor (`after`, `before`).
    pub page: Option<u32>,
    pub per_page: u32,
    pub total: i64,
    /// Search only: more posts match than were ranked, and `total` counts
    /// those ranked (see `domain::search::CANDIDATES`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub total_capped: bool,
    pub next: Option<String>,
    pub prev: Option<String>,
}

impl<T> Paginated<T> {
    /// `window` of the listing at `path`, whose links keep `others` (the
    /// listing's other query parameters, encoded).
    pub fn new(window: Window<T>, total: i64, path: &str, others: &[String]) -> Self {
        let (prev, next) = crate::web::paging::neighbours(path, &window, others);
        Paginated {
            page: window.number,
            per_page: window.per_page,
            total,
            total_capped: false,
            next,
            prev,
            items: window.items,
        }
    }
}

/// A short answer for a person: `{"message"}`.
#[derive(Serialize)]
pub struct Message {
    message: &'static str,
}

impl Message {
    pub fn new(message: &'static str) -> Self {
        Message { message }
    }
}
