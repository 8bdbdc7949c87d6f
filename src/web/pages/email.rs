//! Verifying an email address: the page the mailed link opens, and asking
//! for the link again.

use rocket::{get, post, routes, Route, State};

use super::contexts::VerifyEmailPage;
use super::csrf_form::{Confirmation, CsrfForm};
use super::{done, refused, Layout, PageResponse, PageResult};
use crate::db::Db;
use crate::domain::email_verification::{self, Resend};
use crate::domain::error::AppError;
use crate::domain::outbox::Outbox;
use crate::domain::CurrentUser;
use crate::web::mail::Composer;

pub fn routes() -> Vec<Route> {
    routes![verify, resend]
}

/// `GET /email/verify?token`: the link in the mail. Opening it is the
/// proof (its token is the credential), so it acts on `GET`, like every
/// such link people click in their mail.
#[get("/email/verify?<token>")]
async fn verify(layout: Layout<'_>, db: Db<'_>, token: Option<String>) -> PageResult {
    let page = match email_verification::complete(&db, token.as_deref().unwrap_or_default()).await {
        Ok(user) => VerifyEmailPage {
            verified: user.email,
        },
        Err(AppError::Validation { .. }) => VerifyEmailPage { verified: None },
        Err(other) => return Err(other),
    };
    Ok(PageResponse::Page(layout.render(page)))
}

/// `POST /email/verify`: mails the logged-in account a new link.
#[post("/email/verify", data = "<_confirmed>")]
async fn resend(
    actor: CurrentUser,
    db: Db<'_>,
    outbox: &State<Outbox>,
    composer: Composer<'_>,
    _confirmed: CsrfForm<Confirmation>,
) -> PageResult {
    let profile = format!("/users/{}", actor.user.id);
    let sent = email_verification::send(&db, outbox, &actor.user, Resend::Asked, |user, token| {
        composer.verify_email(user, token)
    })
    .await;
    match sent {
        Ok(()) => done(
            profile,
            format!(
                "A new link is on its way to {}. It works for two days.",
                actor.user.email.as_deref().unwrap_or_default()
            ),
        ),
        Err(AppError::Unavailable(message)) => refused(profile, message),
        Err(AppError::Validation { message, .. }) => refused(profile, message),
        Err(other) => Err(other),
    }
}
