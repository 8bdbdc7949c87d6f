//! Posts: the list, a post, writing, editing and deleting.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rocket::fs::TempFile;
use rocket::http::uri::Origin;
use rocket::http::Status;
use rocket::request::{FromParam, FromRequest, Outcome, Request};
use rocket::tokio::io::AsyncReadExt;
use rocket::{get, post, routes, FromForm, Route, State};

use super::comments;
use super::contexts::{FormState, PostDeletePage, PostFormPage, PostListPage, PostValues};
use super::csrf_form::{Confirmation, CsrfForm};
use super::presenters::{views_text, when, PostCard};
use super::{
    done, form_error, pager, refused, Html, Layout, Moved, PageResponse, PageResult, Paging,
};
use crate::db::{Db, ReadCache};
use crate::domain::error::{AppError, AppResult};
use crate::domain::images::{self, Uploads};
use crate::domain::post::{parse_local_time, PostDraft, PostFilter, PostPatch, Publication};
use crate::domain::post_views::ViewCounter;
use crate::domain::posts::{self, ImageChange, ShownPosts, WritingRules};
use crate::domain::tags::TagList;
use crate::domain::CurrentUser;
use crate::domain::{Page, Post};
use crate::web::site::Site;

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

/// A post page's address as asked for: `<id>-<slug>`, or an older form
/// (`<id>` alone, a slug from an earlier title). The edit and delete pages
/// below it take any form (`/posts/12-old-title/edit` edits post 12).
pub struct PostAddress<'r> {
    pub id: i32,
    asked: &'r str,
}

impl<'r> FromParam<'r> for PostAddress<'r> {
    type Error = &'r str;

    fn from_param(param: &'r str) -> Result<Self, Self::Error> {
        let digits = param.split_once('-').map_or(param, |(id, _)| id);
        // Digits only: `+5` or ` 5` would parse, but are not addresses.
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(param);
        }
        let id = digits.parse().map_err(|_| param)?;
        Ok(PostAddress { id, asked: param })
    }
}

/// `GET /posts/<id>-<slug>`: the post, its Markdown rendered safe. Each
/// view counts. Any other form of the address (`/posts/<id>`, a stale
/// slug) answers 301 to the current one, its query kept, so old links keep
/// working after a title changes.
///
/// A reader who is not logged in gets the page from [`KeptPages`] when
/// nothing was committed since it was rendered, the view count put in.
#[get("/posts/<address>?<paging..>")]
async fn show(
    layout: Layout<'_>,
    db: Db<'_>,
    reading: Reading<'_>,
    site: &State<Site>,
    uri: &Origin<'_>,
    address: PostAddress<'_>,
    paging: Paging,
) -> PageResult {
    let id = address.id;
    let key = (id, uri.query().map(|query| query.as_str().to_owned()));
    let fresh = match layout.for_any_reader() {
        true => Some(db.freshness().await?),
        false => None,
    };
    if let Some(kept) = fresh.and_then(|fresh| reading.pages.current(&key, &fresh)) {
        if let Some(moved) = moved(&kept.path, &address, uri) {
            return Ok(moved);
        }
        let views = kept.views_written + reading.views.record(id);
        return Ok(PageResponse::Page(Html::rendered(kept.with_views(views))));
    }
    let mut item = posts::find_visible(&db, reading.shown, id, layout.viewer.as_ref()).await?;
    if let Some(moved) = moved(&item.post.path(), &address, uri) {
        return Ok(moved);
    }
    // The page's own query is the comments' paging.
    let slice = paging.slice_of(comments::PER_PAGE)?;
    let views_written = item.post.views;
    let views = views_written + reading.views.record(id);
    item.post.views = views;
    let mut page = comments::post_page(
        &db,
        site,
        layout.viewer.as_ref(),
        &item,
        slice,
        uri,
        FormState::default(),
    )
    .await?;
    let Some(fresh) = fresh else {
        return Ok(PageResponse::Page(layout.render(page)));
    };
    page.views = VIEWS_SLOT.to_owned();
    let html = layout.render_now(page)?;
    let Some((before, after)) = html.split_once(VIEWS_SLOT) else {
        return Err(AppError::Internal(
            "the post page shows no view count".into(),
        ));
    };
    let kept = KeptPage {
        path: item.post.path(),
        views_written,
        before: before.to_owned(),
        after: after.to_owned(),
    };
    let html = kept.with_views(views);
    reading.pages.keep(key, &fresh, Arc::new(kept));
    Ok(PageResponse::Page(Html::rendered(html)))
}

