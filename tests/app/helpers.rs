//! The test harness: a fresh app on its own database per test (a temp
//! SQLite file, or a database of its own on the PostgreSQL server named by
//! `PORTFOLIO_TEST_POSTGRES`), built by the same function as production,
//! and typed helpers to drive it.

use diesel::prelude::*;
use portfolio::db::schema::{
    api_tokens, comments, email_verifications, invites, outbox, password_resets, post_tags, posts,
    sessions, tags, two_factor, users,
};
use portfolio::db::{self, DbConnection};
use rocket::figment::Figment;
use rocket::http::{ContentType, Cookie, Method, Status};
use rocket::local::asynchronous::Client;
use serde_json::Value;
use tempfile::TempDir;

pub use crate::test_database::{on_postgres, TestDatabase};

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub client: Client,
    pub db: TestDatabase,
    // Dropped last: removes the data folder.
    _dir: TempDir,
}

/// A user created through the API, with the cookie of a live session.
#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: i32,
    pub uid: String,
    pub cookie: String,
}

#[derive(Debug)]
pub struct Reply {
    pub status: Status,
    pub body: Value,
    pub location: Option<String>,
    /// The session cookie's raw (encrypted) value, if the reply set one.
    pub session_cookie: Option<String>,
}

impl Reply {
    /// The message of a JSON error reply.
    pub fn error_message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }

    pub fn field_error(&self, field: &str) -> Option<&str> {
        self.body["error"]["fields"][field].as_str()
    }
}

/// Our figment with the test's database and a fixed secret key.
pub fn test_figment(db: &TestDatabase, seed: bool) -> Figment {
    portfolio::config::figment()
        .merge((portfolio::config::DATABASE_URL_KEY, db.url.as_str()))
        .merge(("seed", seed))
        .merge(("volume_dir", db.volume.to_str().unwrap()))
        .merge(("log_level", "off"))
        .merge(("secret_key", "bALgVYaJ3kYV6EI1vccjroNCu0zIH5mnWkqO0OnaElY="))
}

/// A new app on an empty database, not seeded.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(false).await
}

pub async fn spawn_app_with(seed: bool) -> TestApp {
    spawn_configured(seed, |figment| figment).await
}

/// A new app whose configuration `configure` adjusts.
pub async fn spawn_configured(seed: bool, configure: impl FnOnce(Figment) -> Figment) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = TestDatabase::new(dir.path());
    let client = Client::untracked(portfolio::build(configure(test_figment(&db, seed))))
        .await
        .expect("the app launches");
    TestApp {
        client,
        db,
        _dir: dir,
    }
}

