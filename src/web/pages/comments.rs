//! Comments on the pages: the post page's comments block and its form,
//! and a comment's edit and delete pages. The rules are
//! `domain::comments`'; this file only reads forms and renders.

use rocket::form::FromForm;
use rocket::http::uri::Origin;
use rocket::{get, post, routes, Route, State};

use super::contexts::{
    CommentDeletePage, CommentEditPage, CommentValues, CommentsBlock, FormState, PostPage,
};
use super::csrf_form::{Confirmation, CsrfForm};
use super::posts::PostAddress;
use super::presenters::CommentCard;
use super::{done, form_error, pager, Layout, PageResponse, PageResult};
use crate::db::Db;
use crate::domain::comments::{self, Comment, CommentThrottle};
use crate::domain::error::AppError;
use crate::domain::fields::CommentBody;
use crate::domain::page::Slice;
use crate::domain::{CurrentUser, Post, PostWithAuthor, User};
use crate::web::site::Site;

/// Comments shown a page at a time under a post.
pub const PER_PAGE: u32 = 50;

pub fn routes() -> Vec<Route> {
    routes![create, edit_form, edit, delete_form, delete]
}

/// The post page: `item`, and the slice `slice` of its comments (pager
/// links on `base`, the post's address), with the comment form in `form`.
pub async fn post_page(
    db: &Db<'_>,
    site: &Site,
    viewer: Option<&User>,
    item: &PostWithAuthor,
    slice: Slice,
    base: &Origin<'_>,
    form: FormState<CommentValues>,
) -> Result<PostPage, AppError> {
    // The post was read (and found visible) by the caller: only its
    // comments are read here.
    let post = item.post.clone();
    let (window, total) = db
        .read(move |conn| Comment::list_of(conn, &post, slice))
        .await?;
    let items = window
        .items
        .iter()
        .map(|found| CommentCard::new(found, viewer, &item.post))
        .collect();
    let can_edit = viewer.is_some_and(|v| item.post.can_be_edited_by(v));
    let block = CommentsBlock {
        items,
        total,
        pager: pager(base, &window, total),
        open: item.post.published && !item.post.comments_closed,
        closed: item.post.comments_closed,
        form,
    };
    // The image's size for link previews: a file read, so not on this
    // async worker.
    let preview_image = match item.post.image.clone() {
        Some(name) => {
            let site = site.clone();
            rocket::tokio::task::spawn_blocking(move || site.image(&name))
                .await
                .ok()
                .flatten()
        }
        None => None,
    };
    Ok(PostPage::new(item, can_edit, block, preview_image))
}

#[derive(FromForm)]
pub struct CommentForm {
    body: String,
}

impl CommentForm {
    fn values(&self) -> CommentValues {
        CommentValues {
            body: self.body.clone(),
        }
    }

    fn validate(&self) -> Result<CommentBody, AppError> {
        CommentBody::parse(&self.body).map_err(|message| AppError::invalid_field("body", message))
    }
}

/// Comment `id` on its post's page: the slice of comments that ends with
/// it, scrolled to it.
fn comment_address(post: &Post, id: i32) -> String {
    format!(
        "{}?{}#comment-{id}",
        post.path(),
        comments::slice_ending_at(id).query()
    )
}

/// `POST /posts/<id>/comments`: comments on the post and goes back to the
/// comment; a mistake shows the post page again with the text kept.
#[post("/posts/<address>/comments", data = "<form>")]
async fn create(
    actor: CurrentUser,
    layout: Layout<'_>,
    db: Db<'_>,
    site: &State<Site>,
    throttle: &State<CommentThrottle>,
    address: PostAddress<'_>,
    form: CsrfForm<CommentForm>,
) -> PageResult {
    let id = address.id;
    let made = match form.validate() {
        Ok(body) => comments::create(&db, throttle, &actor.user, id, body).await,
        Err(error) => Err(error),
    };
    match made {
        Ok(made) => {
            let viewer = actor.user.clone();
            let post = db
                .read(move |conn| Post::find_visible(conn, id, Some(&viewer)))
                .await?;
            done(
                comment_address(&post.post, made.comment.id),
                "Comment added.",
            )
        }
        Err(error @ AppError::Validation { .. }) => {
            let viewer = actor.user.clone();
            let item = db
                .read(move |conn| Post::find_visible(conn, id, Some(&viewer)))
                .await?;
            // A post's path is always a valid origin (digits and slug words).
            let base = Origin::parse_owned(item.post.path())
                .map_err(|e| AppError::Internal(e.to_string().into()))?;
            let page = post_page(
                &db,
                site,
                Some(&actor.user),
                &item,
                Slice::first(PER_PAGE),
                &base,
                FormState::new(form.values()),
            )
            .await?;
            form_error(&layout, error, page)
        }
        Err(other) => Err(other),
    }
}

/// `GET /comments/<id>/edit`: the comment's author only.
#[get("/comments/<id>/edit")]
async fn edit_form(actor: CurrentUser, layout: Layout<'_>, db: Db<'_>, id: i32) -> PageResult {
    let (found, post) = comments::editable(&db, &actor.user, id).await?;
    let values = CommentValues {
        body: found.comment.body.clone(),
    };
    Ok(PageResponse::Page(layout.render(CommentEditPage {
        form: FormState::new(values),
        id,
        post_title: post.title.clone(),
        post_path: post.path(),
    })))
}

/// `POST /comments/<id>/edit`
#[post("/comments/<id>/edit", data = "<form>")]
async fn edit(
    actor: CurrentUser,
    layout: Layout<'_>,
    db: Db<'_>,
    id: i32,
    form: CsrfForm<CommentForm>,
) -> PageResult {
    let (_found, post) = comments::editable(&db, &actor.user, id).await?;
    let changed = match form.validate() {
        Ok(body) => comments::edit(&db, &actor.user, id, body).await,
        Err(error) => Err(error),
    };
    match changed {
        Ok(_) => done(comment_address(&post, id), "Comment saved."),
        Err(error) => {
            let page = CommentEditPage {
                form: FormState::new(form.values()),
                id,
                post_title: post.title.clone(),
                post_path: post.path(),
            };
            form_error(&layout, error, page)
        }
    }
}

/// `GET /comments/<id>/delete`: asks first.
#[get("/comments/<id>/delete")]
async fn delete_form(actor: CurrentUser, layout: Layout<'_>, db: Db<'_>, id: i32) -> PageResult {
    let (found, post) = comments::deletable(&db, &actor.user, id).await?;
    Ok(PageResponse::Page(layout.render(CommentDeletePage {
        comment: CommentCard::new(&found, Some(&actor.user), &post),
        post_title: post.title.clone(),
        post_path: post.path(),
    })))
}

/// `POST /comments/<id>/delete`
#[post("/comments/<id>/delete", data = "<_confirmed>")]
async fn delete(
    actor: CurrentUser,
    db: Db<'_>,
    id: i32,
    _confirmed: CsrfForm<Confirmation>,
) -> PageResult {
    let post = comments::delete(&db, &actor.user, id).await?;
    done(format!("{}#comments", post.path()), "Comment deleted.")
}
