//! Posts: the list, a post, writing, editing and deleting.

use std::collections::HashMap;

use rocket::fs::TempFile;
use rocket::http::uri::Origin;
use rocket::tokio::io::AsyncReadExt;
use rocket::{get, post, routes, FromForm, Route, State};
use serde::Serialize;
use serde_json::{json, Value};

use super::csrf_form::{Confirmation, CsrfForm};
use super::views::{post_page, PostCard};
use super::{done, form_error, pager, Layout, PageResponse, PageResult, Paging};
use crate::auth::CurrentUser;
use crate::db::{Db, Writer};
use crate::error::{AppError, AppResult};
use crate::images::{self, Uploads};
use crate::models::post::{PostDraft, PostFilter, PostPatch};
use crate::models::post_views::{self, ViewCounter};
use crate::models::{Page, Post, PostWithAuthor};

pub fn routes() -> Vec<Route> {
    routes![
        list,
        show,
        new_form,
        create,
        edit_form,
        edit,
        delete_form,
        delete
    ]
}

/// `GET /posts?page|after|before`: newest first.
#[get("/posts?<paging..>")]
async fn list(layout: Layout<'_>, db: Db<'_>, uri: &Origin<'_>, paging: Paging) -> PageResult {
    let slice = paging.slice_of(Page::DEFAULT_PER_PAGE)?;
    let viewer = layout.viewer.clone();
    let (window, total) = db
        .read(move |conn| Post::list(conn, PostFilter::default(), viewer.as_ref(), slice))
        .await?;
    let posts: Vec<PostCard> = window.items.iter().map(PostCard::from).collect();
    Ok(PageResponse::Page(layout.render(
        "posts/list",
        json!({"posts": posts, "pager": pager(uri, &window, total)}),
    )))
}

/// `GET /posts/<id>`: the post, its Markdown rendered safe. Each view counts.
#[get("/posts/<id>")]
async fn show(layout: Layout<'_>, db: Db<'_>, views: &State<ViewCounter>, id: i32) -> PageResult {
    let viewer = layout.viewer.clone();
    let mut item = db
        .read(move |conn| Post::find_visible(conn, id, viewer.as_ref()))
        .await?;
    let (unwritten, batch) = views.record(id);
    item.post.views += unwritten;
    if let Some(batch) = batch {
        write_views_in_background(db.writer()?.clone(), views.inner().clone(), batch);
    }
    let can_edit = layout
        .viewer
        .as_ref()
        .is_some_and(|v| item.post.can_be_edited_by(v));
    let mut page = post_page(&item);
    page["can_edit"] = json!(can_edit);
    Ok(PageResponse::Page(layout.render("posts/show", page)))
}

/// Hands a second's views to the writer without making this visitor wait:
/// at a million posts a batch updates thousands of rows scattered over the
/// file, which took the request that closed the batch 300 ms
/// (docs/PERFORMANCE.md). Views are a statistic: a busy writer must not
/// fail anything, and a batch that is not written is tried again with the
/// next one.
fn write_views_in_background(writer: Writer, views: ViewCounter, batch: HashMap<i32, i32>) {
    rocket::tokio::spawn(async move {
        let result = writer
            .write(move |conn| post_views::write_batch(conn, &batch, post_views::today()))
            .await;
        if let Err(error) = &result {
            log::warn!("post views not written yet: {error}");
        }
        views.written(result.is_ok());
    });
}

/// The post form, sent as `multipart/form-data` for its image.
#[derive(FromForm, Serialize)]
pub struct PostForm<'r> {
    title: String,
    content: String,
    /// A checkbox: absent when unticked.
    published: bool,
    /// Browsers send an empty part when no file was chosen.
    #[serde(skip)]
    image: Option<TempFile<'r>>,
    /// On the edit form: drop the current image.
    #[serde(skip)]
    #[field(default = false)]
    remove_image: bool,
}

/// The validated text with the form's image, checked too: both are checked
/// before anything is stored.
async fn with_image<T>(
    text: AppResult<T>,
    uploads: &Uploads,
    form: &PostForm<'_>,
) -> AppResult<(T, Option<Vec<u8>>)> {
    let text = text?;
    Ok((text, chosen_image(uploads, form.image.as_ref()).await?))
}

/// The chosen file's bytes, checked to be an image we accept; `None` when
/// no file was chosen.
async fn chosen_image(
    uploads: &Uploads,
    file: Option<&TempFile<'_>>,
) -> AppResult<Option<Vec<u8>>> {
    let Some(file) = file.filter(|file| file.len() > 0) else {
        return Ok(None);
    };
    let unreadable =
        |e: std::io::Error| AppError::BadRequest(format!("the upload could not be read: {e}"));
    let reader = file.open().await.map_err(unreadable)?;
    rocket::tokio::pin!(reader);
    let mut bytes = Vec::with_capacity(file.len() as usize);
    reader.read_to_end(&mut bytes).await.map_err(unreadable)?;
    uploads.check(&bytes)?;
    Ok(Some(bytes))
}

