//! Comments on posts: `/api/posts/<id>/comments` and `/api/comments/<id>`.
//! The rules (who may comment, edit, delete) are `domain::comments`'.

use rocket::response::status::{Created, NoContent};
use rocket::serde::json::Json;
use rocket::{delete, get, patch, post, routes, Route, State};
use serde::Deserialize;

use super::{body, CommentJson, JsonBody, Paginated};
use crate::db::Db;
use crate::domain::comments::{self, Comment, CommentThrottle};
use crate::domain::error::{AppError, AppResult};
use crate::domain::fields::CommentBody;
use crate::domain::{CurrentUser, Viewer};
use crate::web::paging::Paging;

pub fn routes() -> Vec<Route> {
    routes![list, show, create, update, remove]
}

/// A comment as the client sent it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentDraft {
    pub body: String,
}

impl CommentDraft {
    fn validate(&self) -> AppResult<CommentBody> {
        CommentBody::parse(&self.body).map_err(|message| AppError::invalid_field("body", message))
    }
}

/// `GET /api/posts/<id>/comments?page&after&before&per_page`: the post's
/// comments, oldest first; 404 for a post the caller cannot see.
#[get("/posts/<id>/comments?<paging..>")]
async fn list(
    viewer: Viewer,
    db: Db<'_>,
    id: i32,
    paging: Paging,
) -> AppResult<Json<Paginated<CommentJson>>> {
    let slice = paging.slice()?;
    let (window, total) = db
        .read(move |conn| Comment::list(conn, id, viewer.user(), slice))
        .await?;
    let others = [format!("per_page={}", slice.per_page)];
    Ok(Json(Paginated::new(
        window.map(CommentJson::from),
        total,
        &format!("/api/posts/{id}/comments"),
        &others,
    )))
}

/// `GET /api/comments/<id>`: one comment.
#[get("/comments/<id>")]
async fn show(viewer: Viewer, db: Db<'_>, id: i32) -> AppResult<Json<CommentJson>> {
    let (found, _post) = db
        .read(move |conn| Comment::find_visible(conn, id, viewer.user()))
        .await?;
    Ok(Json(found.into()))
}

/// `POST /api/posts/<id>/comments`: `{"body"}` as the logged-in user; 201
/// with the comment and its `Location`. 403 when the post is not published
/// or its comments are closed; 429 past ten a minute.
#[post("/posts/<id>/comments", data = "<draft>")]
async fn create(
    actor: CurrentUser,
    db: Db<'_>,
    throttle: &State<CommentThrottle>,
    id: i32,
    draft: JsonBody<CommentDraft>,
) -> AppResult<Created<Json<CommentJson>>> {
    let text = body(draft)?.validate()?;
    let made = comments::create(&db, throttle, &actor.user, id, text).await?;
    Ok(Created::new(format!("/api/comments/{}", made.comment.id)).body(Json(made.into())))
}

/// `PATCH /api/comments/<id>`: `{"body"}`; the comment's author only.
#[patch("/comments/<id>", data = "<draft>")]
async fn update(
    actor: CurrentUser,
    db: Db<'_>,
    id: i32,
    draft: JsonBody<CommentDraft>,
) -> AppResult<Json<CommentJson>> {
    let text = body(draft)?.validate()?;
    Ok(Json(
        comments::edit(&db, &actor.user, id, text).await?.into(),
    ))
}

/// `DELETE /api/comments/<id>`: its author, the post's author or an admin.
#[delete("/comments/<id>")]
async fn remove(actor: CurrentUser, db: Db<'_>, id: i32) -> AppResult<NoContent> {
    comments::delete(&db, &actor.user, id).await?;
    Ok(NoContent)
}
