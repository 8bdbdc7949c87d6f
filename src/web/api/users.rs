//! `/api/users`: accounts.

use rocket::http::CookieJar;
use rocket::response::status::{Created, NoContent};
use rocket::serde::json::Json;
use rocket::{delete, get, patch, post, routes, Route, State};
use serde::Deserialize;

use super::{body, JsonBody, Paginated, UserBody};
use crate::config::Settings;
use crate::db::Db;
use crate::domain::accounts;
use crate::domain::error::{AppError, AppResult};
use crate::domain::images::Uploads;
use crate::domain::invite::Admission;
use crate::domain::outbox::Outbox;
use crate::domain::suspension;
use crate::domain::user::{SignUp, UserPatch};
use crate::domain::{CurrentUser, Viewer};
use crate::domain::{User, UserOrder};
use crate::web::mail::Composer;
use crate::web::paging::Paging;
use crate::web::session_cookie;

pub fn routes() -> Vec<Route> {
    routes![create, list, show, update, remove, suspend, lift]
}

/// `POST /api/users`: sign up. 201 with the account and its `Location`;
/// 409 if the uid or email is taken; 422 naming each invalid field.
#[post("/users", data = "<form>")]
async fn create(
    db: Db<'_>,
    viewer: Viewer,
    form: JsonBody<SignUp>,
    settings: &State<Settings>,
    outbox: &State<Outbox>,
    composer: Composer<'_>,
) -> AppResult<Created<Json<UserBody>>> {
    let form = body(form)?;
    let admission = Admission {
        mode: settings.registration,
        invite: form.invite.clone(),
        by_admin: viewer.user().is_some_and(User::is_admin),
    };
    let user = accounts::sign_up(&db, &form, admission).await?;
    composer.verify_new_address(&db, outbox, &user).await;
    let view = UserBody::new(&user, Some(&user));
    Ok(Created::new(format!("/api/users/{}", user.id)).body(Json(view)))
}

/// `GET /api/users?page&after&before&per_page&sort`: accounts with their
/// published post counts, oldest first (`sort=posts`: most posts first).
/// `page` numbers the first pages; `next` and `prev` links go on with
/// cursors (`after`, `before`).
#[get("/users?<sort>&<paging..>")]
async fn list(
    viewer: Viewer,
    db: Db<'_>,
    sort: Option<String>,
    paging: Paging,
) -> AppResult<Json<Paginated<UserBody>>> {
    let slice = paging.slice()?;
    let order = UserOrder::parse(sort.as_deref())?;
    let (window, total) = db
        .read(move |conn| User::list_with_total(conn, slice, order))
        .await?;
    let window = window.map(|user| UserBody::new(&user, viewer.user()));
    let mut others = vec![format!("per_page={}", slice.per_page)];
    if order == UserOrder::MostPosts {
        others.push("sort=posts".to_owned());
    }
    Ok(Json(Paginated::new(window, total, "/api/users", &others)))
}

/// `GET /api/users/<id>`: one account; its email only for itself and admins.
#[get("/users/<id>")]
async fn show(viewer: Viewer, db: Db<'_>, id: i32) -> AppResult<Json<UserBody>> {
    let user = db.read(move |conn| User::find(conn, id)).await?;
    Ok(Json(UserBody::new(&user, viewer.user())))
}

/// `PATCH /api/users/<id>`: change name, email, dob, password (with
/// `current_password`) or, for admins, role. Self or admin only.
#[patch("/users/<id>", data = "<patch>")]
async fn update(
    db: Db<'_>,
    actor: CurrentUser,
    id: i32,
    patch: JsonBody<UserPatch>,
    outbox: &State<Outbox>,
    composer: Composer<'_>,
) -> AppResult<Json<UserBody>> {
    let user = accounts::update(&db, &actor, id, body(patch)?).await?;
    composer.verify_new_address(&db, outbox, &user).await;
    Ok(Json(UserBody::new(&user, Some(&actor.user))))
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
        session_cookie::remove(cookies);
    }
    Ok(NoContent)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Suspend {
    reason: String,
}

/// `POST /api/users/<id>/suspension`: `{"reason"}`. Admins only. The
/// account cannot log in, its sessions and tokens stop, its posts are
/// hidden from everyone but admins. 409 for the last admin.
#[post("/users/<id>/suspension", data = "<suspend>")]
async fn suspend(
    db: Db<'_>,
    actor: CurrentUser,
    id: i32,
    suspend: JsonBody<Suspend>,
) -> AppResult<Json<UserBody>> {
    let Suspend { reason } = body(suspend)?;
    let admin = actor.user.clone();
    let user = db
        .write(move |conn| suspension::suspend(conn, &admin, id, &reason))
        .await?;
    Ok(Json(UserBody::new(&user, Some(&actor.user))))
}

/// `DELETE /api/users/<id>/suspension`: lift it; everything comes back.
/// Admins only.
#[delete("/users/<id>/suspension")]
async fn lift(db: Db<'_>, actor: CurrentUser, id: i32) -> AppResult<Json<UserBody>> {
    let admin = actor.user.clone();
    let user = db
        .write(move |conn| suspension::lift(conn, &admin, id))
        .await?;
    Ok(Json(UserBody::new(&user, Some(&actor.user))))
}