/// What the post form shows: the values, the post being edited (if any),
/// and the image size limit.
fn form_page(uploads: &Uploads, values: impl Serialize, post: Option<PostCard>) -> Value {
    json!({
        "values": values,
        "post": post,
        "max_image": images::describe_size(uploads.max_bytes()),
    })
}

/// `GET /posts/new`
#[get("/posts/new")]
fn new_form(_author: CurrentUser, layout: Layout<'_>, uploads: &State<Uploads>) -> PageResponse {
    let page = form_page(uploads, json!({"published": true}), None);
    PageResponse::Page(layout.render("posts/form", page))
}

/// `POST /posts/new`
#[post("/posts/new", data = "<form>")]
async fn create(
    author: CurrentUser,
    layout: Layout<'_>,
    db: Db<'_>,
    uploads: &State<Uploads>,
    form: CsrfForm<PostForm<'_>>,
) -> PageResult {
    let draft = PostDraft {
        title: form.title.clone(),
        content: form.content.clone(),
        published: Some(form.published),
    };
    let (new, image) = match with_image(draft.validate(), uploads, &form).await {
        Ok(checked) => checked,
        Err(error) => {
            return form_error(
                &layout,
                "posts/form",
                error,
                form_page(uploads, &*form, None),
            )
        }
    };
    let item = images::create_post(&db, uploads, &author.user, new, image).await?;
    let message = if item.post.published {
        "Post published."
    } else {
        "Draft saved."
    };
    done(format!("/posts/{}", item.post.id), message)
}

/// Loads post `id` for `actor` to change: 404 if they cannot see it, 403 if
/// it is not theirs.
async fn editable(db: &Db<'_>, actor: &CurrentUser, id: i32) -> AppResult<PostWithAuthor> {
    let user = actor.user.clone();
    let item = db
        .read(move |conn| Post::find_visible(conn, id, Some(&user)))
        .await?;
    if !item.post.can_be_edited_by(&actor.user) {
        return Err(AppError::Forbidden(
            "only the author or an admin can change this post",
        ));
    }
    Ok(item)
}

/// `GET /posts/<id>/edit`
#[get("/posts/<id>/edit")]
async fn edit_form(
    actor: CurrentUser,
    layout: Layout<'_>,
    db: Db<'_>,
    uploads: &State<Uploads>,
    id: i32,
) -> PageResult {
    let item = editable(&db, &actor, id).await?;
    let values = json!({"title": item.post.title, "content": item.post.content, "published": item.post.published});
    let page = form_page(uploads, values, Some(PostCard::from(&item)));
    Ok(PageResponse::Page(layout.render("posts/form", page)))
}

/// `POST /posts/<id>/edit`
#[post("/posts/<id>/edit", data = "<form>")]
async fn edit(
    actor: CurrentUser,
    layout: Layout<'_>,
    db: Db<'_>,
    uploads: &State<Uploads>,
    id: i32,
    form: CsrfForm<PostForm<'_>>,
) -> PageResult {
    let item = editable(&db, &actor, id).await?;
    let patch = PostPatch {
        title: Some(form.title.clone()),
        content: Some(form.content.clone()),
        published: Some(form.published),
    };
    let (changes, image) = match with_image(patch.validate(), uploads, &form).await {
        Ok(checked) => checked,
        Err(error) => {
            let page = form_page(uploads, &*form, Some(PostCard::from(&item)));
            return form_error(&layout, "posts/form", error, page);
        }
    };
    let user = actor.user.clone();
    db.write(move |conn| Post::update(conn, &user, id, &changes))
        .await?;
    match image {
        Some(bytes) => drop(images::attach(&db, uploads, &actor.user, id, &bytes).await?),
        None if form.remove_image => drop(images::detach(&db, uploads, &actor.user, id).await?),
        None => {}
    }
    done(format!("/posts/{id}"), "Post saved.")
}

/// `GET /posts/<id>/delete`: asks first.
#[get("/posts/<id>/delete")]
async fn delete_form(actor: CurrentUser, layout: Layout<'_>, db: Db<'_>, id: i32) -> PageResult {
    let item = editable(&db, &actor, id).await?;
    Ok(PageResponse::Page(layout.render(
        "posts/delete",
        json!({"post": PostCard::from(&item)}),
    )))
}

/// `POST /posts/<id>/delete`
#[post("/posts/<id>/delete", data = "<_confirmed>")]
async fn delete(
    actor: CurrentUser,
    db: Db<'_>,
    uploads: &State<Uploads>,
    id: i32,
    _confirmed: CsrfForm<Confirmation>,
) -> PageResult {
    let author_id = editable(&db, &actor, id).await?.author.id;
    images::delete_post(&db, uploads, &actor.user, id).await?;
    done(format!("/users/{author_id}"), "Post deleted.")
}
