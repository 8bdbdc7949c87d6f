//! The authorization matrix: anonymous, another user, the owner and an admin
//! against every write route. Every refusal leaves the database unchanged.

use rocket::http::{Method, Status};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, TestUser};

struct Cast {
    owner: TestUser,
    other: TestUser,
    admin: TestUser,
    post: i32,
}

async fn cast(app: &TestApp) -> Cast {
    let owner = app.create_user("owner").await;
    let other = app.create_user("other").await;
    let admin = app.create_admin("admin").await;
    let post = app.create_post(&owner, "owned", true).await;
    Cast {
        owner,
        other,
        admin,
        post,
    }
}

/// Sends the request as `who` and checks the status; a refusal must leave
/// every row as it was.
async fn expect(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
    who: Option<&TestUser>,
    status: Status,
) {
    let before = app.snapshot();
    let body = body.map(|b| b.to_string());
    let reply = app.send(method, path, body.as_deref(), who).await;
    let who_name = who.map_or("anonymous", |u| u.uid.as_str());
    assert_eq!(
        reply.status, status,
        "{method} {path} as {who_name}: {:?}",
        reply.body
    );
    assert_eq!(
        reply.body["error"]["status"]
            .as_u64()
            .map(|s| s as u16)
            .unwrap_or(reply.status.code),
        reply.status.code
    );
    if status.code >= 400 {
        assert_eq!(
            app.snapshot(),
            before,
            "{method} {path} as {who_name} changed the database"
        );
    }
}

/// Runs `method path` as each caller in turn, in order, expecting each
/// status. Refusals come first in every table, so the successes that
/// change things run last.
async fn table(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
    rows: &[(Option<&TestUser>, Status)],
) {
    for (who, status) in rows {
        expect(app, method, path, body.clone(), *who, *status).await;
    }
}

#[rocket::async_test]
async fn only_the_owner_or_an_admin_may_change_an_account() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    let path = format!("/api/users/{}", c.owner.id);
    let rows = [
        (None, Status::Unauthorized),
        (Some(&c.other), Status::Forbidden),
        (Some(&c.owner), Status::Ok),
        (Some(&c.admin), Status::Ok),
    ];
    table(
        &app,
        Method::Patch,
        &path,
        Some(json!({"name": "Changed"})),
        &rows,
    )
    .await;
}

#[rocket::async_test]
async fn only_the_owner_may_make_or_revoke_their_api_tokens() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    let made = app
        .post("/api/tokens", &json!({"name": "owner's"}), Some(&c.owner))
        .await;
    let path = format!("/api/tokens/{}", made.body["id"]);
    // Tokens are personal: an admin neither sees nor revokes them (they
    // can delete the account, which takes its tokens along).
    let rows = [
        (None, Status::Unauthorized),
        (Some(&c.other), Status::NotFound),
        (Some(&c.admin), Status::NotFound),
        (Some(&c.owner), Status::NoContent),
    ];
    table(&app, Method::Delete, &path, None, &rows).await;
    table(
        &app,
        Method::Post,
        "/api/tokens",
        Some(json!({"name": "new"})),
        &[
            (None, Status::Unauthorized),
            (Some(&c.other), Status::Created),
        ],
    )
    .await;
}

#[rocket::async_test]
async fn only_an_admin_may_change_a_role() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    let path = format!("/api/users/{}", c.owner.id);
    let rows = [
        (None, Status::Unauthorized),
        (Some(&c.owner), Status::Forbidden),
        (Some(&c.other), Status::Forbidden),
        (Some(&c.admin), Status::Ok),
    ];
    table(
        &app,
        Method::Patch,
        &path,
        Some(json!({"role": "admin"})),
        &rows,
    )
    .await;
}

#[rocket::async_test]
async fn only_the_owner_or_an_admin_may_delete_an_account() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    let owner = format!("/api/users/{}", c.owner.id);
    let rows = [
        (None, Status::Unauthorized),
        (Some(&c.other), Status::Forbidden),
        (Some(&c.owner), Status::NoContent),
    ];
    table(&app, Method::Delete, &owner, None, &rows).await;
    let other = format!("/api/users/{}", c.other.id);
    table(
        &app,
        Method::Delete,
        &other,
        None,
        &[(Some(&c.admin), Status::NoContent)],
    )
    .await;
    assert_eq!(app.count_users(), 1);
}

