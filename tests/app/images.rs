//! Post images: upload (API and page), checks by content, serving, removal.

use rocket::http::{ContentType, Cookie, Status};
use serde_json::Value;

use crate::browser::{multipart, Browser};
use crate::helpers::{spawn_app, spawn_configured, TestApp, TestUser, PASSWORD};

/// The first bytes of a PNG, then filler: the check reads the content's
/// signature, so this is a PNG as far as portfolio is concerned.
fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&[7u8; 2000]);
    bytes
}

fn uploads_dir(app: &TestApp) -> std::path::PathBuf {
    app.db.volume.join("uploads")
}

/// The files in the uploads folder.
fn stored(app: &TestApp) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(uploads_dir(app))
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

async fn put_image(
    app: &TestApp,
    post: i32,
    bytes: &[u8],
    content_type: ContentType,
    who: &TestUser,
) -> (Status, Value) {
    let response = app
        .client
        .put(format!("/api/posts/{post}/image"))
        .header(content_type)
        .cookie(Cookie::new("portfolio_session", who.cookie.clone()))
        .body(bytes)
        .dispatch()
        .await;
    let status = response.status();
    let body = response.into_string().await.unwrap_or_default();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// GET of an image URL as `who`: status, Content-Type, headers, body.
async fn fetch(
    app: &TestApp,
    url: &str,
    who: Option<&TestUser>,
) -> (Status, Vec<(String, String)>, Vec<u8>) {
    let mut request = app.client.get(url.to_owned());
    if let Some(user) = who {
        request = request.cookie(Cookie::new("portfolio_session", user.cookie.clone()));
    }
    let response = request.dispatch().await;
    let status = response.status();
    let headers = response
        .headers()
        .iter()
        .map(|h| (h.name().as_str().to_lowercase(), h.value().to_owned()))
        .collect();
    (
        status,
        headers,
        response.into_bytes().await.unwrap_or_default(),
    )
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[rocket::async_test]
async fn an_image_is_stored_served_replaced_and_removed() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let post = app.create_post(&ada, "With a picture", true).await;

    // The Content-Type sent does not matter: the bytes do.
    let (status, body) = put_image(&app, post, &png(), ContentType::Binary, &ada).await;
    assert_eq!(status, Status::Ok, "{body}");
    let url = body["image"].as_str().unwrap().to_owned();
    let name = url.strip_prefix("/uploads/").unwrap().to_owned();
    assert!(name.ends_with(".png") && name.len() == 36, "{name}");
    assert_eq!(stored(&app), std::slice::from_ref(&name));

    let (status, headers, bytes) = fetch(&app, &url, None).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(bytes, png());
    assert_eq!(header(&headers, "content-type"), Some("image/png"));
    assert_eq!(header(&headers, "x-content-type-options"), Some("nosniff"));
    assert_eq!(
        header(&headers, "cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    // The post shows it, in the API and on its page.
    assert_eq!(
        app.get(&format!("/api/posts/{post}"), None).await.body["image"],
        url.as_str()
    );
    let page = Browser::new(&app).visit(&format!("/posts/{post}")).await;
    assert!(
        page.html.contains(&format!("<img src=\"{url}\"")),
        "{}",
        page.html
    );

    // Replacing it removes the old file.
    let gif = b"GIF89a\x01\x00\x01\x00".to_vec();
    let (status, body) = put_image(&app, post, &gif, ContentType::PNG, &ada).await;
    assert_eq!(status, Status::Ok);
    let new_url = body["image"].as_str().unwrap().to_owned();
    assert!(
        new_url.ends_with(".gif"),
        "the type comes from the bytes: {new_url}"
    );
    assert_eq!(stored(&app).len(), 1);
    assert_eq!(fetch(&app, &url, None).await.0, Status::NotFound);

    // Deleting it removes the file and the reference.
    let reply = app
        .delete(&format!("/api/posts/{post}/image"), Some(&ada))
        .await;
    assert_eq!(reply.status, Status::Ok);
    assert_eq!(reply.body["image"], Value::Null);
    assert!(stored(&app).is_empty());
    assert_eq!(fetch(&app, &new_url, None).await.0, Status::NotFound);
}

#[rocket::async_test]
async fn anything_but_an_image_is_refused_and_nothing_is_stored() {
    let app = spawn_configured(false, |f| f.merge(("max_image_bytes", 4096))).await;
    let ada = app.create_user("ada").await;
    let post = app.create_post(&ada, "Plain", true).await;
    let before = app.snapshot();
    let cases: Vec<(&str, Vec<u8>, ContentType)> = vec![
        (
            "text named as a PNG",
            b"just some text".to_vec(),
            ContentType::PNG,
        ),
        (
            "an SVG (can carry script)",
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>".to_vec(),
            ContentType::SVG,
        ),
        (
            "HTML",
            b"<html><script>alert(1)</script></html>".to_vec(),
            ContentType::HTML,
        ),
        (
            "a truncated PNG signature",
            b"\x89PN".to_vec(),
            ContentType::PNG,
        ),
        (
            "a WAV in RIFF",
            b"RIFF\x10\0\0\0WAVEfmt ".to_vec(),
            ContentType::Binary,
        ),
        ("nothing", Vec::new(), ContentType::PNG),
    ];
    for (what, bytes, content_type) in cases {
        let (status, body) = put_image(&app, post, &bytes, content_type, &ada).await;
        assert_eq!(status, Status::UnprocessableEntity, "{what}: {body}");
        assert!(
            body["error"]["fields"]["image"].is_string(),
            "{what}: {body}"
        );
    }
    // One byte over the configured limit: 413; at the limit: fine.
    let mut big = png();
    big.resize(4097, 0);
    let (status, _) = put_image(&app, post, &big, ContentType::PNG, &ada).await;
    assert_eq!(status, Status::PayloadTooLarge);
    assert!(stored(&app).is_empty(), "no file left: {:?}", stored(&app));
    assert_eq!(app.snapshot(), before, "no row changed");
    big.truncate(4096);
    assert_eq!(
        put_image(&app, post, &big, ContentType::PNG, &ada).await.0,
        Status::Ok
    );
}

#[rocket::async_test]
async fn only_the_author_or_an_admin_may_change_the_image_and_refusals_store_nothing() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let bob = app.create_user("bob").await;
    let admin = app.create_admin("boss").await;
    let post = app.create_post(&ada, "Ada's", true).await;
    let (status, _) = put_image(&app, post, &png(), ContentType::PNG, &bob).await;
    assert_eq!(status, Status::Forbidden);
    assert!(stored(&app).is_empty(), "the refused upload left a file");
    let anonymous = app
        .client
        .put(format!("/api/posts/{post}/image"))
        .body(png())
        .dispatch()
        .await;
    assert_eq!(anonymous.status(), Status::Unauthorized);
    assert_eq!(
        app.delete(&format!("/api/posts/{post}/image"), Some(&bob))
            .await
            .status,
        Status::Forbidden
    );
    assert_eq!(
        put_image(&app, post, &png(), ContentType::PNG, &admin)
            .await
            .0,
        Status::Ok
    );
    assert_eq!(
        put_image(&app, 9999, &png(), ContentType::PNG, &ada)
            .await
            .0,
        Status::NotFound
    );
    assert_eq!(stored(&app).len(), 1);
}

#[rocket::async_test]
async fn deleting_the_post_or_the_account_removes_the_files() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let first = app.create_post(&ada, "One", true).await;
    let second = app.create_post(&ada, "Two", false).await;
    let third = app.create_post(&ada, "Three", true).await;
    for post in [first, second, third] {
        assert_eq!(
            put_image(&app, post, &png(), ContentType::PNG, &ada)
                .await
                .0,
            Status::Ok
        );
    }
    assert_eq!(stored(&app).len(), 3);
    assert_eq!(
        app.delete(&format!("/api/posts/{first}"), Some(&ada))
            .await
            .status,
        Status::NoContent
    );
    assert_eq!(stored(&app).len(), 2);
    assert_eq!(
        app.delete(&format!("/api/users/{}", ada.id), Some(&ada))
            .await
            .status,
        Status::NoContent
    );
    assert!(stored(&app).is_empty(), "{:?}", stored(&app));
}

#[rocket::async_test]
async fn a_drafts_image_is_for_those_who_may_see_the_draft() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let bob = app.create_user("bob").await;
    let draft = app.create_post(&ada, "Secret", false).await;
    let (_, body) = put_image(&app, draft, &png(), ContentType::PNG, &ada).await;
    let url = body["image"].as_str().unwrap().to_owned();
    assert_eq!(fetch(&app, &url, None).await.0, Status::NotFound);
    assert_eq!(fetch(&app, &url, Some(&bob)).await.0, Status::NotFound);
    let (status, headers, _) = fetch(&app, &url, Some(&ada)).await;
    assert_eq!(status, Status::Ok);
    assert!(header(&headers, "cache-control")
        .unwrap()
        .starts_with("private"));
}

