//! `portfolio db export` and `portfolio db import`: every row of every
//! table as one JSON document, read from one database and written into
//! another, of either backend. This is how a SQLite portfolio moves to
//! PostgreSQL (and back): export from the old, import into the new.
//!
//! Ids are kept, so links and sessions stay valid; derived data (the
//! published-post count, the search index, the dashboard's counts) is
//! rebuilt by the target's own triggers and indexes as the rows go in. The
//! dashboard's daily table (`site_daily`) is not carried either: its
//! sign-ups and posts per day follow the rows by triggers, and its views per
//! day are summed from `post_daily_views` once they are in
//! ([`crate::domain::dashboard::recount_views`]).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::{
    api_tokens, comments, post_daily_views, post_tags, posts, sessions, tags, users,
};
use crate::db::{self, DbConnection};
use crate::domain::error::{AppError, AppResult};

/// What an export file says it is, so that `import` refuses anything else.
pub const FORMAT: &str = "portfolio export";
pub const FORMAT_VERSION: u32 = 1;

// The rows as stored, one type per table. They repeat the columns of the
// models (`User`, `Post`) on purpose: the models never derive `Serialize`,
// which would put a password hash one `Json(user)` away from a response, and
// the export format must not change whenever a model does.

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i32,
    pub uid: String,
    pub name: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub dob: Option<NaiveDate>,
    pub role: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Absent from exports made before email verification.
    #[serde(default)]
    pub email_verified_at: Option<NaiveDateTime>,
    /// Absent from exports made before suspensions.
    #[serde(default)]
    pub suspended_at: Option<NaiveDateTime>,
    #[serde(default)]
    pub suspension_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = posts)]
pub struct PostRow {
    pub id: i32,
    pub user_id: i32,
    pub title: String,
    pub content: String,
    pub image: Option<String>,
    pub published: bool,
    pub views: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Absent from exports made before suspensions.
    #[serde(default)]
    pub held_published: Option<bool>,
    /// Absent from exports made before scheduled posts.
    #[serde(default)]
    pub publish_at: Option<NaiveDateTime>,
    /// Absent from exports made before comments.
    #[serde(default)]
    pub comments_closed: bool,
}

/// A tag; its post count is rebuilt by the target's triggers.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = tags)]
pub struct TagRow {
    pub id: i32,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = post_tags)]
pub struct PostTagRow {
    pub post_id: i32,
    pub tag_id: i32,
    pub published: bool,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = comments)]
pub struct CommentRow {
    pub id: i32,
    pub post_id: i32,
    pub user_id: i32,
    pub body: String,
    pub hidden: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: i32,
    pub user_id: i32,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = api_tokens)]
pub struct ApiTokenRow {
    pub id: i32,
    pub user_id: i32,
    pub name: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Serialize, Deserialize)]
#[diesel(table_name = post_daily_views)]
pub struct DailyViewsRow {
    pub post_id: i32,
    pub day: NaiveDate,
    pub views: i32,
}

/// A whole portfolio: the file `export` writes and `import` reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Export {
    pub format: String,
    pub format_version: u32,
    /// The schema the rows fit: the newest migration applied.
    pub schema_version: String,
    pub users: Vec<UserRow>,
    pub posts: Vec<PostRow>,
    pub sessions: Vec<SessionRow>,
    pub api_tokens: Vec<ApiTokenRow>,
    pub post_daily_views: Vec<DailyViewsRow>,
    /// The next three are absent from exports made before them.
    #[serde(default)]
    pub tags: Vec<TagRow>,
    #[serde(default)]
    pub post_tags: Vec<PostTagRow>,
    #[serde(default)]
    pub comments: Vec<CommentRow>,
}

