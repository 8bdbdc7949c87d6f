//! `/api/me/two-factor`: turn two-factor login on (a secret, then a code
//! that proves the app has it) and off (the password and a code).

use rocket::response::status::NoContent;
use rocket::serde::json::Json;
use rocket::{post, routes, Route};
use serde::{Deserialize, Serialize};

use super::{body, JsonBody};
use crate::db::Db;
use crate::domain::error::AppResult;
use crate::domain::{accounts, two_factor, CurrentUser};

pub fn routes() -> Vec<Route> {
    routes![begin, confirm, disable]
}

#[derive(Serialize)]
pub struct EnrollmentBody {
    /// The secret in base32, to type into an app by hand.
    secret: String,
    /// The `otpauth://` URL the QR code holds.
    otpauth_url: String,
    /// The QR code, as SVG.
    qr_svg: String,
}

/// `POST /api/me/two-factor`: a new secret (replacing one not yet
/// confirmed), as text, URL and QR code. Two-factor login is not on until
/// confirmed; 409 when it is on already.
#[post("/me/two-factor")]
async fn begin(db: Db<'_>, actor: CurrentUser) -> AppResult<Json<EnrollmentBody>> {
    let user = actor.user.clone();
    let enrollment = db.write(move |conn| two_factor::begin(conn, &user)).await?;
    Ok(Json(EnrollmentBody {
        qr_svg: crate::web::qr::svg(&enrollment.url)?,
        secret: enrollment.secret,
        otpauth_url: enrollment.url,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Code {
    code: String,
}

#[derive(Serialize)]
pub struct RecoveryCodes {
    /// Each works once, instead of a code, when the phone is lost; shown
    /// only now.
    recovery_codes: Vec<String>,
}

/// `POST /api/me/two-factor/confirm`: `{"code"}` from the app turns
/// two-factor login on, and answers with ten recovery codes; 422 for a
/// wrong code.
#[post("/me/two-factor/confirm", data = "<code>")]
async fn confirm(
    db: Db<'_>,
    actor: CurrentUser,
    code: JsonBody<Code>,
) -> AppResult<Json<RecoveryCodes>> {
    let Code { code } = body(code)?;
    let user = actor.user.clone();
    let codes = db
        .write(move |conn| two_factor::confirm(conn, &user, &code, two_factor::clock()))
        .await?;
    Ok(Json(RecoveryCodes {
        recovery_codes: codes,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Disable {
    password: String,
    code: String,
}

/// `POST /api/me/two-factor/disable`: `{"password", "code"}` (a code from
/// the app or a recovery code) turns it off; 422 naming what is wrong.
#[post("/me/two-factor/disable", data = "<off>")]
async fn disable(db: Db<'_>, actor: CurrentUser, off: JsonBody<Disable>) -> AppResult<NoContent> {
    let Disable { password, code } = body(off)?;
    accounts::two_factor_off(&db, &actor.user, &password, &code).await?;
    Ok(NoContent)
}