#[rocket::async_test]
async fn image_urls_never_reach_other_files() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let post = app.create_post(&ada, "P", true).await;
    put_image(&app, post, &png(), ContentType::PNG, &ada).await;
    // A file in the uploads folder that no post refers to is not served.
    let stray = format!("{}.png", "ab".repeat(16));
    std::fs::write(uploads_dir(&app).join(&stray), png()).unwrap();
    for url in [
        format!("/uploads/{stray}"),
        "/uploads/..%2Fportfolio.db".to_owned(),
        "/uploads/../portfolio.db".to_owned(),
        "/uploads/%2e%2e%2fportfolio.db".to_owned(),
        "/uploads/portfolio.db".to_owned(),
        "/uploads/".to_owned(),
    ] {
        let (status, _, bytes) = fetch(&app, &url, None).await;
        assert_eq!(status, Status::NotFound, "{url}");
        assert!(
            !bytes.starts_with(b"SQLite format"),
            "{url} served the database"
        );
    }
}

#[rocket::async_test]
async fn start_up_removes_files_no_post_refers_to() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let post = app.create_post(&ada, "Kept", true).await;
    put_image(&app, post, &png(), ContentType::PNG, &ada).await;
    let kept = stored(&app);
    let stray = format!("{}.jpg", "cd".repeat(16));
    let young = format!("{}.gif", "ef".repeat(16));
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    let write = |name: &str, bytes: &[u8], old: bool| {
        let path = uploads_dir(&app).join(name);
        std::fs::write(&path, bytes).unwrap();
        if old {
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(two_hours_ago).unwrap();
        }
    };
    write(&stray, b"\xFF\xD8\xFF", true);
    write(&format!(".{stray}.partial"), b"half", true);
    write("README.txt", b"not ours", true);
    // Another server may be about to commit the row of a file just saved.
    write(&young, b"GIF89a", false);
    // A second launch on the same folder sweeps before serving.
    let again = rocket::local::asynchronous::Client::untracked(portfolio::build(
        crate::helpers::test_figment(&app.db, false),
    ))
    .await
    .unwrap();
    drop(again);
    let mut expected = kept.clone();
    expected.push("README.txt".to_owned());
    expected.push(young);
    expected.sort();
    assert_eq!(stored(&app), expected);
}

