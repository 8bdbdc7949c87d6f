//! Account use cases that mix slow password work with database writes.
//! The API and the pages both call these, so a rule is enforced in one place.
//!
//! Each one hashes or verifies on the hashing threads first and only then takes
//! a pooled connection for the short write, so no connection (and no write
//! lock) is held while argon2 runs.

use std::net::IpAddr;

use crate::db::Db;
use crate::domain::error::{AppError, AppResult};
use crate::domain::images::Uploads;
use crate::domain::invite::{self, Admission};
use crate::domain::throttle::{self, LoginThrottle};
use crate::domain::user::{SignUp, UserPatch};
use crate::domain::{password, session, two_factor, CurrentUser};
use crate::domain::{NewUser, User};

/// A valid sign-up with its password hashed (off the async workers).
async fn validated_with_hash(form: &SignUp) -> AppResult<(NewUser, String)> {
    let new = form.validate()?;
    let hash = password::hash(new.password.clone()).await?;
    Ok((new, hash))
}

/// Creates an account from a sign-up form, if `admission` lets it in
/// (see [`invite::admit`]): refused before the password is hashed, and
/// checked again, with the invite spent, in the transaction that creates
/// the account.
pub async fn sign_up(db: &Db<'_>, form: &SignUp, admission: Admission) -> AppResult<User> {
    let (new, hash) = admitted_with_hash(db, form, &admission).await?;
    db.write(move |conn| create_admitted(conn, &admission, &new, &hash))
        .await
}

/// Creates an account and logs it in, in one transaction: either both
/// happen or neither (no account left behind without its session).
pub async fn sign_up_and_log_in(
    db: &Db<'_>,
    form: &SignUp,
    admission: Admission,
    session_days: u32,
) -> AppResult<(User, String)> {
    let (new, hash) = admitted_with_hash(db, form, &admission).await?;
    db.write(move |conn| {
        crate::db::write_transaction(conn, |conn| {
            let user = create_admitted(conn, &admission, &new, &hash)?;
            let token = session::start(conn, user.id, session_days)?;
            Ok((user, token))
        })
    })
    .await
}

/// The admission checked (a read), then the form validated and its
/// password hashed (off the async workers).
async fn admitted_with_hash(
    db: &Db<'_>,
    form: &SignUp,
    admission: &Admission,
) -> AppResult<(NewUser, String)> {
    let check = admission.clone();
    db.read(move |conn| invite::admit(conn, &check)).await?;
    validated_with_hash(form).await
}

/// Creates the account if `admission` still lets it in, spending its
/// invite, in one transaction.
pub fn create_admitted(
    conn: &mut crate::db::DbConnection,
    admission: &Admission,
    new: &NewUser,
    hash: &str,
) -> AppResult<User> {
    crate::db::write_transaction(conn, |conn| {
        let invite = invite::admit(conn, admission)?;
        let user = User::create(conn, new, hash)?;
        if let Some(id) = invite {
            invite::spend(conn, id, user.id)?;
        }
        Ok(user)
    })
}

/// Checks a uid and password; on success starts a session and returns the
/// user and the session token. An unknown uid and a wrong password give the
/// same answer after the same work. Too many failures for the account or
/// from the `client` address are refused before any work (429).
pub async fn log_in(
    db: &Db<'_>,
    throttle: &LoginThrottle,
    client: Option<IpAddr>,
    uid: &str,
    candidate: &str,
    session_days: u32,
) -> AppResult<(User, String)> {
    let attempt = throttle
        .begin(throttle::keys(uid, client))
        .await
        .map_err(|wait| AppError::TooManyRequests(wait.as_secs().max(1)))?;
    // Our own failures (database busy, hashing unavailable) are not the
    // client's failed guesses: those attempts count as neither.
    let lookup = uid.to_owned();
    let user = match db.read(move |conn| User::find_by_uid(conn, &lookup)).await {
        Ok(user) => user,
        Err(error) => {
            attempt.undecided();
            return Err(error);
        }
    };
    let stored = user.as_ref().map(|user| user.password_hash.clone());
    let verified = match password::verify(candidate.to_owned(), stored).await {
        Ok(verified) => verified,
        Err(error) => {
            attempt.undecided();
            return Err(error);
        }
    };
    match user {
        Some(user) if verified && user.suspended_at.is_some() => {
            // The password was right; the account may not be used.
            attempt.succeeded();
            Err(AppError::Forbidden(SUSPENDED))
        }
        Some(user) if verified => {
            let user_id = user.id;
            // With two-factor login, a right password earns a challenge,
            // not a session: the code comes next. (Read first: most
            // accounts have none, and their login stays one write.)
            let second = match db
                .read(move |conn| two_factor::is_enabled(conn, user_id))
                .await
            {
                Ok(false) => Ok(None),
                Ok(true) => {
                    db.write(move |conn| two_factor::challenge(conn, user_id).map(Some))
                        .await
                }
                Err(error) => Err(error),
            };
            match second {
                Ok(Some(challenge)) => {
                    attempt.succeeded();
                    return Err(AppError::SecondFactorRequired(challenge));
                }
                Ok(None) => {}
                Err(error) => {
                    attempt.undecided();
                    return Err(error);
                }
            }
            match db
                .write(move |conn| session::start(conn, user_id, session_days))
                .await
            {
                Ok(token) => {
                    attempt.succeeded();
                    Ok((user, token))
                }
                Err(error) => {
                    attempt.undecided();
                    Err(error)
                }
            }
        }
        // Dropped without success: the attempt counts as a failure.
        _ => Err(AppError::Unauthorized("wrong user name or password")),
    }
}