impl TestApp {
    /// Sends a request, as `who` if given, with an optional raw body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
        who: Option<&TestUser>,
    ) -> Reply {
        let mut request = self.client.req(method, path.to_owned());
        if let Some(body) = body {
            request = request.header(ContentType::JSON).body(body);
        }
        if let Some(user) = who {
            request = request.cookie(Cookie::new("portfolio_session", user.cookie.clone()));
        }
        let response = request.dispatch().await;
        let status = response.status();
        let location = response.headers().get_one("Location").map(str::to_owned);
        let session_cookie = response
            .cookies()
            .get("portfolio_session")
            .map(|c| c.value().to_owned());
        let text = response.into_string().await.unwrap_or_default();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply {
            status,
            body,
            location,
            session_cookie,
        }
    }

    pub async fn get(&self, path: &str, who: Option<&TestUser>) -> Reply {
        self.send(Method::Get, path, None, who).await
    }

    pub async fn post(&self, path: &str, body: &Value, who: Option<&TestUser>) -> Reply {
        self.send(Method::Post, path, Some(&body.to_string()), who)
            .await
    }

    pub async fn patch(&self, path: &str, body: &Value, who: Option<&TestUser>) -> Reply {
        self.send(Method::Patch, path, Some(&body.to_string()), who)
            .await
    }

    pub async fn delete(&self, path: &str, who: Option<&TestUser>) -> Reply {
        self.send(Method::Delete, path, None, who).await
    }

    /// Signs `uid` up with [`PASSWORD`] and logs them in.
    pub async fn create_user(&self, uid: &str) -> TestUser {
        let reply = self
            .post(
                "/api/users",
                &serde_json::json!({ "uid": uid, "name": format!("User {uid}"), "password": PASSWORD }),
                None,
            )
            .await;
        assert_eq!(
            reply.status,
            Status::Created,
            "sign-up of {uid}: {:?}",
            reply.body
        );
        let id = reply.body["id"].as_i64().unwrap() as i32;
        let cookie = self.log_in(uid, PASSWORD).await;
        TestUser {
            id,
            uid: uid.to_owned(),
            cookie,
        }
    }

    /// Creates a user and makes them an admin directly in the database.
    pub async fn create_admin(&self, uid: &str) -> TestUser {
        let user = self.create_user(uid).await;
        diesel::update(users::table.find(user.id))
            .set(users::role.eq("admin"))
            .execute(&mut self.conn())
            .unwrap();
        user
    }

    /// Logs in and returns the session cookie's value.
    pub async fn log_in(&self, uid: &str, password: &str) -> String {
        let reply = self
            .post(
                "/api/session",
                &serde_json::json!({ "uid": uid, "password": password }),
                None,
            )
            .await;
        assert_eq!(
            reply.status,
            Status::Ok,
            "log-in of {uid}: {:?}",
            reply.body
        );
        reply
            .session_cookie
            .expect("log-in sets the session cookie")
    }

    /// Creates a post by `author`; returns its id.
    pub async fn create_post(&self, author: &TestUser, title: &str, published: bool) -> i32 {
        let reply = self
            .post(
                "/api/posts",
                &serde_json::json!({ "title": title, "content": format!("About *{title}*."), "published": published }),
                Some(author),
            )
            .await;
        assert_eq!(reply.status, Status::Created, "{:?}", reply.body);
        reply.body["id"].as_i64().unwrap() as i32
    }

    /// A connection of its own to the app's database.
    pub fn conn(&self) -> DbConnection {
        db::establish(&self.db.url).expect("open the test database")
    }

    pub fn count_users(&self) -> i64 {
        users::table.count().get_result(&mut self.conn()).unwrap()
    }

    pub fn count_posts(&self) -> i64 {
        posts::table.count().get_result(&mut self.conn()).unwrap()
    }

    pub fn count_sessions(&self) -> i64 {
        sessions::table
            .count()
            .get_result(&mut self.conn())
            .unwrap()
    }

    /// Every row of every table, to show that a refused request changed
    /// nothing.
    pub fn snapshot(&self) -> Vec<String> {
        let mut conn = self.conn();
        // In two halves: Debug stops at tuples of twelve.
        let mut rows: Vec<String> = users::table
            .select((
                (
                    users::id,
                    users::uid,
                    users::name,
                    users::email,
                    users::password_hash,
                    users::dob,
                    users::role,
                ),
                (
                    users::created_at,
                    users::updated_at,
                    users::published_posts,
                    users::draft_posts,
                    users::email_verified_at,
                    users::suspended_at,
                    users::suspension_reason,
                ),
            ))
            .load::<(
                (
                    i32,
                    String,
                    String,
                    Option<String>,
                    String,
                    Option<chrono::NaiveDate>,
                    String,
                ),
                (
                    chrono::NaiveDateTime,
                    chrono::NaiveDateTime,
                    i32,
                    i32,
                    Option<chrono::NaiveDateTime>,
                    Option<chrono::NaiveDateTime>,
                    Option<String>,
                ),
            )>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|row| format!("{row:?}"))
            .collect();
        rows.extend(
            posts::table
                .select((
                    (
                        posts::id,
                        posts::user_id,
                        posts::title,
                        posts::content,
                        posts::image,
                        posts::published,
                        posts::views,
                        posts::created_at,
                        posts::updated_at,
                        posts::held_published,
                    ),
                    (posts::publish_at, posts::comments, posts::comments_closed),
                ))
                .load::<(
                    (
                        i32,
                        i32,
                        String,
                        String,
                        Option<String>,
                        bool,
                        i32,
                        chrono::NaiveDateTime,
                        chrono::NaiveDateTime,
                        Option<bool>,
                    ),
                    (Option<chrono::NaiveDateTime>, i32, bool),
                )>(&mut conn)
                .unwrap()
                .into_iter()
                .map(|row| format!("{row:?}")),
        );
        rows.extend(
            sessions::table
                .select((sessions::id, sessions::user_id, sessions::token_hash))
                .load::<(i32, i32, String)>(&mut conn)
                .unwrap()
                .into_iter()
                .map(|row| format!("{row:?}")),
        );
        rows.extend(
            api_tokens::table
                .select((api_tokens::id, api_tokens::user_id, api_tokens::name))
                .load::<(i32, i32, String)>(&mut conn)
                .unwrap()
                .into_iter()
                .map(|row| format!("token {row:?}")),
        );
        rows.extend(
            outbox::table
                .select((outbox::id, outbox::recipient, outbox::subject))
                .load::<(i32, String, String)>(&mut conn)
                .unwrap()
                .into_iter()
                .map(|row| format!("mail {row:?}")),
        );
        rows.extend(
            password_resets::table
                .select((password_resets::user_id, password_resets::token_hash))
                .load::<(i32, String)>(&mut conn)
                .unwrap()
                .into_iter()
                .map(|row| format!("reset {row:?}")),
        );
        rows.extend(
            tags::table
                .select((tags::id, tags::name, tags::posts))
                .load::<(i32, String, i32)>(&mut conn)
                .unwrap()
                .into_iter()
                .map(|row| format!("tag {row:?}")),
        );
        rows.extend(
            post_tags::table
                .select((post_tags::post_id, post_tags::tag_id, post_tags::published))
                .load::<(i32, i32, bool)>(&mut conn)
                .unwrap()
                .into_iter()
                .map(|row| format!("post tag {row:?}")),
        );
        rows.extend(
            comments::table
                .select((
                    comments::id,
                    comments::post_id,
                    comments::body,
                    comments::hidden,
                ))
                .load::<(i32, i32, String, bool)>(&mut conn)
                .unwrap()
                .into_iter()
                .map(|row| format!("comment {row:?}")),
        );
        rows.extend(
            invites::table
                .select((invites::id, invites::used_by))
                .load::<(i32, Option<i32>)>(&mut conn)
                .unwrap()
                .into_iter()
                .map(|row| format!("invite {row:?}")),
        );
        rows.extend(
            two_factor::table
                .select((two_factor::user_id, two_factor::enabled_at))
                .load::<(i32, Option<chrono::NaiveDateTime>)>(&mut conn)
                .unwrap()
                .into_iter()
                .map(|row| format!("two-factor {row:?}")),
        );
        rows.extend(
            email_verifications::table
                .select((
                    email_verifications::user_id,
                    email_verifications::token_hash,
                ))
                .load::<(i32, String)>(&mut conn)
                .unwrap()
                .into_iter()
                .map(|row| format!("verification {row:?}")),
        );
        rows
    }
}

