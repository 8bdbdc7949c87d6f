//! Two-factor login with an authenticator app: TOTP (RFC 6238, SHA-1, six
//! digits, 30-second steps: what every authenticator app reads from the
//! QR code), through the `totp-rs` crate.
//!
//! - Enrolment: [`begin`] makes a pending secret (shown as a QR code and as
//!   text); it takes effect only once [`confirm`] sees a code made from it,
//!   which also makes ten one-time recovery codes (shown once, stored as
//!   SHA-256).
//! - A code is accepted once: the time step of the last accepted code is
//!   kept, and a code of that step or an older one is refused (no replay),
//!   while a code of the previous step is still accepted (a clock a little
//!   behind, or a code typed as it changed).
//! - Login: once the password is right, an account with two-factor login
//!   gets a [`challenge`] (a token that lasts [`CHALLENGE_MINUTES`]) instead
//!   of a session; the second step spends it with a code or a recovery
//!   code. Wrong codes count against the login throttle like passwords.
//! - API tokens are not affected: they are a second credential already.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use totp_rs::{Builder, Totp};

use crate::db::schema::{login_challenges, recovery_codes, two_factor};
use crate::db::{write_transaction, DbConnection};
use crate::domain::error::{AppError, AppResult};
use crate::domain::{now, secret, User};

/// How long the second step of a login may wait.
pub const CHALLENGE_MINUTES: i64 = 5;
/// How many recovery codes an enrolment makes.
pub const RECOVERY_CODES: usize = 10;
/// The name authenticator apps show above the code.
const ISSUER: &str = "portfolio";

/// A secret being enrolled: what the QR code and the text show.
#[derive(Debug, Clone)]
pub struct Enrollment {
    /// The secret in base32, for typing into an app by hand.
    pub secret: String,
    /// The `otpauth://` URL the QR code holds.
    pub url: String,
}

fn totp(secret_base32: &str, uid: &str) -> AppResult<Totp> {
    let bytes = totp_rs::Secret::try_from_base32(secret_base32)
        .map_err(|e| AppError::internal(std::io::Error::other(e.to_string())))?;
    Builder::new()
        .with_secret(bytes.as_bytes().to_vec())
        .with_account_name(uid)
        .with_issuer(Some(ISSUER))
        .with_skew(1)
        .build()
        .map_err(|e| AppError::internal(std::io::Error::other(e.to_string())))
}

/// Seconds since the epoch, the clock codes are made by.
pub fn clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// The code `secret_base32` makes at `time` (for tests and for people
/// checking a clock): six digits.
pub fn code_at(secret_base32: &str, time: u64) -> AppResult<String> {
    Ok(totp(secret_base32, "x")?.generate(time).to_string())
}

/// Whether account `user_id` logs in with a second factor.
pub fn is_enabled(conn: &mut DbConnection, user_id: i32) -> AppResult<bool> {
    let enabled: Option<Option<NaiveDateTime>> = two_factor::table
        .find(user_id)
        .select(two_factor::enabled_at)
        .first(conn)
        .optional()?;
    Ok(enabled.flatten().is_some())
}

/// Starts enrolling `user`: a new pending secret, replacing a pending one.
/// Refused when two-factor login is on already (turn it off first).
pub fn begin(conn: &mut DbConnection, user: &User) -> AppResult<Enrollment> {
    write_transaction(conn, |conn| {
        if is_enabled(conn, user.id)? {
            return Err(AppError::Conflict {
                message: "two-factor login is on already".to_owned(),
                fields: Default::default(),
            });
        }
        let mut bytes = [0u8; 20];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        let secret = totp_rs::Secret::from(bytes.to_vec()).to_base32();
        let url = totp(&secret, &user.uid)?
            .to_url()
            .map_err(|e| AppError::internal(std::io::Error::other(e.to_string())))?;
        diesel::delete(two_factor::table.find(user.id)).execute(conn)?;
        diesel::insert_into(two_factor::table)
            .values((
                two_factor::user_id.eq(user.id),
                two_factor::secret.eq(&secret),
            ))
            .execute(conn)?;
        Ok(Enrollment { secret, url })
    })
}

/// The pending enrolment of `user`, to show again (the form was sent back).
pub fn pending(conn: &mut DbConnection, user: &User) -> AppResult<Option<Enrollment>> {
    let found: Option<(String, Option<NaiveDateTime>)> = two_factor::table
        .find(user.id)
        .select((two_factor::secret, two_factor::enabled_at))
        .first(conn)
        .optional()?;
    match found {
        Some((secret, None)) => {
            let url = totp(&secret, &user.uid)?
                .to_url()
                .map_err(|e| AppError::internal(std::io::Error::other(e.to_string())))?;
            Ok(Some(Enrollment { secret, url }))
        }
        _ => Ok(None),
    }
}

const WRONG_CODE: &str = "that code is not right (or was used already): try the next one";

/// Accepts `code` for account `user_id` if its secret made it within a step
/// of `time` and it is newer than the last code accepted; records its step.
fn accept_code(
    conn: &mut DbConnection,
    user: &User,
    code: &str,
    time: u64,
    must_be_enabled: bool,
) -> AppResult<bool> {
    let found: Option<(String, Option<NaiveDateTime>, i64)> = two_factor::table
        .find(user.id)
        .select((
            two_factor::secret,
            two_factor::enabled_at,
            two_factor::last_step,
        ))
        .first(conn)
        .optional()?;
    let Some((secret, enabled_at, last_step)) = found else {
        return Ok(false);
    };
    if must_be_enabled != enabled_at.is_some() {
        return Ok(false);
    }
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(step) = totp(&secret, &user.uid)?.check(&code, time) else {
        return Ok(false);
    };
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    if step <= last_step {
        return Ok(false);
    }
    // Only if no other request took this step meanwhile.
    let taken = diesel::update(
        two_factor::table
            .find(user.id)
            .filter(two_factor::last_step.lt(step)),
    )
    .set(two_factor::last_step.eq(step))
    .execute(conn)?;
    Ok(taken == 1)
}

