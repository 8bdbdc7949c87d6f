//! Suspending an account: an admin's decision, with a reason kept.
//!
//! While suspended, the account cannot log in, its sessions and API tokens
//! stop working (both are looked up together with the account, which must
//! not be suspended), and its posts are hidden from everyone but admins.
//! Hiding is unpublishing, with each post's state held in
//! `posts.held_published`: every list, count, search and trending ranking
//! already leaves unpublished posts out through its indexes and kept
//! counts, so hiding costs nothing on any read. Lifting the suspension puts
//! every post back as it was, and the sessions and tokens work again.
//! Its comments are hidden too (`comments.hidden`, uncounted) and come back
//! with the lifting.
//! The last admin who is not suspended cannot be suspended.

use diesel::prelude::*;

use crate::db::schema::{login_challenges, posts, users};
use crate::db::{write_transaction, DbConnection};
use crate::domain::comments;
use crate::domain::error::{AppError, AppResult, FieldErrors};
use crate::domain::{now, Role, User};

/// The longest reason kept.
pub const MAX_REASON_CHARS: usize = 500;

/// Suspends account `id` on behalf of `actor` (an admin), for `reason`.
pub fn suspend(conn: &mut DbConnection, actor: &User, id: i32, reason: &str) -> AppResult<User> {
    if !actor.is_admin() {
        return Err(AppError::Forbidden("only admins suspend accounts"));
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(AppError::invalid_field(
            "reason",
            format!("must be 1 to {MAX_REASON_CHARS} characters: say why"),
        ));
    }
    // PostgreSQL's text cannot hold NUL (a 500 there); it is no reason's
    // character anyway.
    if reason.contains('\0') {
        return Err(AppError::invalid_field(
            "reason",
            "must not contain NUL characters",
        ));
    }
    write_transaction(conn, |conn| {
        let target = User::find(conn, id)?;
        if target.is_admin() && target.suspended_at.is_none() && active_admins(conn)? <= 1 {
            return Err(AppError::Conflict {
                message: "the last admin cannot be suspended".to_owned(),
                fields: FieldErrors::new(),
            });
        }
        // Held once: suspending again changes only the reason.
        diesel::update(
            posts::table
                .filter(posts::user_id.eq(id))
                .filter(posts::held_published.is_null()),
        )
        .set((
            posts::held_published.eq(posts::published.nullable()),
            posts::published.eq(false),
        ))
        .execute(conn)?;
        comments::set_hidden_for(conn, id, true)?;
        diesel::delete(login_challenges::table.filter(login_challenges::user_id.eq(id)))
            .execute(conn)?;
        let since = target.suspended_at.unwrap_or_else(now);
        Ok(diesel::update(users::table.find(id))
            .set((
                users::suspended_at.eq(since),
                users::suspension_reason.eq(reason),
            ))
            .returning(crate::db::columns_of::<User>())
            .get_result::<User>(conn)?)
    })
}

/// Lifts the suspension of account `id` on behalf of `actor` (an admin):
/// its posts come back as they were.
pub fn lift(conn: &mut DbConnection, actor: &User, id: i32) -> AppResult<User> {
    if !actor.is_admin() {
        return Err(AppError::Forbidden("only admins lift suspensions"));
    }
    write_transaction(conn, |conn| {
        User::find(conn, id)?;
        diesel::update(
            posts::table
                .filter(posts::user_id.eq(id))
                .filter(posts::held_published.is_not_null()),
        )
        .set((
            posts::published.eq(posts::held_published.assume_not_null()),
            posts::held_published.eq(None::<bool>),
        ))
        .execute(conn)?;
        comments::set_hidden_for(conn, id, false)?;
        Ok(diesel::update(users::table.find(id))
            .set((
                users::suspended_at.eq(None::<chrono::NaiveDateTime>),
                users::suspension_reason.eq(None::<String>),
            ))
            .returning(crate::db::columns_of::<User>())
            .get_result::<User>(conn)?)
    })
}

/// Admins who are not suspended (a handful of rows, by the role).
fn active_admins(conn: &mut DbConnection) -> QueryResult<i64> {
    users::table
        .filter(users::role.eq(Role::Admin))
        .filter(users::suspended_at.is_null())
        .count()
        .get_result(conn)
}
