//! Proving that an account's email address reaches it: a link by mail.
//!
//! - A new or changed address starts unverified (`User::update` clears the
//!   mark and the old link in the transaction that changes it); the web
//!   layer then [`send`]s a link, and its owner can ask again.
//! - The link's token is random, stored only as its SHA-256, one per
//!   account, for the address it was sent to, and lasts [`LIFETIME`]: a
//!   link for an address the account no longer has verifies nothing.
//! - Demo accounts are seeded verified.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{email_verifications, users};
use crate::db::{Db, DbConnection};
use crate::domain::error::{AppError, AppResult};
use crate::domain::outbox::{self, Outbox};
use crate::domain::{now, secret, User};
use crate::mail::Mail;

/// How long a verification link works.
pub const LIFETIME: Duration = Duration::days(2);

/// Why a link did not work.
const INVALID: &str = "this link is invalid or has expired, or the address has changed since: \
     ask for a new one from your profile";

/// Whether to send a link when one for the same address still works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resend {
    /// The owner asked again: a new link replaces the old.
    Asked,
    /// The account was just saved: only if no link for this address is
    /// pending (saving a profile twice sends one mail).
    IfNone,
}

/// Sends `user` a link to verify their current address, replacing any
/// older link: `compose` writes the mail, given the token. Nothing to do
/// for an account already verified.
pub async fn send(
    db: &Db<'_>,
    outbox: &Outbox,
    user: &User,
    resend: Resend,
    compose: impl FnOnce(&User, &str) -> AppResult<Mail>,
) -> AppResult<()> {
    if !outbox.sends() {
        return Err(AppError::Unavailable(
            "this site does not send email, so addresses cannot be verified",
        ));
    }
    let Some(email) = user.email.clone() else {
        return Err(AppError::invalid_field(
            "email",
            "there is no address to verify",
        ));
    };
    if user.email_verified_at.is_some() {
        return Ok(());
    }
    if resend == Resend::IfNone {
        let (user_id, address) = (user.id, email.clone());
        let pending = db
            .read(move |conn| -> AppResult<bool> {
                let sent: Option<(String, NaiveDateTime)> = email_verifications::table
                    .find(user_id)
                    .select((email_verifications::email, email_verifications::expires_at))
                    .first(conn)
                    .optional()?;
                Ok(sent.is_some_and(|(to, expires_at)| {
                    to.eq_ignore_ascii_case(&address) && expires_at > now()
                }))
            })
            .await?;
        if pending {
            return Ok(());
        }
    }
    let token = secret::random_token();
    let mail = compose(user, &token)?;
    let user_id = user.id;
    db.write(move |conn| {
        diesel::delete(email_verifications::table.find(user_id)).execute(conn)?;
        diesel::insert_into(email_verifications::table)
            .values((
                email_verifications::user_id.eq(user_id),
                email_verifications::email.eq(email),
                email_verifications::token_hash.eq(secret::sha256_hex(&token)),
                email_verifications::expires_at.eq(now() + LIFETIME),
            ))
            .execute(conn)?;
        outbox::enqueue(conn, &mail)
    })
    .await?;
    outbox.wake();
    Ok(())
}

/// Forgets account `user_id`'s verification link (its address changed).
pub fn revoke(conn: &mut DbConnection, user_id: i32) -> AppResult<()> {
    diesel::delete(email_verifications::table.find(user_id)).execute(conn)?;
    Ok(())
}

/// The account and address a still-valid link is for, if the account
/// still has that address.
fn holder(conn: &mut DbConnection, hash: &str) -> AppResult<Option<i32>> {
    let found: Option<(i32, String, NaiveDateTime)> = email_verifications::table
        .filter(email_verifications::token_hash.eq(hash))
        .select((
            email_verifications::user_id,
            email_verifications::email,
            email_verifications::expires_at,
        ))
        .first(conn)
        .optional()?;
    let Some((user_id, email, expires_at)) = found else {
        return Ok(None);
    };
    let current: Option<String> = users::table
        .find(user_id)
        .select(users::email)
        .first(conn)?;
    let same_address = current.is_some_and(|current| current.eq_ignore_ascii_case(&email));
    Ok((expires_at > now() && same_address).then_some(user_id))
}

/// Marks the address `token` was sent to as verified, if the link still
/// works and the account still has that address. The link is spent.
/// A link that does not work costs one read, never a write.
pub async fn complete(db: &Db<'_>, token: &str) -> AppResult<User> {
    let invalid = || AppError::invalid_field("token", INVALID);
    let hash = secret::sha256_hex(token);
    let lookup = hash.clone();
    db.read(move |conn| holder(conn, &lookup))
        .await?
        .ok_or_else(invalid)?;
    db.write(move |conn| {
        // Again in the write: used twice at once, or replaced meanwhile.
        let user_id = holder(conn, &hash)?.ok_or_else(invalid)?;
        revoke(conn, user_id)?;
        Ok(diesel::update(users::table.find(user_id))
            .set(users::email_verified_at.eq(now()))
            .returning(crate::db::columns_of::<User>())
            .get_result::<User>(conn)?)
    })
    .await
}
