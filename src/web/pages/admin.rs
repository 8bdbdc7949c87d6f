//! The admin's pages: the dashboard, the users table (change a role,
//! suspend an account) and invites.

use rocket::http::uri::Origin;
use rocket::{get, post, routes, FromForm, Route, State};

use super::contexts::TrendingPost;
use super::contexts::{AdminInvitesPage, AdminUsersPage, InviteRow};
use super::csrf_form::{Confirmation, CsrfForm};
use super::presenters::{when, PostCard, UserCard};
use super::{done, pager, refused, Layout, PageResponse, PageResult, Paging};
use crate::config::{Registration, Settings};
use crate::db::Db;
use crate::domain::accounts;
use crate::domain::error::{AppError, AppResult};
use crate::domain::invite;
use crate::domain::post_views::{self, TrendingBoard};
use crate::domain::suspension;
use crate::domain::user::UserPatch;
use crate::domain::CurrentUser;
use crate::domain::{User, UserOrder};

pub fn routes() -> Vec<Route> {
    routes![
        dashboard,
        users,
        change_role,
        suspend,
        unsuspend,
        invites,
        make_invite,
        withdraw_invite
    ]
}

fn require_admin(actor: &CurrentUser) -> AppResult<()> {
    if actor.user.is_admin() {
        Ok(())
    } else {
        Err(AppError::Forbidden("this page is for admins"))
    }
}

/// How many of the week's most viewed posts the dashboard lists.
const DASHBOARD_TRENDING: usize = 10;

/// `GET /admin`: the dashboard. Totals, sign-ups, posts and views per day
/// (charts with their tables), the week's most viewed posts, the database's
/// size. Admins only (others get 403, anonymous visitors the login page).
/// Reads kept counts and a month of daily rows, and the trending board:
/// the same cost at any size of site.
#[get("/admin")]
async fn dashboard(
    actor: CurrentUser,
    layout: Layout<'_>,
    db: Db<'_>,
    board: &State<TrendingBoard>,
    backups: &State<crate::domain::backups::BackupStatus>,
) -> PageResult {
    require_admin(&actor)?;
    let today = post_views::today();
    let figures = db
        .read(move |conn| crate::domain::dashboard::figures(conn, today))
        .await?;
    let trending = crate::web::trending::top(&db, board, DASHBOARD_TRENDING)
        .await?
        .iter()
        .map(|hot| TrendingPost {
            post: PostCard::from(&hot.post),
            recent_views: hot.recent_views,
        })
        .collect();
    Ok(PageResponse::Page(layout.render(
        super::presenters::dashboard(&figures, trending, &backups.record()),
    )))
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

/// `GET /admin/invites`
#[get("/admin/invites")]
async fn invites(
    actor: CurrentUser,
    layout: Layout<'_>,
    db: Db<'_>,
    settings: &State<Settings>,
) -> PageResult {
    let invites = invite::list(&db, &actor.user).await?;
    let rows = invites
        .iter()
        .map(|invite| InviteRow {
            id: invite.id,
            created: when(invite.created_at),
            expires: when(invite.expires_at),
            used_by: invite.used_by,
            open: invite.is_open(),
        })
        .collect();
    Ok(PageResponse::Page(layout.render(AdminInvitesPage {
        invites: rows,
        invite_only: settings.registration == Registration::Invite,
        default_days: invite::DEFAULT_DAYS,
        max_days: invite::MAX_DAYS,
    })))
}

#[derive(FromForm)]
pub struct InviteForm {
    days: u32,
}

/// `POST /admin/invites`: makes one and shows its link, this once.
#[post("/admin/invites", data = "<form>")]
async fn make_invite(
    actor: CurrentUser,
    db: Db<'_>,
    settings: &State<Settings>,
    form: CsrfForm<InviteForm>,
) -> PageResult {
    match invite::make(&db, &actor.user, form.days).await {
        Ok((_, token)) => {
            let link = settings.link_to(&invite::path(&token));
            done(
                "/admin/invites",
                format!("Invite made. Send this link (it is shown only now): {link}"),
            )
        }
        Err(error @ AppError::Validation { .. }) => refused("/admin/invites", said(&error)),
        Err(other) => Err(other),
    }
}

/// `POST /admin/invites/<id>/delete`: withdraws an unused invite.
#[post("/admin/invites/<id>/delete", data = "<_confirmed>")]
async fn withdraw_invite(
    actor: CurrentUser,
    db: Db<'_>,
    id: i32,
    _confirmed: CsrfForm<Confirmation>,
) -> PageResult {
    invite::withdraw(&db, &actor.user, id).await?;
    done("/admin/invites", "Invite withdrawn.")
}

#[derive(FromForm)]
pub struct SuspendForm {
    reason: String,
}

/// `POST /admin/users/<id>/suspend`
#[post("/admin/users/<id>/suspend", data = "<form>")]
async fn suspend(
    actor: CurrentUser,
    db: Db<'_>,
    id: i32,
    form: CsrfForm<SuspendForm>,
) -> PageResult {
    let (admin, reason) = (actor.user.clone(), form.reason.clone());
    match db
        .write(move |conn| suspension::suspend(conn, &admin, id, &reason))
        .await
    {
        Ok(user) => done("/admin/users", format!("{} is suspended.", user.uid)),
        Err(error @ (AppError::Conflict { .. } | AppError::Validation { .. })) => {
            refused("/admin/users", said(&error))
        }
        Err(error) => Err(error),
    }
}

/// `POST /admin/users/<id>/unsuspend`
#[post("/admin/users/<id>/unsuspend", data = "<_confirmed>")]
async fn unsuspend(
    actor: CurrentUser,
    db: Db<'_>,
    id: i32,
    _confirmed: CsrfForm<Confirmation>,
) -> PageResult {
    let admin = actor.user.clone();
    let user = db
        .write(move |conn| suspension::lift(conn, &admin, id))
        .await?;
    done(
        "/admin/users",
        format!("{} is no longer suspended.", user.uid),
    )
}

/// What a refused admin action says: its field's message, if it names one.
fn said(error: &AppError) -> String {
    match error.fields().and_then(|fields| fields.iter().next()) {
        Some((field, message)) => format!("{field} {message}"),
        None => error.to_string(),
    }
}
