//! `registration = "open" | "invite" | "closed"`: who may sign up, on every
//! path (the API and the pages), and the invites admins make.

use diesel::prelude::*;
use portfolio::db::schema::invites;
use rocket::http::Status;
use serde_json::{json, Value};

use crate::browser::Browser;
use crate::helpers::*;

async fn app_with(registration: &'static str) -> TestApp {
    spawn_configured(false, move |figment| {
        figment.merge(("registration", registration))
    })
    .await
}

/// An admin made in the database (sign-up is closed to strangers here).
async fn admin_of(app: &TestApp) -> TestUser {
    let new = portfolio::domain::user::SignUp {
        uid: "boss".into(),
        name: "The Boss".into(),
        email: None,
        password: PASSWORD.into(),
        dob: None,
        invite: None,
    }
    .validate()
    .unwrap();
    let hash = portfolio::domain::password::hash_blocking(&new.password).unwrap();
    let user = portfolio::domain::User::create(&mut app.conn(), &new, &hash).unwrap();
    diesel::update(portfolio::db::schema::users::table.find(user.id))
        .set(portfolio::db::schema::users::role.eq("admin"))
        .execute(&mut app.conn())
        .unwrap();
    TestUser {
        id: user.id,
        uid: "boss".into(),
        cookie: app.log_in("boss", PASSWORD).await,
    }
}

fn sign_up(uid: &str, invite: Option<&str>) -> Value {
    let mut body = json!({ "uid": uid, "name": format!("User {uid}"), "password": PASSWORD });
    if let Some(invite) = invite {
        body["invite"] = json!(invite);
    }
    body
}

async fn make_invite(app: &TestApp, admin: &TestUser) -> String {
    let made = app.post("/api/invites", &json!({}), Some(admin)).await;
    assert_eq!(made.status, Status::Created, "{:?}", made.body);
    let link = made.body["link"].as_str().unwrap();
    assert!(link.starts_with("/signup?invite="), "{link}");
    made.body["token"].as_str().unwrap().to_owned()
}

/// Signs up through the page's form.
async fn sign_up_on_the_page(app: &TestApp, uid: &str, invite: &str) -> crate::browser::Page {
    let mut browser = Browser::new(app);
    // The token comes from the login page: a closed site's sign-up page has
    // no form to take it from.
    browser
        .submit(
            "/login",
            "/signup",
            &[
                ("uid", uid),
                ("name", "Someone"),
                ("email", ""),
                ("dob", ""),
                ("password", PASSWORD),
                ("invite", invite),
            ],
        )
        .await
}

#[rocket::async_test]
async fn every_sign_up_path_needs_a_valid_invite_in_invite_mode() {
    let app = app_with("invite").await;
    let admin = admin_of(&app).await;

    // The API: no invite, a made-up one.
    let none = app.post("/api/users", &sign_up("ada", None), None).await;
    assert_eq!(none.status, Status::Forbidden, "{:?}", none.body);
    assert!(none.error_message().contains("invitation"));
    let bogus = app
        .post("/api/users", &sign_up("ada", Some("made-up")), None)
        .await;
    assert_eq!(bogus.status, Status::UnprocessableEntity);
    assert!(bogus.field_error("invite").is_some());
    // The page: the form asks for it, and refuses without one.
    let form = Browser::new(&app).get("/signup").await;
    assert!(form.html.contains("id=\"invite-only\""));
    let refused = sign_up_on_the_page(&app, "ada", "").await;
    assert_eq!(refused.status, Status::UnprocessableEntity);
    assert!(refused.html.contains("invitation only"), "{}", refused.html);
    let refused = sign_up_on_the_page(&app, "ada", "made-up").await;
    assert_eq!(refused.status, Status::UnprocessableEntity);
    assert_eq!(app.count_users(), 1, "only the admin");

    // A real invite works once, on either path.
    let first = make_invite(&app, &admin).await;
    let form = Browser::new(&app)
        .get(&format!("/signup?invite={first}"))
        .await;
    assert!(form.html.contains(&format!("value=\"{first}\"")));
    let done = sign_up_on_the_page(&app, "ada", &first).await;
    assert_eq!(done.status, Status::SeeOther, "{}", done.html);
    let again = app
        .post("/api/users", &sign_up("bob", Some(&first)), None)
        .await;
    assert_eq!(again.status, Status::UnprocessableEntity, "used already");
    let second = make_invite(&app, &admin).await;
    let bob = app
        .post("/api/users", &sign_up("bob", Some(&second)), None)
        .await;
    assert_eq!(bob.status, Status::Created, "{:?}", bob.body);

    // Expired and withdrawn invites do nothing.
    let expiring = make_invite(&app, &admin).await;
    diesel::update(invites::table.filter(invites::used_at.is_null()))
        .set(invites::expires_at.eq(chrono::Utc::now().naive_utc()))
        .execute(&mut app.conn())
        .unwrap();
    let late = app
        .post("/api/users", &sign_up("cy", Some(&expiring)), None)
        .await;
    assert_eq!(late.status, Status::UnprocessableEntity);
    let withdrawn = make_invite(&app, &admin).await;
    let listed = app.get("/api/invites", Some(&admin)).await;
    let id = listed.body[0]["id"].as_i64().unwrap();
    assert_eq!(listed.body[0]["open"], true);
    assert!(listed.body[0].get("token").is_none(), "never shown again");
    assert_eq!(
        app.delete(&format!("/api/invites/{id}"), Some(&admin))
            .await
            .status,
        Status::NoContent
    );
    let gone = app
        .post("/api/users", &sign_up("cy", Some(&withdrawn)), None)
        .await;
    assert_eq!(gone.status, Status::UnprocessableEntity);

    // Who used which invite is kept.
    let used: Vec<Option<i32>> = invites::table
        .filter(invites::used_at.is_not_null())
        .select(invites::used_by)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(used.len(), 2);
    // An admin creates accounts without one.
    let by_admin = app
        .post("/api/users", &sign_up("dee", None), Some(&admin))
        .await;
    assert_eq!(by_admin.status, Status::Created);
    assert_eq!(app.count_users(), 4);
}

