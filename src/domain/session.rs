//! Login sessions: a random token (carried by the browser in a cookie, see
//! `web::session_cookie`) and a row in `sessions` keyed by the token's
//! SHA-256. Deleting the row ends the session wherever its cookie is.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::db::schema::{sessions, users};
use crate::db::DbConnection;
use crate::domain::error::AppResult;
use crate::domain::{now, User};

/// A new random token (256 bits, URL-safe base64), as it goes into the
/// cookie (or, prefixed, into an API token).
pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

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
    let token = new_token();
    let created_at = now();
    let row = SessionRow {
        user_id,
        token_hash: token_hash(&token),
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
    let hash = token_hash(token);
    let now = now();
    Ok(crate::natively!(conn, |c| sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(&hash))
        .filter(sessions::expires_at.gt(now))
        .select((sessions::id, User::as_select()))
        .first(c)
        .optional())?)
}

/// Ends one session.
pub fn end(conn: &mut DbConnection, session_id: i32) -> AppResult<()> {
    diesel::delete(sessions::table.find(session_id)).execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_url_safe() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn only_a_hash_of_the_token_is_stored() {
        let token = new_token();
        let hash = token_hash(&token);
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&token));
    }
}
