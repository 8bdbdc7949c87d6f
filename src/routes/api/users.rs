//! `/api/users`: accounts.

use rocket::http::CookieJar;
use rocket::response::status::{Created, NoContent};
use rocket::serde::json::Json;
use rocket::{delete, get, patch, post, routes, Route, State};

use super::{body, JsonBody, Paginated, UserView};
use crate::accounts;
use crate::auth::{session, CurrentUser, Viewer};
use crate::db::Db;
use crate::error::{AppError, AppResult};
use crate::images::Uploads;
use crate::models::user::{SignUp, UserPatch};
use crate::models::{Page, User, UserOrder};

pub fn routes() -> Vec<Route> {
    routes![create, list, show, update, remove]
}

/// `POST /api/users`: sign up. 201 with the account and its `Location`;
/// 409 if the uid or email is taken; 422 naming each invalid field.
#[post("/users", data = "<form>")]
async fn create(db: Db<'_>, form: JsonBody<SignUp>) -> AppResult<Created<Json<UserView>>> {
    let user = accounts::sign_up(&db, &body(form)?).await?;
    let view = UserView::new(&user, 0, Some(&user));
    Ok(Created::new(format!("/api/users/{}", user.id)).body(Json(view)))
}

/// `GET /api/users?page&per_page`: accounts, oldest first, with their
/// published post counts.
#[get("/users?<page>&<per_page>")]
async fn list(
    viewer: Viewer,
    db: Db<'_>,
    page: Option<String>,
    per_page: Option<String>,
) -> AppResult<Json<Paginated<UserView>>> {
    let page = Page::parse(page.as_deref(), per_page.as_deref())?;
    let (rows, total) = db
        .read(move |conn| User::list_with_post_counts(conn, page, UserOrder::Oldest))
        .await?;
    let items = rows
        .iter()
        .map(|(user, count)| UserView::new(user, *count, viewer.user()))
        .collect();
    Ok(Json(Paginated::new(items, page, total, |n| {
        format!("/api/users?page={n}&per_page={}", page.per_page)
    })))
}

/// `GET /api/users/<id>`: one account; its email only for itself and admins.
#[get("/users/<id>")]
async fn show(viewer: Viewer, db: Db<'_>, id: i32) -> AppResult<Json<UserView>> {
    let (user, count) = db
        .read(move |conn| {
            Ok::<_, crate::error::AppError>((User::find(conn, id)?, User::post_count(conn, id)?))
        })
        .await?;
    Ok(Json(UserView::new(&user, count, viewer.user())))
}

/// `PATCH /api/users/<id>`: change name, email, dob, password (with
/// `current_password`) or, for admins, role. Self or admin only.
#[patch("/users/<id>", data = "<patch>")]
async fn update(
    db: Db<'_>,
    actor: CurrentUser,
    id: i32,
    patch: JsonBody<UserPatch>,
) -> AppResult<Json<UserView>> {
    let user = accounts::update(&db, &actor, id, body(patch)?).await?;
    let count = db.read(move |conn| User::post_count(conn, id)).await?;
    Ok(Json(UserView::new(&user, count, Some(&actor.user))))
}

/// `DELETE /api/users/<id>`: delete an account and its posts. Self or admin.
#[delete("/users/<id>")]
async fn remove(
    db: Db<'_>,
    actor: CurrentUser,
    uploads: &State<Uploads>,
    id: i32,
    cookies: &CookieJar<'_>,
) -> AppResult<NoContent> {
    if actor.session_id().is_none() {
        // Irreversible: not something a script's token may do.
        return Err(AppError::Forbidden(
            "deleting an account needs a login session, not an API token",
        ));
    }
    accounts::delete(&db, uploads, &actor, id).await?;
    if actor.user.id == id {
        session::remove_cookie(cookies);
    }
    Ok(NoContent)
}
