//! `/api/invites`: admins make, list and withdraw invitations to sign up
//! (for `registration = "invite"`).

use chrono::{DateTime, Utc};
use rocket::response::status::{Created, NoContent};
use rocket::serde::json::Json;
use rocket::{delete, get, post, routes, Route, State};
use serde::{Deserialize, Serialize};

use super::{body, JsonBody};
use crate::config::Settings;
use crate::db::Db;
use crate::domain::error::AppResult;
use crate::domain::invite::{self, Invite};
use crate::domain::CurrentUser;

pub fn routes() -> Vec<Route> {
    routes![create, list, remove]
}

/// An invite as the API shows it; `token` and `link` only when it is made.
#[derive(Serialize)]
pub struct InviteBody {
    id: i32,
    created_by: Option<i32>,
    expires_at: DateTime<Utc>,
    used_by: Option<i32>,
    used_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    /// Can still be used.
    open: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    /// The sign-up page with the invite (absolute with `public_url`).
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<String>,
}

impl InviteBody {
    fn new(invite: &Invite) -> Self {
        InviteBody {
            id: invite.id,
            created_by: invite.created_by,
            expires_at: invite.expires_at.and_utc(),
            used_by: invite.used_by,
            used_at: invite.used_at.map(|at| at.and_utc()),
            created_at: invite.created_at.and_utc(),
            open: invite.is_open(),
            token: None,
            link: None,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NewInvite {
    #[serde(default)]
    days: Option<u32>,
}

/// `POST /api/invites`: `{"days"}` (1 to 90, 7 by default). 201 with the
/// invite, its token and link, shown this once. Admins only.
#[post("/invites", data = "<new>")]
async fn create(
    db: Db<'_>,
    actor: CurrentUser,
    new: JsonBody<NewInvite>,
    settings: &State<Settings>,
) -> AppResult<Created<Json<InviteBody>>> {
    let days = body(new)?.days.unwrap_or(invite::DEFAULT_DAYS);
    let (made, token) = invite::make(&db, &actor.user, days).await?;
    let shown = InviteBody {
        link: Some(settings.link_to(&invite::path(&token))),
        token: Some(token),
        ..InviteBody::new(&made)
    };
    Ok(Created::new(format!("/api/invites/{}", made.id)).body(Json(shown)))
}

/// `GET /api/invites`: the newest 100, newest first. Admins only.
#[get("/invites")]
async fn list(db: Db<'_>, actor: CurrentUser) -> AppResult<Json<Vec<InviteBody>>> {
    let invites = invite::list(&db, &actor.user).await?;
    Ok(Json(invites.iter().map(InviteBody::new).collect()))
}

/// `DELETE /api/invites/<id>`: withdraw an unused invite. Admins only; 404
/// for one that is used or gone.
#[delete("/invites/<id>")]
async fn remove(db: Db<'_>, actor: CurrentUser, id: i32) -> AppResult<NoContent> {
    invite::withdraw(&db, &actor.user, id).await?;
    Ok(NoContent)
}
