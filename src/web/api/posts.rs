//! `/api/posts`: posts.

use rocket::data::{ByteUnit, Data};
use rocket::http::RawStr;
use rocket::response::status::{Created, NoContent};
use rocket::serde::json::Json;
use rocket::{delete, get, patch, post, put, routes, Route, State};

use super::{body, JsonBody, Paginated, PostBody, TrendingBody, TrendingPage};
use crate::db::Db;
use crate::domain::error::{AppError, AppResult};
use crate::domain::images::Uploads;
use crate::domain::post::{PostDraft, PostFilter, PostPatch};
use crate::domain::post_views::{self, TrendingBoard, ViewCounter};
use crate::domain::posts::{self, ImageChange, ShownPosts, WritingRules};
use crate::domain::search::{self, SearchQuery};
use crate::domain::tags::{self, TagName};
use crate::domain::Post;
use crate::domain::{CurrentUser, Viewer};
use crate::web::paging::Paging;

pub fn routes() -> Vec<Route> {
    routes![
        list,
        trending,
        show,
        create,
        update,
        remove,
        put_image,
        delete_image
    ]
}

/// `GET /api/posts?page&after&before&per_page&user&tag&q`: newest first;
/// published posts plus the caller's own drafts; `user=<id>` keeps one
/// author's; `tag=<name>` the published posts carrying that tag (alone:
/// not with `user` or `q`). `page` numbers the first pages; `next` and `prev` links go on
/// with cursors (`after`, `before`) as deep as the list goes. `q` searches
/// titles and content instead, best match first, each with a snippet, in
/// numbered pages over the newest matches (`total_capped` when more match).
#[get("/posts?<user>&<tag>&<q>&<paging..>")]
async fn list(
    viewer: Viewer,
    db: Db<'_>,
    user: Option<String>,
    tag: Option<String>,
    q: Option<String>,
    paging: Paging,
) -> AppResult<Json<Paginated<PostBody>>> {
    let slice = paging.slice()?;
    if let Some(raw) = tag {
        if user.is_some() || q.is_some() {
            return Err(AppError::invalid_field(
                "tag",
                "cannot be combined with user or q",
            ));
        }
        let name =
            TagName::parse(&raw).map_err(|message| AppError::invalid_field("tag", &message))?;
        let others = [
            format!("per_page={}", slice.per_page),
            format!("tag={}", name.as_str()),
        ];
        let (window, total) = db
            .read(move |conn| tags::posts_tagged(conn, &name, slice))
            .await?;
        return Ok(Json(Paginated::new(
            window.map(PostBody::from),
            total,
            "/api/posts",
            &others,
        )));
    }
    let author = match user.as_deref().map(str::trim) {
        None => None,
        Some(raw) => Some(
            raw.parse::<i32>()
                .map_err(|_| AppError::invalid_field("user", "must be a user id"))?,
        ),
    };
    let filter = PostFilter { author };
    let mut others = vec![format!("per_page={}", slice.per_page)];
    if let Some(author) = author {
        others.push(format!("user={author}"));
    }
    if let Some(typed) = q.as_deref() {
        others.push(format!("q={}", RawStr::new(typed).percent_encode()));
    }
    let Some(typed) = q.as_deref() else {
        let (window, total) = db
            .read(move |conn| Post::list(conn, filter, viewer.user(), slice))
            .await?;
        return Ok(Json(Paginated::new(
            window.map(PostBody::from),
            total,
            "/api/posts",
            &others,
        )));
    };
    let page = paging.page()?;
    // Nothing searchable (blank, or only punctuation): nothing found.
    let found = match SearchQuery::parse(typed) {
        None => None,
        Some(query) => Some(
            db.read_slow(move |conn| search::search(conn, &query, filter, viewer.user(), page))
                .await?,
        ),
    };
    let (hits, total, capped) = found.map_or((Vec::new(), 0, false), |found| {
        (found.hits, found.total, found.capped)
    });
    let items = hits.into_iter().map(PostBody::from).collect();
    Ok(Json(Paginated {
        total_capped: capped,
        ..Paginated::new(page.window(items, total), total, "/api/posts", &others)
    }))
}