/// Why a suspended account cannot log in.
pub const SUSPENDED: &str = "this account is suspended: ask an admin";

/// Why the second step of a login cannot go on: its challenge is unknown,
/// spent or older than `two_factor::CHALLENGE_MINUTES`.
pub const LOGIN_EXPIRED: &str = "this login has expired: start again with your password";

/// The second step of a login with two-factor login: the challenge from
/// the first step and a code from the app (or a recovery code). Wrong
/// codes count against the account and the address like wrong passwords.
/// On success the challenge is spent and a session starts.
pub async fn log_in_with_code(
    db: &Db<'_>,
    throttle: &LoginThrottle,
    client: Option<IpAddr>,
    challenge: &str,
    code: &str,
    session_days: u32,
) -> AppResult<(User, String)> {
    let lookup = challenge.to_owned();
    let user = db
        .read(move |conn| two_factor::challenged(conn, &lookup))
        .await?
        .ok_or(AppError::Unauthorized(LOGIN_EXPIRED))?;
    let attempt = throttle
        .begin(throttle::keys(&user.uid, client))
        .await
        .map_err(|wait| AppError::TooManyRequests(wait.as_secs().max(1)))?;
    let (who, challenge, code) = (user.clone(), challenge.to_owned(), code.to_owned());
    let outcome = db
        .write(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                if !two_factor::check(conn, &who, &code, two_factor::clock())? {
                    return Ok(None);
                }
                if !two_factor::spend_challenge(conn, &challenge, who.id)? {
                    return Err(AppError::Unauthorized(LOGIN_EXPIRED));
                }
                session::start(conn, who.id, session_days).map(Some)
            })
        })
        .await;
    match outcome {
        Ok(Some(token)) => {
            attempt.succeeded();
            Ok((user, token))
        }
        // Dropped without success: the attempt counts as a failure.
        Ok(None) => Err(AppError::Unauthorized("that code is not right")),
        Err(error @ AppError::Unauthorized(_)) => Err(error),
        Err(error) => {
            attempt.undecided();
            Err(error)
        }
    }
}

/// Turns two-factor login off for `user`, given their password and a code
/// (or a recovery code): both, so neither a stolen session nor a stolen
/// phone alone can do it.
pub async fn two_factor_off(db: &Db<'_>, user: &User, password: &str, code: &str) -> AppResult<()> {
    if !password::verify(password.to_owned(), Some(user.password_hash.clone())).await? {
        return Err(AppError::invalid_field("password", "is not correct"));
    }
    let (who, code) = (user.clone(), code.to_owned());
    db.write(move |conn| two_factor::disable(conn, &who, &code, two_factor::clock()))
        .await
}

/// Applies `patch` to account `id` on behalf of `actor`.
pub async fn update(
    db: &Db<'_>,
    actor: &CurrentUser,
    id: i32,
    patch: UserPatch,
) -> AppResult<User> {
    let target = db.read(move |conn| User::find(conn, id)).await?;
    let (valid, needs_current) = patch.authorize(&actor.user, &target)?;
    if needs_current {
        let current = valid.current_password.clone().unwrap_or_default();
        if !password::verify(current, Some(target.password_hash.clone())).await? {
            return Err(AppError::invalid_field(
                "current_password",
                "is not correct",
            ));
        }
    }
    let hash = match valid.password.clone() {
        Some(new_password) => Some(password::hash(new_password).await?),
        None => None,
    };
    // Changing your own password keeps the session you are using; an admin's
    // reset ends every session of the account.
    let keep_session = actor.session_id().filter(|_| actor.user.id == id);
    let changes = valid.into_changes(hash);
    db.write(move |conn| User::update(conn, id, &changes, keep_session))
        .await
}

/// Deletes account `id` on behalf of `actor` (the owner or an admin),
/// then the images of its posts.
pub async fn delete(db: &Db<'_>, uploads: &Uploads, actor: &CurrentUser, id: i32) -> AppResult<()> {
    let target = db.read(move |conn| User::find(conn, id)).await?;
    if !target.can_be_managed_by(&actor.user) {
        return Err(AppError::Forbidden("you can only delete your own account"));
    }
    let images = db.write(move |conn| User::delete(conn, id)).await?;
    uploads.remove(images).await;
    Ok(())
}