#[rocket::async_test]
async fn only_the_author_or_an_admin_may_change_a_post() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    let path = format!("/api/posts/{}", c.post);
    let rows = [
        (None, Status::Unauthorized),
        (Some(&c.other), Status::Forbidden),
        (Some(&c.owner), Status::Ok),
        (Some(&c.admin), Status::Ok),
    ];
    table(
        &app,
        Method::Patch,
        &path,
        Some(json!({"title": "Changed"})),
        &rows,
    )
    .await;
}

#[rocket::async_test]
async fn only_the_author_or_an_admin_may_delete_a_post() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    let first = format!("/api/posts/{}", c.post);
    let rows = [
        (None, Status::Unauthorized),
        (Some(&c.other), Status::Forbidden),
        (Some(&c.owner), Status::NoContent),
    ];
    table(&app, Method::Delete, &first, None, &rows).await;
    let second = format!(
        "/api/posts/{}",
        app.create_post(&c.owner, "second", true).await
    );
    table(
        &app,
        Method::Delete,
        &second,
        None,
        &[(Some(&c.admin), Status::NoContent)],
    )
    .await;
    assert_eq!(app.count_posts(), 0);
}

/// A comment by `c.other` on the owner's post; returns its API path.
async fn others_comment(app: &TestApp, c: &Cast) -> String {
    let reply = app
        .post(
            &format!("/api/posts/{}/comments", c.post),
            &json!({"body": "a comment"}),
            Some(&c.other),
        )
        .await;
    assert_eq!(reply.status, Status::Created);
    format!("/api/comments/{}", reply.body["id"])
}

#[rocket::async_test]
async fn commenting_needs_any_login() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    let path = format!("/api/posts/{}/comments", c.post);
    let rows = [
        (None, Status::Unauthorized),
        (Some(&c.other), Status::Created),
        (Some(&c.owner), Status::Created),
        (Some(&c.admin), Status::Created),
    ];
    table(
        &app,
        Method::Post,
        &path,
        Some(json!({"body": "hello"})),
        &rows,
    )
    .await;
}

#[rocket::async_test]
async fn only_its_author_may_change_a_comment() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    let path = others_comment(&app, &c).await;
    // Not the post's author, not even an admin: words are their writer's.
    let rows = [
        (None, Status::Unauthorized),
        (Some(&c.owner), Status::Forbidden),
        (Some(&c.admin), Status::Forbidden),
        (Some(&c.other), Status::Ok),
    ];
    table(
        &app,
        Method::Patch,
        &path,
        Some(json!({"body": "changed"})),
        &rows,
    )
    .await;
}

#[rocket::async_test]
async fn a_comments_author_the_posts_author_or_an_admin_may_delete_it() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    let stranger = app.create_user("stranger").await;
    for deleter in [&c.other, &c.owner, &c.admin] {
        let path = others_comment(&app, &c).await;
        let rows = [
            (None, Status::Unauthorized),
            (Some(&stranger), Status::Forbidden),
            (Some(deleter), Status::NoContent),
        ];
        table(&app, Method::Delete, &path, None, &rows).await;
    }
}

#[rocket::async_test]
async fn writing_a_post_needs_any_login() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    let rows = [
        (None, Status::Unauthorized),
        (Some(&c.owner), Status::Created),
        (Some(&c.other), Status::Created),
        (Some(&c.admin), Status::Created),
    ];
    table(
        &app,
        Method::Post,
        "/api/posts",
        Some(json!({"title": "t", "content": "c"})),
        &rows,
    )
    .await;
}

