//! `/api/email-verifications`: ask for the link that verifies your email
//! address again, and use one.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{post, routes, Route, State};
use serde::Deserialize;

use super::{body, JsonBody, Message, UserBody};
use crate::db::Db;
use crate::domain::email_verification::{self, Resend};
use crate::domain::error::AppResult;
use crate::domain::outbox::Outbox;
use crate::domain::CurrentUser;
use crate::web::mail::Composer;

pub fn routes() -> Vec<Route> {
    routes![resend, complete]
}

/// `POST /api/email-verifications`: mails the logged-in account a new link
/// for its address (replacing the old one). 202; 422 for an account with
/// no address; 503 when this server sends no mail.
#[post("/email-verifications")]
async fn resend(
    actor: CurrentUser,
    db: Db<'_>,
    outbox: &State<Outbox>,
    composer: Composer<'_>,
) -> AppResult<(Status, Json<Message>)> {
    email_verification::send(&db, outbox, &actor.user, Resend::Asked, |user, token| {
        composer.verify_email(user, token)
    })
    .await?;
    Ok((
        Status::Accepted,
        Json(Message::new(
            "unless the address is verified already, a new link is on its way",
        )),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Complete {
    token: String,
}

/// `POST /api/email-verifications/complete`: `{"token"}` from the link.
/// Answers with the account, its address now verified; 422 for a token
/// that is unknown, used, replaced, expired, or for an address the account
/// no longer has.
#[post("/email-verifications/complete", data = "<complete>")]
async fn complete(db: Db<'_>, complete: JsonBody<Complete>) -> AppResult<Json<UserBody>> {
    let Complete { token } = body(complete)?;
    let user = email_verification::complete(&db, &token).await?;
    Ok(Json(UserBody::new(&user, Some(&user))))
}
