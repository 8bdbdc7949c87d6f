//! Personal API tokens: `Authorization: Bearer pft_…` acts as the token's
//! owner on the JSON API, for scripts that cannot keep a cookie.
//!
//! Like sessions, only the SHA-256 of a token is stored, so a copy of the
//! database lets nobody in; the token is shown once, when it is made.
//! Revoking deletes the row: the very next request with it is a 401.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::secret::{random_token, sha256_hex};
use crate::db::schema::{api_tokens, users};
use crate::db::DbConnection;
use crate::domain::error::{AppError, AppResult};
use crate::domain::{now, User};

/// Every token starts with this, so a leaked one is easy to recognise (and
/// to search for in a repository).
pub const PREFIX: &str = "pft_";

/// How many tokens one account may hold.
pub const MAX_PER_USER: i64 = 25;

/// A token as its owner sees it in the list: never the secret.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct ApiToken {
    pub id: i32,
    pub user_id: i32,
    pub name: String,
    pub created_at: NaiveDateTime,
}

/// What the owner calls a token ("backup script"): 1 to 100 characters
/// once trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenName(String);

impl TokenName {
    pub fn parse(raw: &str) -> Result<TokenName, &'static str> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("must not be empty");
        }
        if name.chars().count() > 100 {
            return Err("must be at most 100 characters");
        }
        if name.chars().any(char::is_control) {
            return Err("must not contain control characters");
        }
        Ok(TokenName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Makes a token for `user_id`; returns it and its secret, which is not
/// kept anywhere and cannot be shown again.
pub fn create(
    conn: &mut DbConnection,
    user_id: i32,
    name: &TokenName,
) -> AppResult<(ApiToken, String)> {
    crate::db::write_transaction(conn, |conn| {
        let held: i64 = api_tokens::table
            .filter(api_tokens::user_id.eq(user_id))
            .count()
            .get_result(conn)?;
        if held >= MAX_PER_USER {
            // A conflict with what the account holds, not a bad name: the
            // same request is fine once a token is revoked.
            let message = format!("you have {MAX_PER_USER} tokens already; revoke one first");
            return Err(AppError::Conflict {
                fields: [("name".to_owned(), message.clone())].into(),
                message,
            });
        }
        let secret = format!("{PREFIX}{}", random_token());
        let token = diesel::insert_into(api_tokens::table)
            .values((
                api_tokens::user_id.eq(user_id),
                api_tokens::name.eq(name.as_str()),
                api_tokens::token_hash.eq(sha256_hex(&secret)),
                api_tokens::created_at.eq(now()),
            ))
            .returning(crate::db::columns_of::<ApiToken>())
            .get_result::<ApiToken>(conn)?;
        Ok((token, secret))
    })
}

/// `user_id`'s tokens, newest first.
pub fn list(conn: &mut DbConnection, user_id: i32) -> AppResult<Vec<ApiToken>> {
    Ok(api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .select(ApiToken::as_select())
        .order(api_tokens::id.desc())
        .load(conn)?)
}

/// Revokes token `id` of `user_id`. Someone else's token is "not found",
/// not "forbidden": its existence is nobody else's business.
pub fn revoke(conn: &mut DbConnection, user_id: i32, id: i32) -> AppResult<()> {
    let deleted = diesel::delete(
        api_tokens::table
            .filter(api_tokens::id.eq(id))
            .filter(api_tokens::user_id.eq(user_id)),
    )
    .execute(conn)?;
    if deleted == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// The token with this secret and its owner, if it exists.
/// Revokes every token of `user_id` (when their password changes).
pub fn revoke_all_of(conn: &mut DbConnection, user_id: i32) -> AppResult<()> {
    diesel::delete(api_tokens::table.filter(api_tokens::user_id.eq(user_id))).execute(conn)?;
    Ok(())
}

pub fn resolve(conn: &mut DbConnection, secret: &str) -> AppResult<Option<(i32, User)>> {
    if !secret.starts_with(PREFIX) {
        return Ok(None);
    }
    Ok(api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::token_hash.eq(sha256_hex(secret)))
        // A suspended account's tokens stop at once.
        .filter(users::suspended_at.is_null())
        .select((api_tokens::id, User::as_select()))
        .first(conn)
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(TokenName::parse("  backup  ").unwrap().as_str(), "backup");
        assert!(TokenName::parse("   ").is_err());
        assert!(TokenName::parse(&"x".repeat(101)).is_err());
        assert!(TokenName::parse(&"é".repeat(100)).is_ok());
        assert!(TokenName::parse("new\nline").is_err());
    }
}