#[rocket::async_test]
async fn someone_elses_draft_cannot_be_changed_and_is_not_revealed() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    let draft = app.create_post(&c.owner, "draft", false).await;
    let path = format!("/api/posts/{draft}");
    table(
        &app,
        Method::Delete,
        &path,
        None,
        &[(Some(&c.other), Status::NotFound)],
    )
    .await;
    let rows = [(Some(&c.other), Status::NotFound)];
    table(
        &app,
        Method::Patch,
        &path,
        Some(json!({"title": "x"})),
        &rows,
    )
    .await;
    let rows = [(Some(&c.admin), Status::Ok)];
    table(
        &app,
        Method::Patch,
        &path,
        Some(json!({"published": true})),
        &rows,
    )
    .await;
}

#[rocket::async_test]
async fn only_an_admin_may_make_or_withdraw_an_invite() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    table(
        &app,
        Method::Post,
        "/api/invites",
        Some(json!({"days": 2})),
        &[
            (None, Status::Unauthorized),
            (Some(&c.other), Status::Forbidden),
            (Some(&c.owner), Status::Forbidden),
            (Some(&c.admin), Status::Created),
        ],
    )
    .await;
    let made = app.post("/api/invites", &json!({}), Some(&c.admin)).await;
    let path = format!("/api/invites/{}", made.body["id"]);
    let rows = [
        (None, Status::Unauthorized),
        (Some(&c.other), Status::Forbidden),
        (Some(&c.admin), Status::NoContent),
    ];
    table(&app, Method::Delete, &path, None, &rows).await;
}

#[rocket::async_test]
async fn only_an_admin_may_suspend_or_lift() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    let path = format!("/api/users/{}/suspension", c.owner.id);
    let rows = [
        (None, Status::Unauthorized),
        (Some(&c.other), Status::Forbidden),
        (Some(&c.owner), Status::Forbidden),
        (Some(&c.admin), Status::Ok),
    ];
    table(
        &app,
        Method::Post,
        &path,
        Some(json!({"reason": "r"})),
        &rows,
    )
    .await;
    let rows = [
        (None, Status::Unauthorized),
        (Some(&c.other), Status::Forbidden),
        (Some(&c.admin), Status::Ok),
    ];
    table(&app, Method::Delete, &path, None, &rows).await;
}

#[rocket::async_test]
async fn two_factor_login_and_address_checks_are_each_account_s_own() {
    let app = spawn_app().await;
    let c = cast(&app).await;
    // Set up on the account of whoever asks, never another's: a login is
    // all it needs.
    let rows = [(None, Status::Unauthorized), (Some(&c.other), Status::Ok)];
    table(&app, Method::Post, "/api/me/two-factor", None, &rows).await;
    let off = json!({"password": "x", "code": "1"});
    let rows = [(None, Status::Unauthorized)];
    table(
        &app,
        Method::Post,
        "/api/me/two-factor/disable",
        Some(off),
        &rows,
    )
    .await;
    let rows = [(None, Status::Unauthorized)];
    table(&app, Method::Post, "/api/email-verifications", None, &rows).await;
}

/// The pages' write routes, by the same matrix. Anonymous visitors are sent
/// to the login form (303 to `/login`); others get 403; every refusal
/// leaves the database unchanged. Each form carries a valid CSRF token, so
/// only the authorization is being tested.
mod pages {
    use rocket::http::Status;

    use crate::browser::Browser;
    use crate::helpers::{spawn_app, TestApp, PASSWORD};

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Who {
        Anonymous,
        Other,
        Owner,
        Admin,
    }

    struct Ids {
        owner: i32,
        post: i32,
        invite: i32,
    }

