//! Accounts: who they are, who may change them, and their queries.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::{Deserialize, Deserializer};

use super::fields::{BirthDate, Email, Password, PersonName, Uid};
use super::page::{Cursor, Position, Slice, Window};
use super::{now, Checker, Role};
use crate::db::schema::{posts, user_totals, users};
use crate::db::DbConnection;
use crate::domain::error::{AppError, AppResult, FieldErrors};

#[derive(Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct User {
    pub id: i32,
    pub uid: String,
    pub name: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub dob: Option<NaiveDate>,
    pub role: Role,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Kept by triggers on `posts` (migration 000009): never written here.
    pub published_posts: i32,
    pub draft_posts: i32,
    /// When the account proved its address reaches it (`None`: not yet, or
    /// no address).
    pub email_verified_at: Option<NaiveDateTime>,
    /// Since when an admin has suspended the account (`None`: it is not).
    pub suspended_at: Option<NaiveDateTime>,
    /// Why, in the admin's words.
    pub suspension_reason: Option<String>,
}

// By hand, to keep the password hash out of every log line.
impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("uid", &self.uid)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Reads `"field": null` as `Some(None)` (clear it) and a missing field as
/// `None` (leave it), which plain `Option` cannot tell apart.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// An empty text field means "none" (as HTML forms send it).
fn non_empty(raw: Option<&str>) -> Option<&str> {
    raw.filter(|text| !text.trim().is_empty())
}

/// A sign-up as the client sent it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    pub uid: String,
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    pub password: String,
    #[serde(default)]
    pub dob: Option<String>,
    /// The invite's token, when the site takes new accounts by invitation.
    #[serde(default)]
    pub invite: Option<String>,
}

/// A valid new account (its password not yet hashed).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub uid: Uid,
    pub name: PersonName,
    pub email: Option<Email>,
    pub password: Password,
    pub dob: Option<BirthDate>,
    pub role: Role,
}

impl SignUp {
    pub fn validate(&self) -> AppResult<NewUser> {
        let mut checker = Checker::default();
        let uid = checker.check("uid", Uid::parse(&self.uid));
        let name = checker.check("name", PersonName::parse(&self.name));
        let email = checker.check_optional("email", non_empty(self.email.as_deref()), Email::parse);
        let password = checker.check(
            "password",
            Password::parse(&self.password, &self.uid, &self.name),
        );
        let dob = checker.check_optional("dob", non_empty(self.dob.as_deref()), BirthDate::parse);
        checker.finish(|| {
            Some(NewUser {
                uid: uid?,
                name: name?,
                email: email?,
                password: password?,
                dob: dob?,
                role: Role::User,
            })
        })
    }
}

/// Changes to an account as the client sent them; absent fields stay as
/// they are, `null` clears an optional one.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub dob: Option<Option<String>>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub current_password: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
}

/// Valid changes to one account.
#[derive(Debug, Default)]
pub struct ValidPatch {
    pub name: Option<PersonName>,
    pub email: Option<Option<Email>>,
    pub dob: Option<Option<BirthDate>>,
    pub role: Option<Role>,
    pub password: Option<Password>,
    pub current_password: Option<String>,
}

impl UserPatch {
    /// Checks that `actor` may change `target` this way and that the values
    /// are valid (a new password must not be the account's uid or name).
    ///
    /// The owner and admins may change an account; only an admin changes a
    /// role; a new password needs the current one, except when an admin
    /// resets someone else's. Returns the changes and whether the current
    /// password must still be verified.
    pub fn authorize(&self, actor: &User, target: &User) -> AppResult<(ValidPatch, bool)> {
        if !target.can_be_managed_by(actor) {
            return Err(AppError::Forbidden("you can only change your own account"));
        }
        let mut checker = Checker::default();
        let name = checker.check_optional("name", self.name.as_deref(), PersonName::parse);
        let email = match &self.email {
            None => Some(None),
            Some(raw) => checker
                .check_optional("email", non_empty(raw.as_deref()), Email::parse)
                .map(Some),
        };
        let dob = match &self.dob {
            None => Some(None),
            Some(raw) => checker
                .check_optional("dob", non_empty(raw.as_deref()), BirthDate::parse)
                .map(Some),
        };
        let role = checker.check_optional("role", self.role.as_deref(), Role::parse);
        let new_name = self.name.as_deref().unwrap_or(&target.name);
        let password = checker.check_optional("password", self.password.as_deref(), |raw| {
            Password::parse(raw, &target.uid, new_name)
        });
        let needs_current = password.as_ref().is_some_and(Option::is_some) && actor.id == target.id;
        if needs_current && self.current_password.as_deref().unwrap_or("").is_empty() {
            checker.fail("current_password", "is required to change your password");
        }
        let patch = checker.finish(|| {
            Some(ValidPatch {
                name: name?,
                email: email?,
                dob: dob?,
                role: role?,
                password: password?,
                current_password: self.current_password.clone(),
            })
        })?;
        if patch.role.is_some_and(|role| role != target.role) && !actor.is_admin() {
            return Err(AppError::Forbidden("only an admin can change roles"));
        }
        Ok((patch, needs_current))
    }
}