#[rocket::async_test]
async fn one_invite_makes_one_account_even_used_twice_at_once() {
    let app = app_with("invite").await;
    let admin = admin_of(&app).await;
    let token = make_invite(&app, &admin).await;
    let (a, b) = (sign_up("ada", Some(&token)), sign_up("bob", Some(&token)));
    let (first, second) = futures::join!(
        app.post("/api/users", &a, None),
        app.post("/api/users", &b, None)
    );
    let created = [first.status, second.status]
        .iter()
        .filter(|status| **status == Status::Created)
        .count();
    assert_eq!(created, 1, "{:?} {:?}", first.body, second.body);
    assert_eq!(app.count_users(), 2);
}

#[rocket::async_test]
async fn closed_registration_turns_everyone_away_but_admins() {
    let app = app_with("closed").await;
    let admin = admin_of(&app).await;
    let api = app.post("/api/users", &sign_up("ada", None), None).await;
    assert_eq!(api.status, Status::Forbidden);
    let invite = make_invite(&app, &admin).await;
    let with_invite = app
        .post("/api/users", &sign_up("ada", Some(&invite)), None)
        .await;
    assert_eq!(
        with_invite.status,
        Status::Forbidden,
        "invites open nothing here"
    );
    let form = Browser::new(&app).get("/signup").await;
    assert!(form.html.contains("id=\"registration-closed\""));
    let page = sign_up_on_the_page(&app, "ada", "").await;
    assert_eq!(page.status, Status::UnprocessableEntity);
    assert!(page.html.contains("does not take new accounts"));
    assert_eq!(app.count_users(), 1);
    let by_admin = app
        .post("/api/users", &sign_up("ada", None), Some(&admin))
        .await;
    assert_eq!(by_admin.status, Status::Created);
}

#[rocket::async_test]
async fn only_admins_make_see_and_withdraw_invites() {
    let app = app_with("open").await;
    let ada = app.create_user("ada").await;
    assert_eq!(
        app.post("/api/invites", &json!({}), Some(&ada))
            .await
            .status,
        Status::Forbidden
    );
    assert_eq!(
        app.post("/api/invites", &json!({}), None).await.status,
        Status::Unauthorized
    );
    assert_eq!(
        app.get("/api/invites", Some(&ada)).await.status,
        Status::Forbidden
    );
    let admin = app.create_admin("root").await;
    let too_long = app
        .post("/api/invites", &json!({ "days": 365 }), Some(&admin))
        .await;
    assert_eq!(too_long.status, Status::UnprocessableEntity);
    make_invite(&app, &admin).await;
    let id = app.get("/api/invites", Some(&admin)).await.body[0]["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.delete(&format!("/api/invites/{id}"), Some(&ada))
            .await
            .status,
        Status::Forbidden
    );
    // The admin's page makes one and shows its link once.
    let mut browser = Browser::new(&app);
    browser.log_in("root", PASSWORD).await;
    let made = browser
        .submit("/admin/invites", "/admin/invites", &[("days", "3")])
        .await;
    assert_eq!(made.status, Status::SeeOther);
    let page = browser.follow(&made).await;
    assert!(page.html.contains("signup?invite="), "{}", page.html);
    let listed = browser.get("/admin/invites").await;
    assert!(!listed.html.contains("signup?invite="), "shown once");
}