#[rocket::async_test]
async fn a_database_without_images_never_sweeps_the_folder() {
    // Say a fresh database is pointed at the folder of an older one.
    let app = spawn_app().await;
    std::fs::create_dir_all(uploads_dir(&app)).unwrap();
    let theirs = format!("{}.png", "12".repeat(16));
    let path = uploads_dir(&app).join(&theirs);
    std::fs::write(&path, png()).unwrap();
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(86400))
        .unwrap();
    let again = rocket::local::asynchronous::Client::untracked(portfolio::build(
        crate::helpers::test_figment(&app.db, false),
    ))
    .await
    .unwrap();
    drop(again);
    assert_eq!(stored(&app), [theirs]);
}

#[rocket::async_test]
async fn the_post_form_uploads_an_image_and_refuses_a_fake_one_keeping_the_text() {
    let app = spawn_app().await;
    app.create_user("ada").await;
    let mut browser = Browser::new(&app);
    browser.log_in("ada", PASSWORD).await;
    let form = browser.get("/posts/new").await;
    assert!(form.html.contains("enctype=\"multipart/form-data\""));
    let token = form.csrf_token();
    let send = |title: &str, file: Option<(&str, Vec<u8>)>| {
        let fields = [
            ("csrf_token", token.as_str()),
            ("title", title),
            ("content", "Some text."),
            ("published", "true"),
        ];
        let (content_type, body) =
            multipart(&fields, file.as_ref().map(|(n, b)| (*n, b.as_slice())));
        (content_type, body)
    };
    // A script called .png: 422, the text kept, the message by the field,
    // and no post and no file.
    let (content_type, body) = send(
        "Fake",
        Some(("evil.png", b"<script>alert(1)</script>".to_vec())),
    );
    let refused = browser.post_raw("/posts/new", &content_type, body).await;
    assert_eq!(
        refused.status,
        Status::UnprocessableEntity,
        "{}",
        refused.html
    );
    assert!(
        refused
            .html
            .contains("must be a JPEG, PNG, GIF or WebP image"),
        "{}",
        refused.html
    );
    assert!(refused.html.contains("value=\"Fake\""), "the title is kept");
    assert_eq!(app.count_posts(), 0);
    assert!(stored(&app).is_empty());

    // No file chosen: a post without an image.
    let (content_type, body) = send("Plain", Some(("", Vec::new())));
    let plain = browser.post_raw("/posts/new", &content_type, body).await;
    assert_eq!(plain.status, Status::SeeOther, "{}", plain.html);
    assert!(stored(&app).is_empty());

    // A real upload: the post page shows it.
    let (content_type, body) = send("Pictured", Some(("holiday photo.png", png())));
    let made = browser.post_raw("/posts/new", &content_type, body).await;
    assert_eq!(made.status, Status::SeeOther, "{}", made.html);
    let page = browser.follow(&made).await;
    let name = &stored(&app)[0];
    assert!(
        page.html.contains(&format!("/uploads/{name}")),
        "{}",
        page.html
    );
    assert!(
        !name.contains("holiday"),
        "the client's file name is not used"
    );
}

