//! `/tokens`: make, see and revoke your personal API tokens.

use rocket::{get, post, routes, FromForm, Route};

use super::contexts::{FormState, NewToken, TokenRow, TokenValues, TokensPage};
use super::csrf_form::{Confirmation, CsrfForm};
use super::{done, form_error, Layout, PageResponse, PageResult};
use crate::db::Db;
use crate::domain::api_token::{self, ApiToken, TokenName};
use crate::domain::error::AppError;
use crate::domain::CurrentUser;

pub fn routes() -> Vec<Route> {
    routes![list, create, revoke]
}

#[derive(FromForm)]
struct NewTokenForm {
    #[field(default = String::new())]
    name: String,
}

fn token_rows(tokens: &[ApiToken]) -> Vec<TokenRow> {
    tokens
        .iter()
        .map(|token| TokenRow {
            id: token.id,
            name: token.name.clone(),
            created: token.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        })
        .collect()
}

/// The page with `current`'s tokens, the form showing `values`, and the
/// secret of the token just made, if one was.
async fn tokens_page(
    db: &Db<'_>,
    current: &CurrentUser,
    new_token: Option<NewToken>,
    values: TokenValues,
) -> Result<TokensPage, AppError> {
    let owner = current.user.id;
    let tokens = db.read(move |conn| api_token::list(conn, owner)).await?;
    Ok(TokensPage {
        new_token,
        tokens: token_rows(&tokens),
        max_tokens: api_token::MAX_PER_USER,
        form: FormState::new(values),
    })
}

/// `GET /tokens`: your tokens and the form for a new one.
#[get("/tokens")]
async fn list(current: CurrentUser, layout: Layout<'_>, db: Db<'_>) -> PageResult {
    let page = tokens_page(&db, &current, None, TokenValues::default()).await?;
    Ok(PageResponse::Page(layout.render(page)))
}

/// `POST /tokens`: makes a token and shows its secret on this answer only
/// (not through a redirect: the secret must not travel in a cookie or a
/// URL). A bad name re-renders the form with the message, 422.
#[post("/tokens", data = "<form>")]
async fn create(
    current: CurrentUser,
    layout: Layout<'_>,
    db: Db<'_>,
    form: CsrfForm<NewTokenForm>,
) -> PageResult {
    let typed = form.name.clone();
    let result = match TokenName::parse(&typed) {
        Err(message) => Err(AppError::invalid_field("name", message)),
        Ok(name) => {
            let owner = current.user.id;
            db.write(move |conn| api_token::create(conn, owner, &name))
                .await
        }
    };
    match result {
        Ok((token, secret)) => {
            let new_token = NewToken {
                name: token.name,
                secret,
            };
            let page = tokens_page(&db, &current, Some(new_token), TokenValues::default()).await?;
            Ok(PageResponse::Page(layout.render(page)))
        }
        Err(error) => {
            let values = TokenValues { name: typed };
            let page = tokens_page(&db, &current, None, values).await?;
            form_error(&layout, error, page)
        }
    }
}

/// `POST /tokens/<id>/revoke`: the token stops working at once.
#[post("/tokens/<id>/revoke", data = "<_confirmed>")]
async fn revoke(
    current: CurrentUser,
    db: Db<'_>,
    id: i32,
    _confirmed: CsrfForm<Confirmation>,
) -> PageResult {
    let owner = current.user.id;
    db.write(move |conn| api_token::revoke(conn, owner, id))
        .await?;
    done("/tokens", "Token revoked: it no longer works.")
}
