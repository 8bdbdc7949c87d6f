//! Signing up, logging in and out.

use rocket::{get, post, routes, FromForm, Route, State};

use super::contexts::{FormState, LogInPage, LogInValues, SignUpPage, SignUpValues};
use super::csrf_form::{Confirmation, CsrfForm};
use super::{done, form_error, local_path, Layout, PageResponse, PageResult};
use std::net::IpAddr;

use crate::config::Settings;
use crate::db::Db;
use crate::domain::accounts;
use crate::domain::error::{AppError, FieldErrors};
use crate::domain::invite::Admission;
use crate::domain::outbox::Outbox;
use crate::domain::throttle::LoginThrottle;
use crate::domain::user::SignUp;
use crate::domain::{session, User, Viewer};
use crate::web::csrf;
use crate::web::mail::Composer;
use crate::web::session_cookie;

pub fn routes() -> Vec<Route> {
    routes![sign_up_form, sign_up, log_in_form, log_in, log_out]
}

#[derive(FromForm)]
pub struct SignUpForm {
    uid: String,
    name: String,
    email: String,
    dob: String,
    password: String,
    invite: Option<String>,
}

/// `GET /signup?invite`: the form (with the invite from the link), or
/// why there is none.
#[get("/signup?<invite>")]
fn sign_up_form(
    layout: Layout<'_>,
    settings: &State<Settings>,
    invite: Option<String>,
) -> PageResponse {
    let values = SignUpValues {
        invite: invite.unwrap_or_default(),
        ..SignUpValues::default()
    };
    PageResponse::Page(layout.render(SignUpPage {
        form: FormState::new(values),
        registration: settings.registration,
    }))
}

/// `POST /signup`: creates the account and logs it in.
#[post("/signup", data = "<form>")]
async fn sign_up(
    layout: Layout<'_>,
    db: Db<'_>,
    form: CsrfForm<SignUpForm>,
    settings: &State<Settings>,
    outbox: &State<Outbox>,
    composer: Composer<'_>,
) -> PageResult {
    let input = SignUp {
        uid: form.uid.clone(),
        name: form.name.clone(),
        email: Some(form.email.clone()),
        password: form.password.clone(),
        dob: Some(form.dob.clone()),
        invite: form.invite.clone(),
    };
    let admission = Admission {
        mode: settings.registration,
        invite: form.invite.clone(),
        by_admin: false,
    };
    let signed_up =
        accounts::sign_up_and_log_in(&db, &input, admission, settings.session_days).await;
    let (user, token) = match signed_up {
        Ok(signed_up) => signed_up,
        Err(error) => {
            let values = SignUpValues {
                uid: form.uid.clone(),
                name: form.name.clone(),
                email: form.email.clone(),
                dob: form.dob.clone(),
                invite: form.invite.clone().unwrap_or_default(),
            };
            let page = SignUpPage {
                form: FormState::new(values),
                registration: settings.registration,
            };
            // Turned away (invite only, closed): said on the form.
            let error = match error {
                AppError::Forbidden(message) => AppError::Validation {
                    message: message.to_owned(),
                    fields: FieldErrors::new(),
                },
                other => other,
            };
            return form_error(&layout, error, page);
        }
    };
    composer.verify_new_address(&db, outbox, &user).await;
    session_cookie::set(layout.cookies, token, settings);
    csrf::rotate(layout.cookies);
    done(
        "/",
        format!("Welcome, {}! Your account is ready.", user.name),
    )
}

#[derive(FromForm)]
pub struct LogInForm {
    uid: String,
    password: String,
    next: Option<String>,
}

/// `GET /login?next`
#[get("/login?<next>")]
fn log_in_form(layout: Layout<'_>, next: Option<String>) -> PageResponse {
    let values = LogInValues {
        uid: String::new(),
        next: Some(local_path(next.as_deref())),
    };
    PageResponse::Page(layout.render(LogInPage {
        form: FormState::new(values),
    }))
}

/// `POST /login`: on success, back to the page that asked for it (a local
/// path only).
#[post("/login", data = "<form>")]
async fn log_in(
    layout: Layout<'_>,
    db: Db<'_>,
    form: CsrfForm<LogInForm>,
    settings: &State<Settings>,
    throttle: &State<LoginThrottle>,
    client: Option<IpAddr>,
) -> PageResult {
    let days = settings.session_days;
    match accounts::log_in(&db, throttle, client, &form.uid, &form.password, days).await {
        Ok((user, token)) => welcome_back(&layout, settings, &user, token, form.next.as_deref()),
        Err(AppError::SecondFactorRequired(challenge)) => Ok(PageResponse::Page(
            layout.render(super::two_factor::second_step(challenge, form.next.clone())),
        )),
        Err(AppError::Unauthorized(message) | AppError::Forbidden(message)) => {
            let error = AppError::Validation {
                message: message.to_owned(),
                fields: FieldErrors::new(),
            };
            let values = LogInValues {
                uid: form.uid.clone(),
                next: form.next.clone(),
            };
            let page = LogInPage {
                form: FormState::new(values),
            };
            form_error(&layout, error, page)
        }
        Err(other) => Err(other),
    }
}

/// `POST /logout`: ends the session on the server too.
#[post("/logout", data = "<_confirmed>")]
async fn log_out(
    layout: Layout<'_>,
    viewer: Result<Viewer, AppError>,
    db: Db<'_>,
    _confirmed: CsrfForm<Confirmation>,
) -> PageResult {
    if let Some(session_id) = viewer.ok().and_then(|v| v.0).and_then(|c| c.session_id()) {
        db.write(move |conn| session::end(conn, session_id)).await?;
    }
    session_cookie::remove(layout.cookies);
    csrf::rotate(layout.cookies);
    done("/", "You are logged out.")
}

/// A login has succeeded (in one step or two): the session's cookie, a new
/// form token, and back to the local page that asked for it.
pub(super) fn welcome_back(
    layout: &Layout<'_>,
    settings: &Settings,
    user: &User,
    token: String,
    next: Option<&str>,
) -> PageResult {
    session_cookie::set(layout.cookies, token, settings);
    csrf::rotate(layout.cookies);
    done(local_path(next), format!("Welcome back, {}.", user.name))
}