impl ValidPatch {
    /// The row update, given the new password's hash when there is one.
    pub fn into_changes(self, password_hash: Option<String>) -> UserChanges {
        UserChanges {
            name: self.name.map(|n| n.as_str().to_owned()),
            email: self.email.map(|e| e.map(|e| e.as_str().to_owned())),
            dob: self.dob.map(|d| d.map(BirthDate::date)),
            role: self.role,
            password_hash,
            updated_at: now(),
        }
    }
}

/// A row update: `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub dob: Option<Option<NaiveDate>>,
    pub role: Option<Role>,
    pub password_hash: Option<String>,
    pub updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct UserRow<'a> {
    uid: &'a str,
    name: &'a str,
    email: Option<&'a str>,
    password_hash: &'a str,
    dob: Option<NaiveDate>,
    role: Role,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// The owner and admins may change or delete an account.
    pub fn can_be_managed_by(&self, actor: &User) -> bool {
        actor.id == self.id || actor.is_admin()
    }

    /// The email address is private to its owner and admins.
    pub fn email_visible_to(&self, viewer: Option<&User>) -> bool {
        viewer.is_some_and(|viewer| self.can_be_managed_by(viewer))
    }

    pub fn age_on(&self, today: NaiveDate) -> Option<u32> {
        self.dob.map(|dob| super::fields::age_on(dob, today))
    }

    /// Inserts a new account. A taken uid or email is a 409 naming the field:
    /// the unique indexes decide, so two sign-ups cannot race past a check.
    pub fn create(conn: &mut DbConnection, new: &NewUser, password_hash: &str) -> AppResult<User> {
        let now = now();
        let row = UserRow {
            uid: new.uid.as_str(),
            name: new.name.as_str(),
            email: new.email.as_ref().map(Email::as_str),
            password_hash,
            dob: new.dob.map(BirthDate::date),
            role: new.role,
            created_at: now,
            updated_at: now,
        };
        Ok(diesel::insert_into(users::table)
            .values(&row)
            .returning(crate::db::columns_of::<User>())
            .get_result::<User>(conn)?)
    }

    pub fn find(conn: &mut DbConnection, id: i32) -> AppResult<User> {
        Ok(users::table
            .find(id)
            .select(User::as_select())
            .first(conn)?)
    }

    /// The account with this login handle, whatever its case.
    pub fn find_by_uid(conn: &mut DbConnection, uid: &str) -> AppResult<Option<User>> {
        // No handle holds a NUL, and PostgreSQL refuses text that does.
        if uid.contains('\0') {
            return Ok(None);
        }
        Ok(users::table
            .filter(users::uid.eq(uid.trim().to_lowercase()))
            .select(User::as_select())
            .first(conn)
            .optional()?)
    }

    /// The account with this email address, whatever its case.
    pub fn find_by_email(conn: &mut DbConnection, email: &str) -> AppResult<Option<User>> {
        let email = email.trim();
        if email.is_empty() || email.contains('\0') {
            return Ok(None);
        }
        // SQLite's column compares without case (NOCASE); PostgreSQL's
        // unique index is on lower(email), which this query uses.
        diesel::define_sql_function!(fn lower(text: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>);
        let found = match conn {
            DbConnection::Sqlite(c) => users::table
                .filter(users::email.eq(email))
                .select(User::as_select())
                .first(c)
                .optional()?,
            DbConnection::Postgres(c) => users::table
                .filter(lower(users::email).eq(email.to_lowercase()))
                .select(User::as_select())
                .first(c)
                .optional()?,
        };
        Ok(found)
    }

    /// How many accounts there are (kept by triggers in `user_totals`).
    pub fn count(conn: &mut DbConnection) -> AppResult<i64> {
        let total: Option<i32> = user_totals::table
            .select(user_totals::users)
            .first(conn)
            .optional()?;
        Ok(total.map_or(0, i64::from))
    }

    fn admin_count(conn: &mut DbConnection) -> QueryResult<i64> {
        users::table
            .filter(users::role.eq(Role::Admin))
            .count()
            .get_result(conn)
    }

    /// Applies `changes`. There must always be an admin left, so the last one
    /// cannot step down. A new password ends the account's other sessions
    /// (all but `keep_session`, the one making the change).
    pub fn update(
        conn: &mut DbConnection,
        id: i32,
        changes: &UserChanges,
        keep_session: Option<i32>,
    ) -> AppResult<User> {
        crate::db::write_transaction(conn, |conn| {
            let current = User::find(conn, id)?;
            if current.is_admin()
                && changes.role == Some(Role::User)
                && User::admin_count(conn)? <= 1
            {
                return Err(AppError::Conflict {
                    message: "the last admin cannot stop being an admin".to_owned(),
                    fields: FieldErrors::from([(
                        "role".to_owned(),
                        "there must be an admin".to_owned(),
                    )]),
                });
            }
            let new_address = changes.email.as_ref().is_some_and(|email| {
                !email
                    .as_deref()
                    .unwrap_or_default()
                    .eq_ignore_ascii_case(current.email.as_deref().unwrap_or_default())
            });
            if new_address {
                // A new address is not verified, and an old link must not
                // verify it.
                diesel::update(users::table.find(id))
                    .set(users::email_verified_at.eq(None::<NaiveDateTime>))
                    .execute(conn)?;
                super::email_verification::revoke(conn, id)?;
            }
            let user = diesel::update(users::table.find(id))
                .set(changes)
                .returning(crate::db::columns_of::<User>())
                .get_result::<User>(conn)?;
            if changes.password_hash.is_some() {
                super::session::end_all_of(conn, id, keep_session)?;
                // An old reset link must not undo the new password.
                super::password_reset::revoke(conn, id)?;
                // A new password also ends every API token: a leaked one
                // must not outlive the password change meant to stop it.
                super::api_token::revoke_all_of(conn, id)?;
            }
            Ok(user)
        })
    }

    /// Deletes an account; its posts and sessions go with it (the foreign
    /// keys cascade). The last admin cannot be deleted.
    /// Returns the file names of the images of the posts that went with the
    /// account, to remove once this is committed.
    pub fn delete(conn: &mut DbConnection, id: i32) -> AppResult<Vec<String>> {
        crate::db::write_transaction(conn, |conn| {
            let user = User::find(conn, id)?;
            if user.is_admin() && User::admin_count(conn)? <= 1 {
                return Err(AppError::Conflict {
                    message: "the last admin cannot be deleted".to_owned(),
                    fields: FieldErrors::new(),
                });
            }
            let images: Vec<String> = posts::table
                .filter(posts::user_id.eq(id))
                .filter(posts::image.is_not_null())
                .select(posts::image.assume_not_null())
                .load(conn)?;
            diesel::delete(users::table.find(id)).execute(conn)?;
            Ok(images)
        })
    }

    /// One slice of the accounts in `order` (the total is [`User::count`]).
    /// Each order reads an index in order from the slice's position: the
    /// cost is the slice, however many accounts there are.
    /// A window of accounts and how many there are in all (kept, not
    /// counted), as a paged list shows them.
    pub fn list_with_total(
        conn: &mut DbConnection,
        slice: Slice,
        order: UserOrder,
    ) -> AppResult<(Window<User>, i64)> {
        Ok((User::list(conn, slice, order)?, User::count(conn)?))
    }

    pub fn list(
        conn: &mut DbConnection,
        slice: Slice,
        order: UserOrder,
    ) -> AppResult<Window<User>> {
        use users::{id, published_posts as posts};
        let query = users::table
            .select(User::as_select())
            .limit(slice.fetch())
            .into_boxed();
        let query = match (order, slice.position) {
            (UserOrder::Oldest, Position::Number(_)) => query.order(id.asc()),
            (UserOrder::Oldest, Position::After(at)) => query.filter(id.gt(at.id)).order(id.asc()),
            (UserOrder::Oldest, Position::Before(at)) => {
                query.filter(id.lt(at.id)).order(id.desc())
            }
            // Most posts first, ties by age: `users_published_posts`. The
            // range (`<=`) bounds the index walk; the rest breaks the tie.
            (UserOrder::MostPosts, Position::Number(_)) => query.order((posts.desc(), id.asc())),
            (UserOrder::MostPosts, Position::After(at)) => {
                let count = clamp_count(at.key);
                query
                    .filter(posts.le(count).and(posts.lt(count).or(id.gt(at.id))))
                    .order((posts.desc(), id.asc()))
            }
            (UserOrder::MostPosts, Position::Before(at)) => {
                let count = clamp_count(at.key);
                query
                    .filter(posts.ge(count).and(posts.gt(count).or(id.lt(at.id))))
                    .order((posts.asc(), id.desc()))
            }
        };
        let query = match slice.position {
            Position::Number(number) => query.offset(
                super::Page {
                    number,
                    per_page: slice.per_page,
                }
                .offset(),
            ),
            _ => query,
        };
        let rows = query.load(conn)?;
        let window = slice.window(rows, |user: &User| Cursor {
            key: match order {
                UserOrder::Oldest => user.id.into(),
                UserOrder::MostPosts => user.published_posts.into(),
            },
            id: user.id,
        });
        Ok(window)
    }
}

/// A cursor's count as the column's type (a forged one may be anything).
fn clamp_count(key: i64) -> i32 {
    key.clamp(i32::MIN.into(), i32::MAX.into()) as i32
}

/// How account listings are sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserOrder {
    /// By sign-up, first first.
    Oldest,
    /// Most published posts first.
    MostPosts,
}

impl UserOrder {
    /// `sort` as the client wrote it: absent for the oldest first, `posts`
    /// for the most posts first.
    pub fn parse(sort: Option<&str>) -> AppResult<UserOrder> {
        match sort.map(str::trim) {
            None | Some("") => Ok(UserOrder::Oldest),
            Some("posts") => Ok(UserOrder::MostPosts),
            Some(_) => Err(AppError::invalid_field(
                "sort",
                "must be `posts` (most posts first), or absent (oldest first)",
            )),
        }
    }
}
