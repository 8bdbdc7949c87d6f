//! `/api/password-resets`: ask for a reset link by mail, and use one.

use std::net::IpAddr;

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{post, routes, Route, State};
use serde::Deserialize;

use super::{body, JsonBody, Message};
use crate::db::Db;
use crate::domain::error::{AppError, AppResult};
use crate::domain::outbox::Outbox;
use crate::domain::password_reset::{self, AskThrottle};
use crate::web::mail::Composer;

pub fn routes() -> Vec<Route> {
    routes![ask, complete]
}

/// Whose password: one of the two.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Ask {
    uid: Option<String>,
    email: Option<String>,
}

/// `POST /api/password-resets`: `{"email"}` or `{"uid"}`. Always 202 with
/// the same message, whether an account matches or not; 429 when asked too
/// often for that account or from that address; 503 when this server
/// sends no mail.
#[post("/password-resets", data = "<ask>")]
async fn ask(
    db: Db<'_>,
    ask: JsonBody<Ask>,
    outbox: &State<Outbox>,
    throttle: &State<AskThrottle>,
    composer: Composer<'_>,
    client: Option<IpAddr>,
) -> AppResult<(Status, Json<Message>)> {
    let who = match body(ask)? {
        Ask {
            uid: Some(who),
            email: None,
        }
        | Ask {
            uid: None,
            email: Some(who),
        } if !who.trim().is_empty() => who,
        _ => {
            return Err(AppError::invalid_field(
                "email",
                "give either \"email\" or \"uid\"",
            ))
        }
    };
    password_reset::ask(&db, outbox, throttle, client, &who, |user, token| {
        composer.password_reset(user, token)
    })
    .await?;
    Ok((Status::Accepted, Json(Message::new(password_reset::ASKED))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Complete {
    token: String,
    password: String,
}

/// `POST /api/password-resets/complete`: `{"token", "password"}` (the token
/// from the link). Sets the password and ends every session and API token
/// of the account; 422 for a token that is unknown, used, replaced or
/// expired, or a password that breaks the rules.
#[post("/password-resets/complete", data = "<complete>")]
async fn complete(db: Db<'_>, complete: JsonBody<Complete>) -> AppResult<Json<Message>> {
    let Complete { token, password } = body(complete)?;
    password_reset::complete(&db, &token, &password).await?;
    Ok(Json(Message::new(
        "the new password is set; log in with it",
    )))
}
