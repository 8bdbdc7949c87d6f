//! Two-factor login on the pages: setting it up (a QR code drawn on the
//! server, no JavaScript), the recovery codes, turning it off, and the
//! second step of logging in.

use std::net::IpAddr;

use rocket::{get, post, routes, FromForm, Route, State};

use super::contexts::{
    FormState, LogInCodePage, LogInCodeValues, TwoFactorPage, TwoFactorSetup, UserRef,
};
use super::csrf_form::{Confirmation, CsrfForm};
use super::{done, form_error, refused, Layout, PageResponse, PageResult};
use crate::config::Settings;
use crate::db::Db;
use crate::domain::error::{AppError, AppResult, FieldErrors};
use crate::domain::throttle::LoginThrottle;
use crate::domain::two_factor::{self, Enrollment};
use crate::domain::{accounts, CurrentUser, User};

pub fn routes() -> Vec<Route> {
    routes![show, begin, confirm, disable, log_in_code]
}

/// Only the account itself manages its second factor (an admin who must
/// help runs `portfolio user reset-2fa`).
fn own(actor: &CurrentUser, id: i32) -> AppResult<&User> {
    if actor.user.id != id {
        return Err(AppError::Forbidden(
            "only the account's owner manages its two-factor login",
        ));
    }
    Ok(&actor.user)
}

fn page(user: &User, enabled: bool) -> TwoFactorPage {
    TwoFactorPage {
        user: UserRef {
            id: user.id,
            uid: user.uid.clone(),
        },
        enabled,
        setup: None,
        recovery_codes: Vec::new(),
        form: FormState::default(),
    }
}

fn setup_of(enrollment: &Enrollment) -> AppResult<TwoFactorSetup> {
    Ok(TwoFactorSetup {
        qr_svg: crate::web::qr::svg(&enrollment.url)?,
        secret: enrollment.secret.clone(),
    })
}

/// `GET /users/<id>/two-factor`
#[get("/users/<id>/two-factor")]
async fn show(actor: CurrentUser, layout: Layout<'_>, db: Db<'_>, id: i32) -> PageResult {
    let user = own(&actor, id)?;
    let enabled = db
        .read(move |conn| two_factor::is_enabled(conn, id))
        .await?;
    Ok(PageResponse::Page(layout.render(page(user, enabled))))
}

/// `POST /users/<id>/two-factor/begin`: a new secret, shown as a QR code.
#[post("/users/<id>/two-factor/begin", data = "<_confirmed>")]
async fn begin(
    actor: CurrentUser,
    layout: Layout<'_>,
    db: Db<'_>,
    id: i32,
    _confirmed: CsrfForm<Confirmation>,
) -> PageResult {
    let user = own(&actor, id)?.clone();
    let who = user.clone();
    let enrollment = match db.write(move |conn| two_factor::begin(conn, &who)).await {
        Ok(enrollment) => enrollment,
        Err(AppError::Conflict { message, .. }) => {
            return refused(format!("/users/{id}/two-factor"), message)
        }
        Err(other) => return Err(other),
    };
    Ok(PageResponse::Page(layout.render(TwoFactorPage {
        setup: Some(setup_of(&enrollment)?),
        ..page(&user, false)
    })))
}

#[derive(FromForm)]
pub struct CodeForm {
    code: String,
}

/// `POST /users/<id>/two-factor/confirm`: the first code turns it on and
/// shows the recovery codes; a wrong one shows the QR code again.
#[post("/users/<id>/two-factor/confirm", data = "<form>")]
async fn confirm(
    actor: CurrentUser,
    layout: Layout<'_>,
    db: Db<'_>,
    id: i32,
    form: CsrfForm<CodeForm>,
) -> PageResult {
    let user = own(&actor, id)?.clone();
    let (who, code) = (user.clone(), form.code.clone());
    let confirmed = db
        .write(move |conn| two_factor::confirm(conn, &who, &code, two_factor::clock()))
        .await;
    match confirmed {
        Ok(codes) => Ok(PageResponse::Page(layout.render(TwoFactorPage {
            recovery_codes: codes,
            ..page(&user, true)
        }))),
        Err(error @ AppError::Validation { .. }) => {
            let who = user.clone();
            let pending = db.read(move |conn| two_factor::pending(conn, &who)).await?;
            let Some(enrollment) = pending else {
                return refused(format!("/users/{id}/two-factor"), "start the set-up again");
            };
            let page = TwoFactorPage {
                setup: Some(setup_of(&enrollment)?),
                ..page(&user, false)
            };
            form_error(&layout, error, page)
        }
        Err(other) => Err(other),
    }
}

#[derive(FromForm)]
pub struct DisableForm {
    password: String,
    code: String,
}

/// `POST /users/<id>/two-factor/disable`: the password and a code.
#[post("/users/<id>/two-factor/disable", data = "<form>")]
async fn disable(
    actor: CurrentUser,
    layout: Layout<'_>,
    db: Db<'_>,
    id: i32,
    form: CsrfForm<DisableForm>,
) -> PageResult {
    let user = own(&actor, id)?;
    match accounts::two_factor_off(&db, user, &form.password, &form.code).await {
        Ok(()) => done(format!("/users/{id}"), "Two-factor login is off."),
        Err(error) => form_error(&layout, error, page(user, true)),
    }
}

#[derive(FromForm)]
pub struct LogInCodeForm {
    challenge: String,
    code: String,
    next: Option<String>,
}

/// The second step's form, for the login page to show after a right
/// password.
pub fn second_step(challenge: String, next: Option<String>) -> LogInCodePage {
    LogInCodePage {
        form: FormState::new(LogInCodeValues { challenge, next }),
    }
}

/// `POST /login/code`: the second step of a login.
#[post("/login/code", data = "<form>")]
async fn log_in_code(
    layout: Layout<'_>,
    db: Db<'_>,
    form: CsrfForm<LogInCodeForm>,
    settings: &State<Settings>,
    throttle: &State<LoginThrottle>,
    client: Option<IpAddr>,
) -> PageResult {
    let days = settings.session_days;
    let logged_in =
        accounts::log_in_with_code(&db, throttle, client, &form.challenge, &form.code, days).await;
    match logged_in {
        Ok((user, token)) => {
            super::auth::welcome_back(&layout, settings, &user, token, form.next.as_deref())
        }
        Err(AppError::Unauthorized(accounts::LOGIN_EXPIRED)) => {
            refused("/login", accounts::LOGIN_EXPIRED)
        }
        Err(AppError::Unauthorized(message)) => {
            let error = AppError::Validation {
                message: message.to_owned(),
                fields: FieldErrors::new(),
            };
            let page = second_step(form.challenge.clone(), form.next.clone());
            form_error(&layout, error, page)
        }
        Err(other) => Err(other),
    }
}
