//! Mail as the templates write it: `templates/mail/text/<name>.txt.tera`
//! and `templates/mail/html/<name>.html.tera` (a theme overrides them like
//! pages), with links on the site's `public_url`.

use rocket::request::{self, FromRequest, Request};
use rocket_dyn_templates::Metadata;
use serde::Serialize;

use crate::config::Settings;
use crate::db::Db;
use crate::domain::email_verification::{self, Resend};
use crate::domain::error::{AppError, AppResult};
use crate::domain::outbox::Outbox;
use crate::domain::User;
use crate::mail::Mail;

/// Writes mail: a request guard.
pub struct Composer<'r> {
    templates: Metadata<'r>,
    settings: &'r Settings,
}

/// A mail's own fields, typed like a page's context: `NAME` is the
/// template's name under `mail/text/` and `mail/html/`.
pub trait MailTemplate: Serialize {
    const NAME: &'static str;
}

/// `mail/*/password_reset`: the link to choose a new password.
#[derive(Serialize)]
pub struct PasswordResetMail {
    pub name: String,
    pub uid: String,
    pub link: String,
}

impl MailTemplate for PasswordResetMail {
    const NAME: &'static str = "password_reset";
}

/// `mail/*/verify_email`: the link that proves an address.
#[derive(Serialize)]
pub struct VerifyEmailMail {
    pub name: String,
    pub email: String,
    pub link: String,
}

impl MailTemplate for VerifyEmailMail {
    const NAME: &'static str = "verify_email";
}

/// What every mail template gets besides its own fields.
#[derive(Serialize)]
pub struct MailContext<'a, T: Serialize> {
    /// The site's address, without a trailing `/`.
    pub site: &'a str,
    #[serde(flatten)]
    pub fields: T,
}

impl Composer<'_> {
    /// The absolute URL of `path` (which starts with `/`) on this site.
    pub fn link(&self, path: &str) -> String {
        self.settings.link_to(path)
    }

    /// The mail with `user`'s link to choose a new password.
    pub fn password_reset(&self, user: &User, token: &str) -> AppResult<Mail> {
        self.compose(
            user.email.as_deref().unwrap_or_default(),
            "Set a new password",
            PasswordResetMail {
                name: user.name.clone(),
                uid: user.uid.clone(),
                link: self.link(&format!("/password/reset?token={token}")),
            },
        )
    }

    /// The mail with `user`'s link to verify their address.
    pub fn verify_email(&self, user: &User, token: &str) -> AppResult<Mail> {
        self.compose(
            user.email.as_deref().unwrap_or_default(),
            "Verify your email address",
            VerifyEmailMail {
                name: user.name.clone(),
                email: user.email.clone().unwrap_or_default(),
                link: self.link(&format!("/email/verify?token={token}")),
            },
        )
    }

    /// After an account got a new address: sends the link to verify it,
    /// when this server sends mail. A failure is logged, not the caller's:
    /// the account is saved, and its owner can ask again.
    pub async fn verify_new_address(&self, db: &Db<'_>, outbox: &Outbox, user: &User) {
        if !outbox.sends() || user.email.is_none() || user.email_verified_at.is_some() {
            return;
        }
        let sent = email_verification::send(db, outbox, user, Resend::IfNone, |user, token| {
            self.verify_email(user, token)
        })
        .await;
        if let Err(error) = sent {
            log::warn!(
                "could not queue the verification mail of {}: {error}",
                user.uid
            );
        }
    }

    /// `T`'s text and HTML templates rendered with `fields`, to `to`.
    fn compose<T: MailTemplate>(
        &self,
        to: &str,
        subject: impl Into<String>,
        fields: T,
    ) -> AppResult<Mail> {
        let name = T::NAME;
        let site = self.link("");
        let context = MailContext {
            site: &site,
            fields,
        };
        let render = |kind: &str| {
            self.templates
                .render(format!("mail/{kind}/{name}"), &context)
                .map(|(_, body)| body)
                .ok_or_else(|| {
                    AppError::Internal(format!("the mail template {kind}/{name} failed").into())
                })
        };
        Ok(Mail {
            to: to.to_owned(),
            subject: subject.into(),
            text: render("text")?,
            html: render("html")?,
        })
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Composer<'r> {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> request::Outcome<Self, ()> {
        // Checked at start-up: a server that sends mail has a public_url.
        let Some(settings) = request.rocket().state::<Settings>() else {
            return request::Outcome::Error((rocket::http::Status::InternalServerError, ()));
        };
        request
            .guard::<Metadata<'r>>()
            .await
            .map(|templates| Composer {
                templates,
                settings,
            })
    }
}