/// Reads everything, in one transaction so the copy is consistent.
pub fn export(conn: &mut DbConnection) -> AppResult<Export> {
    let schema_version = newest_migration(conn)?;
    db::snapshot_transaction(conn, |conn| {
        Ok(Export {
            format: FORMAT.to_owned(),
            format_version: FORMAT_VERSION,
            schema_version,
            users: users::table
                .order(users::id)
                .select(UserRow::as_select())
                .load(conn)?,
            posts: posts::table
                .order(posts::id)
                .select(PostRow::as_select())
                .load(conn)?,
            sessions: sessions::table
                .order(sessions::id)
                .select(SessionRow::as_select())
                .load(conn)?,
            api_tokens: api_tokens::table
                .order(api_tokens::id)
                .select(ApiTokenRow::as_select())
                .load(conn)?,
            post_daily_views: post_daily_views::table
                .order((post_daily_views::post_id, post_daily_views::day))
                .select(DailyViewsRow::as_select())
                .load(conn)?,
            tags: tags::table
                .order(tags::id)
                .select(TagRow::as_select())
                .load(conn)?,
            post_tags: post_tags::table
                .order((post_tags::post_id, post_tags::tag_id))
                .select(PostTagRow::as_select())
                .load(conn)?,
            comments: comments::table
                .order(comments::id)
                .select(CommentRow::as_select())
                .load(conn)?,
        })
    })
}

/// Writes `data` into an empty database whose schema is the same version,
/// all or nothing: any error leaves the target as it was.
pub fn import(conn: &mut DbConnection, data: &Export) -> AppResult<()> {
    let refuse = |message: String| AppError::Validation {
        message,
        fields: Default::default(),
    };
    if data.format != FORMAT || data.format_version != FORMAT_VERSION {
        return Err(refuse(format!(
            "not a {FORMAT} (version {FORMAT_VERSION}) file"
        )));
    }
    let schema_version = newest_migration(conn)?;
    if data.schema_version != schema_version {
        return Err(refuse(format!(
            "the file's schema is version {}, the database's is {schema_version}: \
             import with the portfolio that exported it, or migrate both to the same version",
            data.schema_version
        )));
    }
    db::immediate_transaction(conn, |conn| {
        // Row by row: Diesel's MultiConnection has no multi-row INSERT, and
        // inside one transaction each row costs little.
        let existing: i64 = users::table.count().get_result(conn)?;
        if existing > 0 {
            return Err(refuse(
                "the database already has users: import only into a new, empty one".to_owned(),
            ));
        }
        for row in &data.users {
            diesel::insert_into(users::table)
                .values(row)
                .execute(conn)?;
        }
        for row in &data.posts {
            diesel::insert_into(posts::table)
                .values(row)
                .execute(conn)?;
        }
        for row in &data.sessions {
            diesel::insert_into(sessions::table)
                .values(row)
                .execute(conn)?;
        }
        for row in &data.api_tokens {
            diesel::insert_into(api_tokens::table)
                .values(row)
                .execute(conn)?;
        }
        for row in &data.post_daily_views {
            diesel::insert_into(post_daily_views::table)
                .values(row)
                .execute(conn)?;
        }
        for row in &data.tags {
            diesel::insert_into(tags::table).values(row).execute(conn)?;
        }
        for row in &data.post_tags {
            diesel::insert_into(post_tags::table)
                .values(row)
                .execute(conn)?;
        }
        for row in &data.comments {
            diesel::insert_into(comments::table)
                .values(row)
                .execute(conn)?;
        }
        // The view writer keeps the site's views per day; rows written
        // here directly are summed once.
        crate::domain::dashboard::recount_views(conn)?;
        // PostgreSQL's id sequences do not see ids written explicitly.
        db::after_import(conn)?;
        Ok(())
    })?;
    db::tidy_after_import(conn)?;
    Ok(())
}

fn newest_migration(conn: &mut DbConnection) -> AppResult<String> {
    let status = db::migration_status(conn).map_err(AppError::internal)?;
    if !status.is_current() {
        return Err(AppError::Validation {
            message: "the database's schema is not this portfolio's: run `portfolio db migrate`"
                .to_owned(),
            fields: Default::default(),
        });
    }
    Ok(status.applied.last().cloned().unwrap_or_default())
}