/// The 301 to `path` (the query kept) if the post was asked for at another
/// address.
fn moved(path: &str, address: &PostAddress<'_>, uri: &Origin<'_>) -> Option<PageResponse> {
    if path.strip_prefix("/posts/") == Some(address.asked) {
        return None;
    }
    let to = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    Some(PageResponse::Moved(Moved::to(to)))
}

/// What showing a post uses besides the database.
pub struct Reading<'r> {
    shown: &'r ShownPosts,
    pages: &'r KeptPages,
    views: &'r ViewCounter,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Reading<'r> {
    type Error = &'static str;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let rocket = request.rocket();
        match (rocket.state(), rocket.state(), rocket.state()) {
            (Some(shown), Some(pages), Some(views)) => Outcome::Success(Reading {
                shown,
                pages,
                views,
            }),
            _ => Outcome::Error((
                Status::InternalServerError,
                "the post caches are not managed",
            )),
        }
    }
}

/// Post pages as rendered for readers who are not logged in, by post and
/// query, until the database changes (a [`ReadCache`]: a view written, a
/// comment, an edit anywhere). The view count is the one part that
/// changes with every view, so it is left out and put in for each.
/// Bounded: 8 MiB of pages, the least used going first. Managed by Rocket.
pub struct KeptPages(ReadCache<(i32, Option<String>), Arc<KeptPage>>);

impl Default for KeptPages {
    fn default() -> Self {
        KeptPages(ReadCache::new("post_pages", 2048, 8 << 20, |page| {
            (page.before.len() + page.after.len() + page.path.len() + 128) as u64
        }))
    }
}

impl std::ops::Deref for KeptPages {
    type Target = ReadCache<(i32, Option<String>), Arc<KeptPage>>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

/// Where the view count goes in a kept page: an HTML comment, which no
/// text on the page can make (titles and names are escaped, and the
/// Markdown's HTML is cleaned of comments), so it is found only there.
const VIEWS_SLOT: &str = "<!--views-->";

/// A post page rendered, split where its view count goes.
pub struct KeptPage {
    /// The post's address, to send other forms of it on (301).
    path: String,
    /// The views stored when it was rendered (those counted since are the
    /// view counter's).
    views_written: i32,
    before: String,
    after: String,
}

impl KeptPage {
    fn with_views(&self, views: i32) -> String {
        let views = views_text(views);
        let mut html = String::with_capacity(self.before.len() + views.len() + self.after.len());
        html.push_str(&self.before);
        html.push_str(&views);
        html.push_str(&self.after);
        html
    }
}

/// The post form, sent as `multipart/form-data` for its image.
#[derive(FromForm)]
pub struct PostForm<'r> {
    title: String,
    content: String,
    /// A checkbox: absent when unticked.
    published: bool,
    /// Separated by commas or spaces.
    #[field(default = String::new())]
    tags: String,
    /// `datetime-local`: the writer's local time, blank for none.
    #[field(default = String::new())]
    publish_at: String,
    /// Minutes east of UTC, filled in by the page's script; blank: UTC.
    #[field(default = String::new())]
    utc_offset: String,
    #[field(default = false)]
    comments_closed: bool,
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
            tags: self.tags.clone(),
            publish_at: self.publish_at.clone(),
            utc_offset: self.utc_offset.clone(),
            publish_at_utc: None,
            comments_closed: self.comments_closed,
        }
    }

    /// The publication fields as the API takes them. A ticked "published"
    /// with a time means "at that time", so the box need not be unticked to
    /// schedule.
    fn publication(&self) -> AppResult<(Option<bool>, Option<DateTime<Utc>>)> {
        let at = parse_local_time(&self.publish_at, &self.utc_offset)
            .map_err(|message| AppError::invalid_field("publish_at", &message))?
            .map(|at| at.and_utc());
        let published = match at {
            Some(_) if self.published => None,
            _ => Some(self.published),
        };
        Ok((published, at))
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
        tags: String::new(),
        publish_at: String::new(),
        utc_offset: String::new(),
        publish_at_utc: None,
        comments_closed: false,
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
    let draft = form.publication().map(|(published, publish_at)| PostDraft {
        title: form.title.clone(),
        content: form.content.clone(),
        published,
        publish_at,
        tags: Some(TagList::typed_words(&form.tags)),
        comments_closed: Some(form.comments_closed),
    });
    let new = draft.and_then(|draft| draft.validate());
    let (new, image) = match with_image(new, uploads, &form).await {
        Ok(checked) => checked,
        Err(error) => return form_error(&layout, error, form_page(uploads, form.values(), None)),
    };
    let item = posts::create(&db, uploads, rules, &author.user, new, image).await?;
    let message = match item.post.publication() {
        Publication::Published(_) => "Post published.".to_owned(),
        Publication::Scheduled(at) => format!("Post scheduled for {}.", when(at)),
        Publication::Draft => "Draft saved.".to_owned(),
    };
    done(item.post.path(), message)
}

