//! Login sessions: a random token (carried by the browser in a cookie, see
//! `web::session_cookie`) and a row in `sessions` keyed by the token's
//! SHA-256. Deleting the row ends the session wherever its cookie is.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use crate::db::schema::{sessions, users};
use crate::db::DbConnection;
use crate::domain::error::AppResult;
use crate::domain::secret::{random_token, sha256_hex};
use crate::domain::{now, User};

#[derive(Insertable)]
#[diesel(table_name = sessions)]
struct SessionRow {
    user_id: i32,
    token_hash: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
}

/// Starts a session for `user_id` lasting `days`; returns its token.
pub fn start(conn: &mut DbConnection, user_id: i32, days: u32) -> AppResult<String> {
    let token = random_token();
    let created_at = now();
    let row = SessionRow {
        user_id,
        token_hash: sha256_hex(&token),
        created_at,
        expires_at: created_at + TimeDelta::days(days.into()),
    };
    diesel::insert_into(sessions::table)
        .values(&row)
        .execute(conn)?;
    Ok(token)
}

/// The live session with this token and its user, if any.
pub fn resolve(conn: &mut DbConnection, token: &str) -> AppResult<Option<(i32, User)>> {
    let hash = sha256_hex(token);
    let now = now();
    Ok(crate::natively!(conn, |c| sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(&hash))
        .filter(sessions::expires_at.gt(now))
        // A suspended account's sessions stop at once (and work again when
        // the suspension is lifted, if they have not expired).
        .filter(users::suspended_at.is_null())
        .select((sessions::id, User::as_select()))
        .first(c)
        .optional())?)
}

/// Ends one session.
pub fn end(conn: &mut DbConnection, session_id: i32) -> AppResult<()> {
    diesel::delete(sessions::table.find(session_id)).execute(conn)?;
    Ok(())
}

/// Ends every session of `user_id` but `keep` (the one asking, if any).
pub fn end_all_of(conn: &mut DbConnection, user_id: i32, keep: Option<i32>) -> AppResult<()> {
    let of_user = sessions::table.filter(sessions::user_id.eq(user_id));
    // (`id != NULL` is never true in SQL: no session to keep means no
    // second filter, not a comparison with NULL.)
    match keep {
        Some(keep) => diesel::delete(of_user.filter(sessions::id.ne(keep))).execute(conn)?,
        None => diesel::delete(of_user).execute(conn)?,
    };
    Ok(())
}
