//! Accounts: sign-up, reading, changing and deleting them.

use rocket::http::Status;
use serde_json::json;

use crate::helpers::{spawn_app, PASSWORD};

#[rocket::async_test]
async fn signing_up_creates_an_account_with_a_location() {
    let app = spawn_app().await;
    let reply = app
        .post(
            "/api/users",
            &json!({"uid": "Grace", "name": "Grace Hopper", "email": "grace@navy.mil",
                    "password": PASSWORD, "dob": "1906-12-09"}),
            None,
        )
        .await;
    assert_eq!(reply.status, Status::Created);
    let id = reply.body["id"].as_i64().unwrap();
    assert_eq!(
        reply.location.as_deref(),
        Some(format!("/api/users/{id}").as_str())
    );
    assert_eq!(reply.body["uid"], "grace", "uids are stored lower-case");
    assert_eq!(reply.body["email"], "grace@navy.mil");
    assert_eq!(reply.body["dob"], "1906-12-09");
    assert_eq!(reply.body["role"], "user");
    assert!(reply.body.get("password").is_none() && reply.body.get("password_hash").is_none());
    assert_eq!(app.count_users(), 1);
}

#[rocket::async_test]
async fn the_stored_password_is_an_argon2id_phc_string() {
    use diesel::prelude::*;
    use portfolio::db::schema::users;
    let app = spawn_app().await;
    app.create_user("hashed").await;
    let stored: String = users::table
        .select(users::password_hash)
        .first(&mut app.conn())
        .unwrap();
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{stored}"
    );
    assert!(!stored.contains(PASSWORD));
}

