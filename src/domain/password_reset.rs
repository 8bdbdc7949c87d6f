//! "Forgot your password?": a one-time link by mail, or printed for an
//! admin (`portfolio user reset-link`).
//!
//! - Asking answers the same whether or not an account matches, so the
//!   form cannot tell anyone who has an account here.
//! - The link's token is random, stored only as its SHA-256, one per
//!   account (asking again replaces it, so only the newest link works),
//!   and lasts [`LIFETIME`]. Using it, or any other change of the password
//!   (`User::update`), deletes it.
//! - Setting the new password ends every session and API token of the
//!   account (as any password change does).

use std::net::IpAddr;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::password_resets;
use crate::db::{write_transaction, Db, DbConnection};
use crate::domain::error::{AppError, AppResult};
use crate::domain::fields::Password;
use crate::domain::outbox::{self, Outbox};
use crate::domain::throttle::{self, LoginThrottle};
use crate::domain::{now, password, secret, User, UserChanges};
use crate::mail::Mail;

/// How long a reset link works.
pub const LIFETIME: Duration = Duration::hours(1);

/// What the person asking gets back, account or not.
pub const ASKED: &str = "If an account with an email address matches, a link to set a new \
     password is on its way there. It works for an hour.";

/// Why there is no link to ask for.
pub const NO_MAIL: &str = "this site does not send email: ask an admin to reset your password";

/// Why a link did not work (unknown, used, replaced or expired: the same).
const INVALID: &str = "this link is invalid or has expired: ask for a new one";

/// Stores `token` as account `user_id`'s one reset link, replacing any
/// older one.
fn store(conn: &mut DbConnection, user_id: i32, token: &str) -> AppResult<()> {
    diesel::delete(password_resets::table.find(user_id)).execute(conn)?;
    diesel::insert_into(password_resets::table)
        .values((
            password_resets::user_id.eq(user_id),
            password_resets::token_hash.eq(secret::sha256_hex(token)),
            password_resets::expires_at.eq(now() + LIFETIME),
        ))
        .execute(conn)?;
    Ok(())
}

/// Makes a new reset token for account `user_id` (replacing any older one)
/// and returns it: for `portfolio user reset-link`.
pub fn issue(conn: &mut DbConnection, user_id: i32) -> AppResult<String> {
    let token = secret::random_token();
    write_transaction(conn, |conn| store(conn, user_id, &token))?;
    Ok(token)
}

/// Deletes account `user_id`'s reset link, if any (its password changed).
pub fn revoke(conn: &mut DbConnection, user_id: i32) -> AppResult<()> {
    diesel::delete(password_resets::table.find(user_id)).execute(conn)?;
    Ok(())
}

/// How often links may be asked for, per uid or address typed and per
/// client address: every request counts, so nobody can flood an inbox or
/// the outbox. Managed by Rocket beside the login throttle.
pub struct AskThrottle(LoginThrottle);

impl AskThrottle {
    pub fn new(limit: usize, window: std::time::Duration) -> Self {
        AskThrottle(LoginThrottle::new(limit, window))
    }
}

/// Someone asks for a reset link for the account whose uid or email is
/// `who`. When one matches and has an email address, `compose` writes the
/// mail (given the account and the link's token), which is queued in the
/// same transaction as the token. Answers `Ok` either way.
pub async fn ask(
    db: &Db<'_>,
    outbox: &Outbox,
    throttle: &AskThrottle,
    client: Option<IpAddr>,
    who: &str,
    compose: impl FnOnce(&User, &str) -> AppResult<Mail>,
) -> AppResult<()> {
    if !outbox.sends() {
        return Err(AppError::Unavailable(NO_MAIL));
    }
    // Dropped at the end, the attempt counts, whatever became of it.
    let _attempt = throttle
        .0
        .begin(throttle::keys(who, client))
        .await
        .map_err(|wait| AppError::TooManyRequests(wait.as_secs().max(1)))?;
    let who = who.trim().to_owned();
    let user = db
        .read(move |conn| match User::find_by_uid(conn, &who)? {
            Some(user) => Ok(Some(user)),
            None => User::find_by_email(conn, &who),
        })
        .await?;
    let Some(user) = user.filter(|user| user.email.is_some()) else {
        return Ok(());
    };
    // The token is made here, not in the transaction, so that the mail
    // (rendered by the caller) can carry it; it is stored in the same
    // transaction as the mail is queued.
    let token = secret::random_token();
    let mail = compose(&user, &token)?;
    db.write(move |conn| {
        store(conn, user.id, &token)?;
        outbox::enqueue(conn, &mail)
    })
    .await?;
    outbox.wake();
    Ok(())
}

/// The account a still-valid `token` is for.
fn holder(conn: &mut DbConnection, token: &str) -> AppResult<Option<i32>> {
    let found: Option<(i32, NaiveDateTime)> = password_resets::table
        .filter(password_resets::token_hash.eq(secret::sha256_hex(token)))
        .select((password_resets::user_id, password_resets::expires_at))
        .first(conn)
        .optional()?;
    Ok(found
        .filter(|(_, expires_at)| *expires_at > now())
        .map(|(user_id, _)| user_id))
}

/// Whether `token` is a link that still works (for the page that asks for
/// the new password).
pub async fn is_valid(db: &Db<'_>, token: &str) -> AppResult<bool> {
    let token = token.to_owned();
    Ok(db.read(move |conn| holder(conn, &token)).await?.is_some())
}

/// Sets the password of the account `token` was made for, if the link
/// still works, and ends its sessions and API tokens. The link is spent.
pub async fn complete(db: &Db<'_>, token: &str, new_password: &str) -> AppResult<User> {
    let lookup = token.to_owned();
    let invalid = || AppError::invalid_field("token", INVALID);
    let user_id = db
        .read(move |conn| holder(conn, &lookup))
        .await?
        .ok_or_else(invalid)?;
    let user = db.read(move |conn| User::find(conn, user_id)).await?;
    let password = Password::parse(new_password, &user.uid, &user.name)
        .map_err(|message| AppError::invalid_field("password", message))?;
    let hash = password::hash(password).await?;
    let token = token.to_owned();
    db.write(move |conn| {
        // Checked again in the write: a link used twice at once, or replaced
        // meanwhile, sets nothing.
        if holder(conn, &token)? != Some(user_id) {
            return Err(invalid());
        }
        let changes = UserChanges {
            password_hash: Some(hash),
            updated_at: now(),
            ..Default::default()
        };
        // Ends sessions and tokens, and deletes the reset link.
        User::update(conn, user_id, &changes, None)
    })
    .await
}