/// Makes the database refuse to give any post an image: a failure injected
/// between an edit's text and its image.
fn refuse_images_in_the_database(app: &TestApp) {
    use diesel::connection::SimpleConnection;
    let sql = if crate::helpers::on_postgres() {
        "CREATE FUNCTION refuse_images() RETURNS trigger LANGUAGE plpgsql AS \
           $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$; \
         CREATE TRIGGER refuse_images BEFORE UPDATE OF image ON posts FOR EACH ROW \
           WHEN (NEW.image IS NOT NULL) EXECUTE FUNCTION refuse_images();"
    } else {
        "CREATE TRIGGER refuse_images BEFORE UPDATE OF image ON posts \
           WHEN NEW.image IS NOT NULL BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
    };
    app.conn().batch_execute(sql).unwrap();
}

#[rocket::async_test]
async fn an_edit_whose_image_fails_keeps_the_old_text_and_stores_no_file() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let id = app.create_post(&ada, "Before", true).await;
    refuse_images_in_the_database(&app);
    let mut browser = Browser::new(&app);
    browser.log_in("ada", PASSWORD).await;
    let form = browser.get(&format!("/posts/{id}/edit")).await;
    let token = form.csrf_token();
    let fields = [
        ("csrf_token", token.as_str()),
        ("title", "After"),
        ("content", "Changed text."),
        ("published", "true"),
    ];
    let picture = png();
    let (content_type, body) = multipart(&fields, Some(("new.png", picture.as_slice())));
    let failed = browser
        .post_raw(&format!("/posts/{id}/edit"), &content_type, body)
        .await;
    assert_eq!(
        failed.status,
        Status::InternalServerError,
        "{}",
        failed.html
    );
    // Neither half of the edit is there: the text is the old one, the post
    // has no image, and the file stored for it is gone again.
    let post = app.get(&format!("/api/posts/{id}"), None).await;
    assert_eq!(post.body["title"], "Before");
    assert!(post.body["image"].is_null(), "{}", post.body);
    assert!(stored(&app).is_empty(), "{:?}", stored(&app));
    // The same edit without an image goes through whole.
    let fields = [
        ("csrf_token", token.as_str()),
        ("title", "After"),
        ("content", "Changed text."),
        ("published", "true"),
    ];
    let (content_type, body) = multipart(&fields, None);
    let saved = browser
        .post_raw(&format!("/posts/{id}/edit"), &content_type, body)
        .await;
    assert_eq!(saved.status, Status::SeeOther, "{}", saved.html);
    let post = app.get(&format!("/api/posts/{id}"), None).await;
    assert_eq!(post.body["title"], "After");
}