#[rocket::async_test]
async fn a_taken_uid_is_a_conflict_whatever_its_case() {
    let app = spawn_app().await;
    app.create_user("toby").await;
    let reply = app
        .post(
            "/api/users",
            &json!({"uid": "TOBY", "name": "Another", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(reply.status, Status::Conflict);
    assert_eq!(reply.field_error("uid"), Some("is already taken"));
    assert_eq!(app.count_users(), 1);
}

#[rocket::async_test]
async fn a_taken_email_is_a_conflict_whatever_its_case() {
    let app = spawn_app().await;
    let first =
        json!({"uid": "one", "name": "One", "email": "same@example.com", "password": PASSWORD});
    assert_eq!(
        app.post("/api/users", &first, None).await.status,
        Status::Created
    );
    let second =
        json!({"uid": "two", "name": "Two", "email": "SAME@example.com", "password": PASSWORD});
    let reply = app.post("/api/users", &second, None).await;
    assert_eq!(reply.status, Status::Conflict);
    assert_eq!(reply.field_error("email"), Some("is already taken"));
}

#[rocket::async_test]
async fn invalid_sign_ups_name_every_bad_field_and_store_nothing() {
    let app = spawn_app().await;
    let reply = app
        .post(
            "/api/users",
            &json!({"uid": "x", "name": "", "email": "not-an-email", "password": "short", "dob": "2999-01-01"}),
            None,
        )
        .await;
    assert_eq!(reply.status, Status::UnprocessableEntity);
    for field in ["uid", "name", "email", "password", "dob"] {
        assert!(
            reply.field_error(field).is_some(),
            "{field} should be reported: {:?}",
            reply.body
        );
    }
    assert_eq!(app.count_users(), 0);
}

#[rocket::async_test]
async fn a_password_equal_to_the_uid_or_name_is_refused() {
    let app = spawn_app().await;
    for (uid, name, password) in [
        ("samesame", "Some Name", "samesame"),
        ("other", "Ada Lovelace", "ada lovelace"),
    ] {
        let reply = app
            .post(
                "/api/users",
                &json!({"uid": uid, "name": name, "password": password}),
                None,
            )
            .await;
        assert_eq!(reply.status, Status::UnprocessableEntity);
        assert!(reply.field_error("password").is_some());
    }
    assert_eq!(app.count_users(), 0);
}

#[rocket::async_test]
async fn a_dob_before_1900_is_refused() {
    let app = spawn_app().await;
    let reply = app
        .post(
            "/api/users",
            &json!({"uid": "old", "name": "Old", "password": PASSWORD, "dob": "1899-12-31"}),
            None,
        )
        .await;
    assert_eq!(reply.status, Status::UnprocessableEntity);
    assert_eq!(reply.field_error("dob"), Some("must not be before 1900"));
}

#[rocket::async_test]
async fn a_user_shows_their_age_and_post_count_but_hides_email_from_others() {
    let app = spawn_app().await;
    let owner = app.create_user("owner").await;
    let other = app.create_user("other").await;
    app.patch(
        &format!("/api/users/{}", owner.id),
        &json!({"email": "o@example.com", "dob": "2000-01-01"}),
        Some(&owner),
    )
    .await;
    app.create_post(&owner, "one", true).await;
    app.create_post(&owner, "draft", false).await;

    let path = format!("/api/users/{}", owner.id);
    let as_owner = app.get(&path, Some(&owner)).await;
    assert_eq!(as_owner.status, Status::Ok);
    assert_eq!(as_owner.body["email"], "o@example.com");
    assert_eq!(as_owner.body["post_count"], 1, "drafts are not counted");
    // Born on New Year's Day: the age is just the difference of the years.
    let expected_age = {
        use chrono::Datelike;
        chrono::Utc::now().year() - 2000
    };
    assert_eq!(as_owner.body["age"], expected_age);

    for viewer in [None, Some(&other)] {
        let reply = app.get(&path, viewer).await;
        assert_eq!(reply.status, Status::Ok);
        assert!(
            reply.body.get("email").is_none(),
            "email leaked: {:?}",
            reply.body
        );
    }
}

#[rocket::async_test]
async fn admins_see_every_email() {
    let app = spawn_app().await;
    let owner = app.create_user("owner").await;
    let admin = app.create_admin("boss").await;
    app.patch(
        &format!("/api/users/{}", owner.id),
        &json!({"email": "o@example.com"}),
        Some(&owner),
    )
    .await;
    let reply = app
        .get(&format!("/api/users/{}", owner.id), Some(&admin))
        .await;
    assert_eq!(reply.body["email"], "o@example.com");
}

#[rocket::async_test]
async fn the_user_list_is_paginated_with_post_counts_and_links() {
    let app = spawn_app().await;
    let first = app.create_user("first").await;
    for uid in ["second", "third"] {
        app.create_user(uid).await;
    }
    app.create_post(&first, "a", true).await;
    app.create_post(&first, "b", true).await;

    let page1 = app.get("/api/users?per_page=2", None).await;
    assert_eq!(page1.status, Status::Ok);
    assert_eq!(page1.body["total"], 3);
    assert_eq!(page1.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(page1.body["items"][0]["uid"], "first");
    assert_eq!(page1.body["items"][0]["post_count"], 2);
    assert_eq!(page1.body["items"][1]["post_count"], 0);
    assert!(page1.body["prev"].is_null());
    let next = page1.body["next"].as_str().unwrap().to_owned();
    assert!(next.starts_with("/api/users?after=") && next.ends_with("&per_page=2"));

    let page2 = app.get(&next, None).await;
    assert_eq!(page2.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(page2.body["items"][0]["uid"], "third");
    assert!(page2.body["next"].is_null());
    let prev = page2.body["prev"].as_str().unwrap();
    assert!(prev.starts_with("/api/users?before="), "{prev}");
    let back = app.get(prev, None).await;
    assert_eq!(back.body["items"][0]["uid"], "first");
    assert!(back.body["prev"].is_null());
}

#[rocket::async_test]
async fn a_user_changes_their_own_name_email_and_dob_and_clears_them() {
    let app = spawn_app().await;
    let user = app.create_user("changer").await;
    let path = format!("/api/users/{}", user.id);
    let reply = app
        .patch(
            &path,
            &json!({"name": "New Name", "email": "n@example.com", "dob": "1990-05-06"}),
            Some(&user),
        )
        .await;
    assert_eq!(reply.status, Status::Ok, "{:?}", reply.body);
    assert_eq!(reply.body["name"], "New Name");
    assert_eq!(reply.body["email"], "n@example.com");
    assert_eq!(reply.body["dob"], "1990-05-06");

    let cleared = app
        .patch(&path, &json!({"email": null, "dob": null}), Some(&user))
        .await;
    assert_eq!(cleared.status, Status::Ok);
    assert!(cleared.body["email"].is_null());
    assert!(cleared.body["dob"].is_null());
    assert_eq!(
        cleared.body["name"], "New Name",
        "absent fields stay as they were"
    );
}

#[rocket::async_test]
async fn changing_a_password_needs_the_current_one() {
    let app = spawn_app().await;
    let user = app.create_user("pwuser").await;
    let path = format!("/api/users/{}", user.id);

    let missing = app
        .patch(&path, &json!({"password": "a brand new one"}), Some(&user))
        .await;
    assert_eq!(missing.status, Status::UnprocessableEntity);
    assert!(missing.field_error("current_password").is_some());

    let wrong = app
        .patch(
            &path,
            &json!({"password": "a brand new one", "current_password": "nope nope"}),
            Some(&user),
        )
        .await;
    assert_eq!(wrong.status, Status::UnprocessableEntity);
    assert_eq!(
        wrong.field_error("current_password"),
        Some("is not correct")
    );

    let right = app
        .patch(
            &path,
            &json!({"password": "a brand new one", "current_password": PASSWORD}),
            Some(&user),
        )
        .await;
    assert_eq!(right.status, Status::Ok, "{:?}", right.body);
    app.log_in("pwuser", "a brand new one").await;
    let old = app
        .post(
            "/api/session",
            &json!({"uid": "pwuser", "password": PASSWORD}),
            None,
        )
        .await;
    assert_eq!(old.status, Status::Unauthorized);
}

#[rocket::async_test]
async fn an_admin_resets_a_password_and_changes_a_role() {
    let app = spawn_app().await;
    let admin = app.create_admin("boss").await;
    let user = app.create_user("worker").await;
    let path = format!("/api/users/{}", user.id);
    let reply = app
        .patch(
            &path,
            &json!({"password": "reset by boss", "role": "admin"}),
            Some(&admin),
        )
        .await;
    assert_eq!(reply.status, Status::Ok, "{:?}", reply.body);
    assert_eq!(reply.body["role"], "admin");
    app.log_in("worker", "reset by boss").await;
}

#[rocket::async_test]
async fn the_last_admin_cannot_step_down_or_be_deleted() {
    let app = spawn_app().await;
    let admin = app.create_admin("onlyadmin").await;
    let path = format!("/api/users/{}", admin.id);
    let before = app.snapshot();

    let demote = app
        .patch(&path, &json!({"role": "user"}), Some(&admin))
        .await;
    assert_eq!(demote.status, Status::Conflict, "{:?}", demote.body);
    let delete = app.delete(&path, Some(&admin)).await;
    assert_eq!(delete.status, Status::Conflict);
    assert_eq!(app.snapshot(), before);

    // With a second admin, the first may go.
    let second = app.create_admin("second").await;
    assert_eq!(
        app.patch(&path, &json!({"role": "user"}), Some(&admin))
            .await
            .status,
        Status::Ok
    );
    assert_eq!(
        app.delete(&path, Some(&second)).await.status,
        Status::NoContent
    );
}

#[rocket::async_test]
async fn deleting_a_user_deletes_their_posts() {
    let app = spawn_app().await;
    let leaver = app.create_user("leaver").await;
    let stayer = app.create_user("stayer").await;
    for title in ["one", "two", "three"] {
        app.create_post(&leaver, title, true).await;
    }
    let kept = app.create_post(&stayer, "kept", true).await;

    let reply = app
        .delete(&format!("/api/users/{}", leaver.id), Some(&leaver))
        .await;
    assert_eq!(reply.status, Status::NoContent);
    assert_eq!(app.count_users(), 1);
    assert_eq!(app.count_posts(), 1);
    assert_eq!(
        app.get(&format!("/api/posts/{kept}"), None).await.status,
        Status::Ok
    );
    assert_eq!(
        app.get(&format!("/api/users/{}", leaver.id), None)
            .await
            .status,
        Status::NotFound
    );
}
