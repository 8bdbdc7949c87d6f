//! Posts: the list, a post, writing, editing and deleting.

use rocket::fs::TempFile;
use rocket::http::uri::Origin;
use rocket::tokio::io::AsyncReadExt;
use rocket::{get, post, routes, FromForm, Route, State};

use super::contexts::{
    FormState, PostDeletePage, PostFormPage, PostListPage, PostPage, PostValues,
};
use super::csrf_form::{Confirmation, CsrfForm};
use super::presenters::PostCard;
use super::{done, form_error, pager, refused, Layout, PageResponse, PageResult, Paging};
use crate::db::Db;
use crate::domain::error::{AppError, AppResult};
use crate::domain::images::{self, Uploads};
use crate::domain::post::{PostDraft, PostFilter, PostPatch};
use crate::domain::post_views::ViewCounter;
use crate::domain::posts::{self, ImageChange, WritingRules};
use crate::domain::CurrentUser;
use crate::domain::{Page, Post};

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
    Ok(PageResponse::Page(layout.render(PostListPage {
        posts,
        pager: pager(uri, &window, total),
    })))
}

/// `GET /posts/<id>`: the post, its Markdown rendered safe. Each view counts.
#[get("/posts/<id>")]
async fn show(layout: Layout<'_>, db: Db<'_>, views: &State<ViewCounter>, id: i32) -> PageResult {
    let viewer = layout.viewer.clone();
    let mut item = db
        .read(move |conn| Post::find_visible(conn, id, viewer.as_ref()))
        .await?;
    item.post.views += views.record(id);
    let can_edit = layout
        .viewer
        .as_ref()
        .is_some_and(|v| item.post.can_be_edited_by(v));
    Ok(PageResponse::Page(
        layout.render(PostPage::new(&item, can_edit)),
    ))
}

/// The post form, sent as `multipart/form-data` for its image.
#[derive(FromForm)]
pub struct PostForm<'r> {
    title: String,
    content: String,
    /// A checkbox: absent when unticked.
    published: bool,
    /// Browsers send an empty part when no file was chosen.
    image: Option<TempFile<'r>>,
    /// On the edit form: drop the current image.
    #[field(default = false)]
    remove_image: bool,
}

impl PostForm<'_> {
    /// The fields to show again when the form comes back.
    fn values(&self) -> PostValues {
        PostValues {
            title: self.title.clone(),
            content: self.content.clone(),
            published: self.published,
        }
    }
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
fn form_page(uploads: &Uploads, values: PostValues, post: Option<PostCard>) -> PostFormPage {
    PostFormPage {
        form: FormState::new(values),
        post,
        max_image: images::describe_size(uploads.max_bytes()),
    }
}

/// `GET /posts/new`
#[get("/posts/new")]
fn new_form(
    author: CurrentUser,
    layout: Layout<'_>,
    uploads: &State<Uploads>,
    rules: &State<WritingRules>,
) -> PageResult {
    if rules.check(&author.user).is_err() {
        // To the profile, which says why and offers the link again.
        return refused(format!("/users/{}", author.user.id), posts::VERIFY_FIRST);
    }
    let values = PostValues {
        title: String::new(),
        content: String::new(),
        published: true,
    };
    Ok(PageResponse::Page(
        layout.render(form_page(uploads, values, None)),
    ))
}

/// `POST /posts/new`
#[post("/posts/new", data = "<form>")]
async fn create(
    author: CurrentUser,
    layout: Layout<'_>,
    db: Db<'_>,
    uploads: &State<Uploads>,
    rules: &State<WritingRules>,
    form: CsrfForm<PostForm<'_>>,
) -> PageResult {
    if rules.check(&author.user).is_err() {
        return refused(format!("/users/{}", author.user.id), posts::VERIFY_FIRST);
    }
    let draft = PostDraft {
        title: form.title.clone(),
        content: form.content.clone(),
        published: Some(form.published),
    };
    let (new, image) = match with_image(draft.validate(), uploads, &form).await {
        Ok(checked) => checked,
        Err(error) => return form_error(&layout, error, form_page(uploads, form.values(), None)),
    };
    let item = posts::create(&db, uploads, rules, &author.user, new, image).await?;
    let message = if item.post.published {
        "Post published."
    } else {
        "Draft saved."
    };
    done(format!("/posts/{}", item.post.id), message)
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
    let item = posts::editable(&db, &actor.user, id).await?;
    let values = PostValues {
        title: item.post.title.clone(),
        content: item.post.content.clone(),
        published: item.post.published,
    };
    let page = form_page(uploads, values, Some(PostCard::from(&item)));
    Ok(PageResponse::Page(layout.render(page)))
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
    let item = posts::editable(&db, &actor.user, id).await?;
    let patch = PostPatch {
        title: Some(form.title.clone()),
        content: Some(form.content.clone()),
        published: Some(form.published),
    };
    let (changes, image) = match with_image(patch.validate(), uploads, &form).await {
        Ok(checked) => checked,
        Err(error) => {
            let page = form_page(uploads, form.values(), Some(PostCard::from(&item)));
            return form_error(&layout, error, page);
        }
    };
    let image = match image {
        Some(bytes) => ImageChange::Replace(bytes),
        None if form.remove_image => ImageChange::Remove,
        None => ImageChange::Keep,
    };
    posts::edit(&db, uploads, &actor.user, id, Some(changes), image).await?;
    done(format!("/posts/{id}"), "Post saved.")
}

/// `GET /posts/<id>/delete`: asks first.
#[get("/posts/<id>/delete")]
async fn delete_form(actor: CurrentUser, layout: Layout<'_>, db: Db<'_>, id: i32) -> PageResult {
    let item = posts::editable(&db, &actor.user, id).await?;
    Ok(PageResponse::Page(layout.render(PostDeletePage {
        post: PostCard::from(&item),
    })))
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
    let author_id = posts::editable(&db, &actor.user, id).await?.author.id;
    posts::delete(&db, uploads, &actor.user, id).await?;
    done(format!("/users/{author_id}"), "Post deleted.")
}
