//! `/api/tokens`: the logged-in user's personal API tokens.

use chrono::{DateTime, Utc};
use rocket::response::status::{Created, NoContent};
use rocket::serde::json::Json;
use rocket::{delete, get, post, routes, Route};
use serde::{Deserialize, Serialize};

use super::{body, JsonBody};
use crate::db::Db;
use crate::domain::api_token::{self, ApiToken, TokenName};
use crate::domain::error::{AppError, AppResult};
use crate::domain::{Credential, CurrentUser};

pub fn routes() -> Vec<Route> {
    routes![list, create, revoke]
}

/// Tokens are managed from a login session only: a leaked token must not
/// be able to mint itself successors, nor hide by listing or revoking.
fn from_a_session(current: &CurrentUser) -> AppResult<()> {
    match current.credential {
        Credential::Session(_) => Ok(()),
        Credential::ApiToken(_) => Err(AppError::Forbidden(
            "API tokens are managed from a login session, not with a token",
        )),
    }
}

#[derive(Debug, Serialize)]
pub struct TokenView {
    pub id: i32,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// Only in the answer that made it: the secret, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl From<ApiToken> for TokenView {
    fn from(token: ApiToken) -> Self {
        TokenView {
            id: token.id,
            name: token.name,
            created_at: token.created_at.and_utc(),
            token: None,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TokenList {
    pub items: Vec<TokenView>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
}

/// `GET /api/tokens`: your tokens (never their secrets), newest first.
#[get("/tokens")]
async fn list(current: CurrentUser, db: Db<'_>) -> AppResult<Json<TokenList>> {
    from_a_session(&current)?;
    let owner = current.user.id;
    let tokens = db.read(move |conn| api_token::list(conn, owner)).await?;
    Ok(Json(TokenList {
        items: tokens.into_iter().map(TokenView::from).collect(),
    }))
}

/// `POST /api/tokens` `{"name"}`: a new token; 201 with its secret, which
/// is never shown again.
#[post("/tokens", data = "<new>")]
async fn create(
    current: CurrentUser,
    db: Db<'_>,
    new: JsonBody<NewToken>,
) -> AppResult<Created<Json<TokenView>>> {
    from_a_session(&current)?;
    let name = TokenName::parse(&body(new)?.name)
        .map_err(|message| AppError::invalid_field("name", message))?;
    let owner = current.user.id;
    let (token, secret) = db
        .write(move |conn| api_token::create(conn, owner, &name))
        .await?;
    let view = TokenView {
        token: Some(secret),
        ..TokenView::from(token)
    };
    Ok(Created::new("/api/tokens").body(Json(view)))
}

/// `DELETE /api/tokens/<id>`: revokes one of your tokens; it stops working
/// at once. Someone else's token is a 404.
#[delete("/tokens/<id>")]
async fn revoke(current: CurrentUser, db: Db<'_>, id: i32) -> AppResult<NoContent> {
    from_a_session(&current)?;
    let owner = current.user.id;
    db.write(move |conn| api_token::revoke(conn, owner, id))
        .await?;
    Ok(NoContent)
}
