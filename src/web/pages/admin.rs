//! The admin's users table: change a role, delete an account.

use rocket::http::uri::Origin;
use rocket::{get, post, routes, FromForm, Route};

use super::contexts::AdminUsersPage;
use super::csrf_form::CsrfForm;
use super::presenters::UserCard;
use super::{done, pager, refused, Layout, PageResponse, PageResult, Paging};
use crate::db::Db;
use crate::domain::accounts;
use crate::domain::error::{AppError, AppResult};
use crate::domain::user::UserPatch;
use crate::domain::CurrentUser;
use crate::domain::{User, UserOrder};

pub fn routes() -> Vec<Route> {
    routes![users, change_role]
}

fn require_admin(actor: &CurrentUser) -> AppResult<()> {
    if actor.user.is_admin() {
        Ok(())
    } else {
        Err(AppError::Forbidden("this page is for admins"))
    }
}

/// `GET /admin/users?page|after|before`
#[get("/admin/users?<paging..>")]
async fn users(
    actor: CurrentUser,
    layout: Layout<'_>,
    db: Db<'_>,
    uri: &Origin<'_>,
    paging: Paging,
) -> PageResult {
    require_admin(&actor)?;
    let slice = paging.slice_of(50)?;
    let (window, total) = db
        .read(move |conn| User::list_with_total(conn, slice, UserOrder::Oldest))
        .await?;
    let users: Vec<UserCard> = window
        .items
        .iter()
        .map(|user| UserCard::new(user, Some(&actor.user)))
        .collect();
    Ok(PageResponse::Page(layout.render(AdminUsersPage {
        users,
        pager: pager(uri, &window, total),
    })))
}

#[derive(FromForm)]
pub struct RoleForm {
    role: String,
}

/// `POST /admin/users/<id>/role`
#[post("/admin/users/<id>/role", data = "<form>")]
async fn change_role(
    actor: CurrentUser,
    db: Db<'_>,
    id: i32,
    form: CsrfForm<RoleForm>,
) -> PageResult {
    require_admin(&actor)?;
    let patch = UserPatch {
        role: Some(form.role.clone()),
        ..UserPatch::default()
    };
    match accounts::update(&db, &actor, id, patch).await {
        Ok(user) => done(
            "/admin/users",
            format!("{} is now {}.", user.uid, user.role.as_str()),
        ),
        Err(error @ (AppError::Conflict { .. } | AppError::Validation { .. })) => {
            refused("/admin/users", error.to_string())
        }
        Err(error) => Err(error),
    }
}