/// `GET /api/posts/trending?limit`: the most viewed published posts of the
/// last seven days (default 10, at most 50), each with `recent_views`.
#[get("/posts/trending?<limit>")]
async fn trending(
    db: Db<'_>,
    board: &State<TrendingBoard>,
    limit: Option<String>,
) -> AppResult<Json<TrendingPage>> {
    let limit = match limit.as_deref().map(str::trim) {
        None => 10,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=50).contains(n))
            .ok_or_else(|| AppError::invalid_field("limit", "must be a number from 1 to 50"))?,
    };
    let hot = crate::web::trending::top(&db, board, limit).await?;
    Ok(Json(TrendingPage {
        days: post_views::TRENDING_DAYS,
        items: hot.into_iter().map(TrendingBody::from).collect(),
    }))
}

/// `GET /api/posts/<id>`: one post; a draft only for its author and admins.
#[get("/posts/<id>")]
async fn show(
    viewer: Viewer,
    db: Db<'_>,
    shown: &State<ShownPosts>,
    views: &State<ViewCounter>,
    id: i32,
) -> AppResult<Json<PostBody>> {
    let mut post = posts::find_visible(&db, shown, id, viewer.user()).await?;
    post.post.views += views.pending(id);
    Ok(Json(post.into()))
}

/// `POST /api/posts`: `{"title", "content", "published"?}` as the logged-in
/// user. 201 with the post and its `Location`.
#[post("/posts", data = "<draft>")]
async fn create(
    db: Db<'_>,
    author: CurrentUser,
    uploads: &State<Uploads>,
    rules: &State<WritingRules>,
    draft: JsonBody<PostDraft>,
) -> AppResult<Created<Json<PostBody>>> {
    let new = body(draft)?.validate()?;
    let post = posts::create(&db, uploads, rules, &author.user, new, None).await?;
    Ok(Created::new(format!("/api/posts/{}", post.post.id)).body(Json(post.into())))
}

/// `PATCH /api/posts/<id>`: change title, content or published. Author or
/// admin only.
#[patch("/posts/<id>", data = "<patch>")]
async fn update(
    db: Db<'_>,
    actor: CurrentUser,
    uploads: &State<Uploads>,
    id: i32,
    patch: JsonBody<PostPatch>,
) -> AppResult<Json<PostBody>> {
    let changes = body(patch)?.validate()?;
    let post = posts::edit(
        &db,
        uploads,
        &actor.user,
        id,
        Some(changes),
        ImageChange::Keep,
    )
    .await?;
    Ok(Json(post.into()))
}

/// `DELETE /api/posts/<id>`: author or admin only; its image goes too.
#[delete("/posts/<id>")]
async fn remove(
    actor: CurrentUser,
    db: Db<'_>,
    uploads: &State<Uploads>,
    id: i32,
) -> AppResult<NoContent> {
    posts::delete(&db, uploads, &actor.user, id).await?;
    Ok(NoContent)
}

/// `PUT /api/posts/<id>/image`: the request body is the image (JPEG, PNG,
/// GIF or WebP, told by its bytes, whatever the Content-Type says), at most
/// `max_image_bytes`. Replaces any image the post had. Author or admin.
#[put("/posts/<id>/image", data = "<data>")]
async fn put_image(
    actor: CurrentUser,
    db: Db<'_>,
    uploads: &State<Uploads>,
    id: i32,
    data: Data<'_>,
) -> AppResult<Json<PostBody>> {
    // Reading stops at the limit; a body that goes on is too large (413).
    let limit = ByteUnit::from(uploads.max_bytes());
    let bytes = data
        .open(limit)
        .into_bytes()
        .await
        .map_err(|e| AppError::BadRequest(format!("the upload could not be read: {e}")))?;
    if !bytes.is_complete() {
        return Err(AppError::PayloadTooLarge);
    }
    let image = ImageChange::Replace(bytes.into_inner());
    let post = posts::edit(&db, uploads, &actor.user, id, None, image).await?;
    Ok(Json(post.into()))
}

/// `DELETE /api/posts/<id>/image`: removes the post's image. Author or admin.
#[delete("/posts/<id>/image")]
async fn delete_image(
    actor: CurrentUser,
    db: Db<'_>,
    uploads: &State<Uploads>,
    id: i32,
) -> AppResult<Json<PostBody>> {
    let post = posts::edit(&db, uploads, &actor.user, id, None, ImageChange::Remove).await?;
    Ok(Json(post.into()))
}