/// `GET /posts/<id>/edit`
#[get("/posts/<address>/edit")]
async fn edit_form(
    actor: CurrentUser,
    layout: Layout<'_>,
    db: Db<'_>,
    uploads: &State<Uploads>,
    address: PostAddress<'_>,
) -> PageResult {
    let id = address.id;
    let item = posts::editable(&db, &actor.user, id).await?;
    // A scheduled post shows its time; the page's script turns the UTC
    // value into the writer's local time.
    let scheduled = match item.post.publication() {
        Publication::Scheduled(at) => Some(at.format("%Y-%m-%dT%H:%M").to_string()),
        _ => None,
    };
    let values = PostValues {
        title: item.post.title.clone(),
        content: item.post.content.clone(),
        published: item.post.published,
        tags: item.tags.join(", "),
        publish_at: scheduled.clone().unwrap_or_default(),
        utc_offset: String::new(),
        publish_at_utc: scheduled,
        comments_closed: item.post.comments_closed,
    };
    let page = form_page(uploads, values, Some(PostCard::from(&item)));
    Ok(PageResponse::Page(layout.render(page)))
}

/// `POST /posts/<id>/edit`
#[post("/posts/<address>/edit", data = "<form>")]
async fn edit(
    actor: CurrentUser,
    layout: Layout<'_>,
    db: Db<'_>,
    uploads: &State<Uploads>,
    address: PostAddress<'_>,
    form: CsrfForm<PostForm<'_>>,
) -> PageResult {
    let id = address.id;
    let item = posts::editable(&db, &actor.user, id).await?;
    let patch = form.publication().map(|(published, publish_at)| PostPatch {
        title: Some(form.title.clone()),
        content: Some(form.content.clone()),
        published,
        publish_at,
        tags: Some(TagList::typed_words(&form.tags)),
        comments_closed: Some(form.comments_closed),
    });
    let changes = patch.and_then(|patch| patch.validate());
    let (changes, image) = match with_image(changes, uploads, &form).await {
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
    let item = posts::edit(&db, uploads, &actor.user, id, Some(changes), image).await?;
    done(item.post.path(), "Post saved.")
}

/// `GET /posts/<id>/delete`: asks first.
#[get("/posts/<address>/delete")]
async fn delete_form(
    actor: CurrentUser,
    layout: Layout<'_>,
    db: Db<'_>,
    address: PostAddress<'_>,
) -> PageResult {
    let item = posts::editable(&db, &actor.user, address.id).await?;
    Ok(PageResponse::Page(layout.render(PostDeletePage {
        post: PostCard::from(&item),
    })))
}

/// `POST /posts/<id>/delete`
#[post("/posts/<address>/delete", data = "<_confirmed>")]
async fn delete(
    actor: CurrentUser,
    db: Db<'_>,
    uploads: &State<Uploads>,
    address: PostAddress<'_>,
    _confirmed: CsrfForm<Confirmation>,
) -> PageResult {
    let id = address.id;
    let author_id = posts::editable(&db, &actor.user, id).await?.author.id;
    posts::delete(&db, uploads, &actor.user, id).await?;
    done(format!("/users/{author_id}"), "Post deleted.")
}