    /// (route, form fields, who may): the route is built from the ids.
    /// A write route: its path, its form fields, and who may use it.
    type Row = (String, Vec<(&'static str, &'static str)>, &'static [Who]);

    fn routes(ids: &Ids) -> Vec<Row> {
        let (o, p) = (ids.owner, ids.post);
        let owner_or_admin: &[Who] = &[Who::Owner, Who::Admin];
        vec![
            (
                format!("/posts/{p}/edit"),
                vec![
                    ("title", "Changed"),
                    ("content", "c"),
                    ("published", "true"),
                ],
                owner_or_admin,
            ),
            (format!("/posts/{p}/delete"), vec![], owner_or_admin),
            (
                format!("/users/{o}/edit"),
                vec![("name", "Changed"), ("email", ""), ("dob", "")],
                owner_or_admin,
            ),
            (
                format!("/users/{o}/password"),
                vec![
                    ("current_password", PASSWORD),
                    ("password", "a new password"),
                    ("confirm", "a new password"),
                ],
                owner_or_admin,
            ),
            (format!("/users/{o}/delete"), vec![], owner_or_admin),
            (
                format!("/admin/users/{o}/role"),
                vec![("role", "admin")],
                &[Who::Admin],
            ),
            (
                "/posts/new".to_owned(),
                vec![("title", "New"), ("content", "c"), ("published", "true")],
                &[Who::Other, Who::Owner, Who::Admin],
            ),
            (
                "/admin/invites".to_owned(),
                vec![("days", "3")],
                &[Who::Admin],
            ),
            (
                format!("/admin/invites/{}/delete", ids.invite),
                vec![],
                &[Who::Admin],
            ),
        ]
    }

    async fn cast(app: &TestApp) -> Ids {
        let owner = app.create_user("owner").await;
        app.create_user("other").await;
        app.create_admin("admin").await;
        let post = app.create_post(&owner, "owned", true).await;
        let (invite, _) = portfolio::domain::invite::create(&mut app.conn(), None, 7).unwrap();
        Ids {
            owner: owner.id,
            post,
            invite: invite.id,
        }
    }

    async fn browser_for<'a>(app: &'a TestApp, who: Who) -> Browser<'a> {
        let mut browser = Browser::new(app);
        match who {
            Who::Anonymous => {
                browser.get("/").await;
            }
            Who::Other => drop(browser.log_in("other", PASSWORD).await),
            Who::Owner => drop(browser.log_in("owner", PASSWORD).await),
            Who::Admin => drop(browser.log_in("admin", PASSWORD).await),
        }
        browser
    }

    async fn submit(
        browser: &mut Browser<'_>,
        path: &str,
        fields: &[(&str, &str)],
    ) -> crate::browser::Page {
        // The login form is on every visitor's reach and carries the token.
        let token = browser.get("/login").await.csrf_token();
        let mut all = fields.to_vec();
        all.push(("csrf_token", &token));
        browser.post(path, &all).await
    }

    #[rocket::async_test]
    async fn refusals_change_nothing() {
        let app = spawn_app().await;
        let ids = cast(&app).await;
        for who in [Who::Anonymous, Who::Other, Who::Owner, Who::Admin] {
            let mut browser = browser_for(&app, who).await;
            for (path, fields, allowed) in routes(&ids) {
                if allowed.contains(&who) {
                    continue;
                }
                let before = app.snapshot();
                let page = submit(&mut browser, &path, &fields).await;
                if who == Who::Anonymous {
                    assert_eq!(page.status, Status::SeeOther, "{path} as {who:?}");
                    assert!(
                        page.location.as_deref().unwrap_or("").starts_with("/login"),
                        "{path}"
                    );
                } else {
                    assert_eq!(page.status, Status::Forbidden, "{path} as {who:?}");
                }
                assert_eq!(
                    app.snapshot(),
                    before,
                    "{path} as {who:?} changed the database"
                );
            }
        }
    }

    #[rocket::async_test]
    async fn the_allowed_succeed() {
        let probe = spawn_app().await;
        let ids = cast(&probe).await;
        let rows = routes(&ids);
        drop(probe);
        for (index, (_, _, allowed)) in rows.iter().enumerate() {
            for who in allowed.iter().copied() {
                // A fresh app each time: a success changes things.
                let app = spawn_app().await;
                let ids = cast(&app).await;
                let (path, fields, _) = routes(&ids).swap_remove(index);
                let mut browser = browser_for(&app, who).await;
                let before = app.snapshot();
                let page = submit(&mut browser, &path, &fields).await;
                assert_eq!(
                    page.status,
                    Status::SeeOther,
                    "{path} as {who:?}: {}",
                    page.html
                );
                assert!(
                    !page.location.as_deref().unwrap_or("").starts_with("/login"),
                    "{path} as {who:?}"
                );
                assert_ne!(app.snapshot(), before, "{path} as {who:?} changed nothing");
            }
        }
    }
}
