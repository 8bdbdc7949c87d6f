//! Who may sign up: `registration = "open" | "invite" | "closed"`, and the
//! invites an admin makes for the middle one.
//!
//! The rule is applied in one place, [`admit`], inside the transaction that
//! creates the account, whichever path the sign-up came by (the API, the
//! pages): an invite is checked and spent together with the new account,
//! so one invite makes one account even when used twice at once.
//! Admins create accounts in every mode (the API while logged in as one,
//! and `portfolio user create`).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::config::Registration;
use crate::db::schema::invites;
use crate::db::{Db, DbConnection};
use crate::domain::error::{AppError, AppResult};
use crate::domain::{now, secret, User};

/// How long an invite works unless its maker says otherwise.
pub const DEFAULT_DAYS: u32 = 7;
/// The longest an invite may last.
pub const MAX_DAYS: u32 = 90;

/// An invite as admins see it (never its token, which only its link has).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invites)]
pub struct Invite {
    pub id: i32,
    pub created_by: Option<i32>,
    pub expires_at: NaiveDateTime,
    pub used_by: Option<i32>,
    pub used_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

impl Invite {
    /// Whether it can still be used.
    pub fn is_open(&self) -> bool {
        self.used_at.is_none() && self.expires_at > now()
    }
}

/// How a sign-up asks to be let in.
#[derive(Debug, Clone)]
pub struct Admission {
    pub mode: Registration,
    /// The invite's token, as the link carried it.
    pub invite: Option<String>,
    /// An admin is creating the account.
    pub by_admin: bool,
}

/// Why a sign-up was turned away.
pub const INVITE_ONLY: &str =
    "this site takes new accounts by invitation only: ask an admin for an invite link";
pub const CLOSED: &str = "this site does not take new accounts: an admin can create one for you";
const BAD_INVITE: &str = "is not a valid invite: it may have been used, revoked or expired";

/// Makes an invite, valid for `days`, on behalf of `actor`, who must be an
/// admin; returns it and its token (shown once).
pub async fn make(db: &Db<'_>, actor: &User, days: u32) -> AppResult<(Invite, String)> {
    if !actor.is_admin() {
        return Err(AppError::Forbidden("only admins make invites"));
    }
    let by = actor.id;
    db.write(move |conn| create(conn, Some(by), days)).await
}

/// Withdraws unused invite `id` on behalf of `actor`, an admin.
pub async fn withdraw(db: &Db<'_>, actor: &User, id: i32) -> AppResult<()> {
    if !actor.is_admin() {
        return Err(AppError::Forbidden("only admins withdraw invites"));
    }
    db.write(move |conn| revoke(conn, id)).await
}

/// The newest invites, for `actor`, an admin.
pub async fn list(db: &Db<'_>, actor: &User) -> AppResult<Vec<Invite>> {
    if !actor.is_admin() {
        return Err(AppError::Forbidden("only admins see invites"));
    }
    db.read(|conn| newest(conn, LISTED)).await
}

/// How many invites the lists show (the newest).
pub const LISTED: i64 = 100;

/// The path of the sign-up page that `token` opens.
pub fn path(token: &str) -> String {
    format!("/signup?invite={token}")
}

/// Makes an invite by `created_by` (`None`: the server's operator, from
/// the command line), valid for `days`; returns it and its token.
pub fn create(
    conn: &mut DbConnection,
    created_by: Option<i32>,
    days: u32,
) -> AppResult<(Invite, String)> {
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(AppError::invalid_field(
            "days",
            format!("must be between 1 and {MAX_DAYS}"),
        ));
    }
    let token = secret::random_token();
    let invite = diesel::insert_into(invites::table)
        .values((
            invites::token_hash.eq(secret::sha256_hex(&token)),
            invites::created_by.eq(created_by),
            invites::expires_at.eq(now() + Duration::days(days.into())),
        ))
        .returning(crate::db::columns_of::<Invite>())
        .get_result::<Invite>(conn)?;
    Ok((invite, token))
}

/// The newest `limit` invites, newest first.
pub fn newest(conn: &mut DbConnection, limit: i64) -> AppResult<Vec<Invite>> {
    Ok(invites::table
        .order(invites::id.desc())
        .limit(limit)
        .select(Invite::as_select())
        .load(conn)?)
}

/// Withdraws an unused invite (a used one stays, as a record).
pub fn revoke(conn: &mut DbConnection, id: i32) -> AppResult<()> {
    let gone =
        diesel::delete(invites::table.find(id).filter(invites::used_at.is_null())).execute(conn)?;
    if gone == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// Whether a sign-up may go ahead; in invite mode, the open invite it
/// spends (to [`spend`] once the account exists).
pub fn admit(conn: &mut DbConnection, admission: &Admission) -> AppResult<Option<i32>> {
    if admission.by_admin {
        return Ok(None);
    }
    match admission.mode {
        Registration::Open => Ok(None),
        Registration::Closed => Err(AppError::Forbidden(CLOSED)),
        Registration::Invite => {
            let token = admission
                .invite
                .as_deref()
                .map(str::trim)
                .filter(|token| !token.is_empty())
                .ok_or(AppError::Forbidden(INVITE_ONLY))?;
            let id: Option<i32> = invites::table
                .filter(invites::token_hash.eq(secret::sha256_hex(token)))
                .filter(invites::used_at.is_null())
                .filter(invites::expires_at.gt(now()))
                .select(invites::id)
                .first(conn)
                .optional()?;
            id.map(Some)
                .ok_or_else(|| AppError::invalid_field("invite", BAD_INVITE))
        }
    }
}

/// Marks invite `id` used by the new account `user_id`. Fails (and so
/// undoes the sign-up) when another sign-up spent it first.
pub fn spend(conn: &mut DbConnection, id: i32, user_id: i32) -> AppResult<()> {
    let spent = diesel::update(invites::table.find(id).filter(invites::used_at.is_null()))
        .set((invites::used_by.eq(user_id), invites::used_at.eq(now())))
        .execute(conn)?;
    if spent == 0 {
        return Err(AppError::invalid_field("invite", BAD_INVITE));
    }
    Ok(())
}
