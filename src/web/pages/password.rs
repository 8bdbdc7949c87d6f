//! "Forgot your password?" and the page its link opens.

use std::net::IpAddr;

use rocket::{get, post, routes, FromForm, Route, State};

use super::contexts::{
    ForgotPasswordPage, ForgotPasswordValues, FormState, ResetPasswordPage, ResetPasswordValues,
};
use super::csrf_form::CsrfForm;
use super::{done, form_error, Layout, PageResponse, PageResult};
use crate::db::Db;
use crate::domain::error::{AppError, FieldErrors};
use crate::domain::outbox::Outbox;
use crate::domain::password_reset::{self, AskThrottle};
use crate::web::mail::Composer;

pub fn routes() -> Vec<Route> {
    routes![forgot_form, forgot, reset_form, reset]
}

/// `GET /password/forgot`
#[get("/password/forgot")]
fn forgot_form(layout: Layout<'_>, outbox: &State<Outbox>) -> PageResponse {
    PageResponse::Page(layout.render(ForgotPasswordPage {
        sends_mail: outbox.sends(),
        ..Default::default()
    }))
}

#[derive(FromForm)]
pub struct ForgotForm {
    who: String,
}

/// `POST /password/forgot`: the same answer whether an account matches or
/// not.
#[post("/password/forgot", data = "<form>")]
async fn forgot(
    layout: Layout<'_>,
    db: Db<'_>,
    form: CsrfForm<ForgotForm>,
    outbox: &State<Outbox>,
    throttle: &State<AskThrottle>,
    composer: Composer<'_>,
    client: Option<IpAddr>,
) -> PageResult {
    let page = || ForgotPasswordPage {
        form: FormState::new(ForgotPasswordValues {
            who: form.who.clone(),
        }),
        sends_mail: outbox.sends(),
    };
    if form.who.trim().is_empty() {
        let error = AppError::invalid_field("who", "give your user name or email address");
        return form_error(&layout, error, page());
    }
    let asked = password_reset::ask(&db, outbox, throttle, client, &form.who, |user, token| {
        composer.password_reset(user, token)
    })
    .await;
    match asked {
        Ok(()) => done("/login", password_reset::ASKED),
        Err(AppError::TooManyRequests(_)) => {
            let error = AppError::Validation {
                message: "too many links asked for: try again later".to_owned(),
                fields: FieldErrors::new(),
            };
            form_error(&layout, error, page())
        }
        Err(other) => Err(other),
    }
}

/// `GET /password/reset?token`: the form for the new password, or why the
/// link no longer works.
#[get("/password/reset?<token>")]
async fn reset_form(layout: Layout<'_>, db: Db<'_>, token: Option<String>) -> PageResult {
    let token = token.unwrap_or_default();
    let valid = password_reset::is_valid(&db, &token).await?;
    Ok(PageResponse::Page(layout.render(ResetPasswordPage {
        form: FormState::new(ResetPasswordValues { token }),
        valid,
    })))
}

#[derive(FromForm)]
pub struct ResetForm {
    token: String,
    password: String,
}

/// `POST /password/reset`: sets the password and sends to the login page.
#[post("/password/reset", data = "<form>")]
async fn reset(layout: Layout<'_>, db: Db<'_>, form: CsrfForm<ResetForm>) -> PageResult {
    match password_reset::complete(&db, &form.token, &form.password).await {
        Ok(_) => {
            // The session this browser had, if any, has just ended.
            crate::web::session_cookie::remove(layout.cookies);
            done(
                "/login",
                "Your new password is set. Log in with it (you were logged out everywhere).",
            )
        }
        Err(error) => {
            let valid = !error
                .fields()
                .is_some_and(|fields| fields.contains_key("token"));
            let page = ResetPasswordPage {
                form: FormState::new(ResetPasswordValues {
                    token: form.token.clone(),
                }),
                valid,
            };
            form_error(&layout, error, page)
        }
    }
}