/// Spends recovery code `code` of account `user_id`, if it is one unused.
fn accept_recovery_code(conn: &mut DbConnection, user_id: i32, code: &str) -> AppResult<bool> {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    if normal.is_empty() {
        return Ok(false);
    }
    let spent = diesel::update(
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(user_id))
            .filter(recovery_codes::code_hash.eq(secret::sha256_hex(&normal)))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(now()))
    .execute(conn)?;
    Ok(spent == 1)
}

/// Turns two-factor login on for `user` once `code` (made from the pending
/// secret) is right; returns the ten recovery codes, to show this once.
pub fn confirm(
    conn: &mut DbConnection,
    user: &User,
    code: &str,
    time: u64,
) -> AppResult<Vec<String>> {
    write_transaction(conn, |conn| {
        if !accept_code(conn, user, code, time, false)? {
            return Err(AppError::invalid_field("code", WRONG_CODE));
        }
        diesel::update(two_factor::table.find(user.id))
            .set(two_factor::enabled_at.eq(now()))
            .execute(conn)?;
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user.id)))
            .execute(conn)?;
        let codes: Vec<String> = (0..RECOVERY_CODES)
            .map(|_| {
                let raw = secret::random_hex(5);
                format!("{}-{}", &raw[..5], &raw[5..])
            })
            .collect();
        for code in &codes {
            diesel::insert_into(recovery_codes::table)
                .values((
                    recovery_codes::user_id.eq(user.id),
                    recovery_codes::code_hash.eq(secret::sha256_hex(&code.replace('-', ""))),
                ))
                .execute(conn)?;
        }
        Ok(codes)
    })
}

/// Checks the second factor of `user`: a code from the app, or a recovery
/// code (spent). Either is accepted once.
pub fn check(conn: &mut DbConnection, user: &User, code: &str, time: u64) -> AppResult<bool> {
    write_transaction(conn, |conn| {
        Ok(
            accept_code(conn, user, code, time, true)?
                || accept_recovery_code(conn, user.id, code)?,
        )
    })
}

/// Turns two-factor login off for `user`, given a valid code or recovery
/// code (the caller has checked the password).
pub fn disable(conn: &mut DbConnection, user: &User, code: &str, time: u64) -> AppResult<()> {
    write_transaction(conn, |conn| {
        if !check(conn, user, code, time)? {
            return Err(AppError::invalid_field("code", WRONG_CODE));
        }
        remove(conn, user.id)
    })
}

/// Removes account `user_id`'s second factor, recovery codes and pending
/// logins: `portfolio user reset-2fa`, for someone who lost both.
pub fn remove(conn: &mut DbConnection, user_id: i32) -> AppResult<()> {
    diesel::delete(two_factor::table.find(user_id)).execute(conn)?;
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    diesel::delete(login_challenges::table.filter(login_challenges::user_id.eq(user_id)))
        .execute(conn)?;
    Ok(())
}

/// A login half done for account `user_id`: returns its token.
pub fn challenge(conn: &mut DbConnection, user_id: i32) -> AppResult<String> {
    let token = secret::random_token();
    diesel::insert_into(login_challenges::table)
        .values((
            login_challenges::user_id.eq(user_id),
            login_challenges::token_hash.eq(secret::sha256_hex(&token)),
            login_challenges::expires_at.eq(now() + Duration::minutes(CHALLENGE_MINUTES)),
        ))
        .execute(conn)?;
    Ok(token)
}

/// The account a live challenge `token` is for.
pub fn challenged(conn: &mut DbConnection, token: &str) -> AppResult<Option<User>> {
    let found: Option<(i32, NaiveDateTime)> = login_challenges::table
        .filter(login_challenges::token_hash.eq(secret::sha256_hex(token)))
        .select((login_challenges::user_id, login_challenges::expires_at))
        .first(conn)
        .optional()?;
    match found {
        Some((user_id, expires_at)) if expires_at > now() => Ok(Some(User::find(conn, user_id)?)),
        _ => Ok(None),
    }
}

/// Spends challenge `token` (the login finished), and forgets expired ones
/// of the same account.
pub fn spend_challenge(conn: &mut DbConnection, token: &str, user_id: i32) -> AppResult<bool> {
    let spent = diesel::delete(
        login_challenges::table
            .filter(login_challenges::token_hash.eq(secret::sha256_hex(token)))
            .filter(login_challenges::expires_at.gt(now())),
    )
    .execute(conn)?;
    diesel::delete(
        login_challenges::table
            .filter(login_challenges::user_id.eq(user_id))
            .filter(login_challenges::expires_at.le(now())),
    )
    .execute(conn)?;
    Ok(spent == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_rfc_6238() {
        // RFC 6238, appendix B: the SHA-1 secret "12345678901234567890".
        let secret = totp_rs::Secret::from(b"12345678901234567890".to_vec()).to_base32();
        assert_eq!(code_at(&secret, 59).unwrap(), "287082");
        assert_eq!(code_at(&secret, 1_111_111_109).unwrap(), "081804");
        assert_eq!(code_at(&secret, 2_000_000_000).unwrap(), "279037");
    }
}