/// A loopback port nothing listens on (at the moment of asking).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl TestApp {
    /// Stops this app (its shutdown runs, as on SIGTERM) and starts a new
    /// one on the same database and folder, configured by `configure`.
    pub async fn relaunch(self, configure: impl FnOnce(Figment) -> Figment) -> TestApp {
        let TestApp { client, db, _dir } = self;
        drop(client.terminate().await);
        let client = Client::untracked(portfolio::build(configure(test_figment(&db, false))))
            .await
            .expect("the app launches again");
        TestApp { client, db, _dir }
    }
}

impl TestApp {
    /// `post`'s stored view count once it reaches `expected`, or after a
    /// minute: views are written by a background task once a second (a few
    /// milliseconds after that is normal; a minute means the batch never
    /// came).
    pub async fn views_written(&self, post: i32, expected: i32) -> i32 {
        let stored = || -> i32 {
            posts::table
                .find(post)
                .select(posts::views)
                .first(&mut self.conn())
                .unwrap()
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while stored() < expected && std::time::Instant::now() < deadline {
            rocket::tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        stored()
    }

    /// The HTML of a page, as `who`.
    pub async fn page_html(&self, path: &str, who: &TestUser) -> (Status, String) {
        let reply = self.get(path, Some(who)).await;
        let html = reply.body.as_str().unwrap_or_default().to_owned();
        (reply.status, html)
    }
}
