//! Feeds, link previews, the sitemap and robots.txt: what readers, chat
//! apps and crawlers get, checked with parsers of their own (feed-rs for
//! Atom, quick-xml for sitemaps), on both backends.

use chrono::{Duration, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use portfolio::db::schema::{post_tags, posts, tags};
use rocket::http::{Header, Status};
use serde_json::json;

use crate::helpers::{spawn_app, spawn_configured, TestApp, TestUser};

const SITE: &str = "https://blog.example.org";

/// An app whose `public_url` is [`SITE`] (with a trailing `/`, as people
/// write it), and `sitemap_chunk` ids per sitemap file.
async fn spawn_site(sitemap_chunk: u32) -> TestApp {
    spawn_configured(false, |figment| {
        figment
            .merge(("public_url", format!("{SITE}/")))
            .merge(("sitemap_chunk", sitemap_chunk))
    })
    .await
}

/// A GET with extra request headers: status, response headers, body.
async fn fetch(
    app: &TestApp,
    path: &str,
    headers: &[(&'static str, String)],
) -> (Status, Vec<(String, String)>, String) {
    let mut request = app.client.get(path.to_owned());
    for (name, value) in headers {
        request = request.header(Header::new(*name, value.clone()));
    }
    let response = request.dispatch().await;
    let status = response.status();
    let found = response
        .headers()
        .iter()
        .map(|h| (h.name().as_str().to_owned(), h.value().to_owned()))
        .collect();
    (
        status,
        found,
        response.into_string().await.unwrap_or_default(),
    )
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The feed at `path`, parsed by feed-rs, after checking the answer.
async fn feed(app: &TestApp, path: &str) -> feed_rs::model::Feed {
    let (status, headers, body) = fetch(app, path, &[]).await;
    assert_eq!(status, Status::Ok, "{path}: {body}");
    assert_eq!(
        header(&headers, "Content-Type"),
        Some("application/atom+xml; charset=utf-8")
    );
    feed_rs::parser::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{path}: {e}\n{body}"))
}

fn entry_ids(feed: &feed_rs::model::Feed) -> Vec<String> {
    feed.entries.iter().map(|e| e.id.clone()).collect()
}

/// A post's title, when it was last updated, and when published: at
/// `publish_at` or, for posts that have none, when it was written.
fn post_row(app: &TestApp, id: i32) -> (String, NaiveDateTime, NaiveDateTime) {
    let (title, updated_at, publish_at, created_at): (
        String,
        NaiveDateTime,
        Option<NaiveDateTime>,
        NaiveDateTime,
    ) = posts::table
        .find(id)
        .select((
            posts::title,
            posts::updated_at,
            posts::publish_at,
            posts::created_at,
        ))
        .first(&mut app.conn())
        .unwrap();
    (title, updated_at, publish_at.unwrap_or(created_at))
}

/// A post that waits for its time: unpublished, `publish_at` tomorrow.
fn schedule(app: &TestApp, id: i32) {
    let tomorrow = Utc::now().naive_utc() + Duration::days(1);
    diesel::update(posts::table.find(id))
        .set((posts::published.eq(false), posts::publish_at.eq(tomorrow)))
        .execute(&mut app.conn())
        .unwrap();
}

/// The absolute link of each `<loc>` in a sitemap (index or chunk), which
/// must be well-formed XML in the sitemap namespace.
fn locs(xml: &str, root: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut found = Vec::new();
    let mut in_loc = false;
    let mut saw_root = false;
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("{e}: {xml}")) {
            Event::Start(start) => {
                let name = String::from_utf8(start.name().as_ref().to_vec()).unwrap();
                if name == root {
                    saw_root = true;
                    let xmlns = start
                        .try_get_attribute("xmlns")
                        .unwrap()
                        .expect("the sitemap namespace");
                    assert_eq!(
                        xmlns.value.as_ref(),
                        b"http://www.sitemaps.org/schemas/sitemap/0.9"
                    );
                }
                in_loc = name == "loc";
                if in_loc {
                    found.push(String::new());
                }
            }
            Event::Text(text) if in_loc => {
                let raw = std::str::from_utf8(&text).unwrap();
                let text = quick_xml::escape::unescape(raw).unwrap();
                found.last_mut().unwrap().push_str(&text);
            }
            // `&amp;` and the like come as events of their own.
            Event::GeneralRef(entity) if in_loc => {
                let raw = format!("&{};", std::str::from_utf8(&entity).unwrap());
                let text = quick_xml::escape::unescape(&raw).unwrap();
                found.last_mut().unwrap().push_str(&text);
            }
            Event::End(_) => in_loc = false,
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(saw_root, "no <{root}> in {xml}");
    found
}

/// `&#x2F;` back to `/`: Tera escapes it in attribute values.
fn unescaped(html: &str) -> String {
    html.replace("&#x2F;", "/")
}

/// The page at `path` (after the 301 of a post asked for by id), `/`
/// unescaped.
async fn page(app: &TestApp, path: &str) -> String {
    let mut reply = app.get(path, None).await;
    if reply.status == Status::MovedPermanently {
        let to = reply.location.clone().unwrap();
        reply = app.get(&to, None).await;
    }
    assert_eq!(reply.status, Status::Ok, "{path}");
    unescaped(reply.body.as_str().unwrap())
}

/// A PNG's signature and header chunk (640×480), then filler: what the
/// upload check and the size reader look at.
fn png_640_by_480() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    bytes.extend_from_slice(&640u32.to_be_bytes());
    bytes.extend_from_slice(&480u32.to_be_bytes());
    bytes.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    bytes.extend_from_slice(&[7u8; 500]);
    bytes
}

#[rocket::async_test]
async fn the_site_feed_has_the_twenty_newest_published_posts_as_valid_atom() {
    let app = spawn_site(10_000).await;
    let ada = app.create_user("ada").await;
    let mut published = Vec::new();
    for n in 1..=22 {
        published.push(
            app.create_post(&ada, &format!("Post number {n}"), true)
                .await,
        );
    }
    let draft = app.create_post(&ada, "A draft", false).await;
    let scheduled = app.create_post(&ada, "Scheduled for tomorrow", true).await;
    schedule(&app, scheduled);

    let feed = feed(&app, "/feed.xml").await;
    assert_eq!(feed.id, format!("{SITE}/feed.xml"));
    let link = |rel: &str| {
        feed.links
            .iter()
            .find(|l| l.rel.as_deref() == Some(rel))
            .map(|l| l.href.clone())
    };
    assert_eq!(link("self"), Some(format!("{SITE}/feed.xml")));
    assert_eq!(link("alternate"), Some(format!("{SITE}/")));

    // The 20 newest, newest first; no draft, no scheduled post.
    let expected: Vec<String> = published
        .iter()
        .rev()
        .take(20)
        .map(|id| format!("{SITE}/posts/{id}"))
        .collect();
    assert_eq!(entry_ids(&feed), expected);
    for hidden in [draft, scheduled] {
        assert!(!entry_ids(&feed).contains(&format!("{SITE}/posts/{hidden}")));
    }

    let newest = &feed.entries[0];
    let id = published[21];
    let (title, updated_at, published_at) = post_row(&app, id);
    assert_eq!(newest.title.as_ref().unwrap().content, title);
    let alternate = &newest.links[0];
    assert_eq!(alternate.rel.as_deref(), Some("alternate"));
    assert_eq!(alternate.href, format!("{SITE}/posts/{id}-post-number-22"));
    assert_eq!(newest.authors[0].name.as_deref(), Some("User ada"));
    assert_eq!(
        newest.authors[0].uri.as_deref(),
        Some(format!("{SITE}/users/{}", ada.id).as_str())
    );
    // Atom dates carry whole seconds at least; compare to the second.
    let second = |t: NaiveDateTime| t.and_utc().timestamp();
    assert_eq!(newest.updated.unwrap().timestamp(), second(updated_at));
    assert_eq!(newest.published.unwrap().timestamp(), second(published_at));
    assert_eq!(feed.updated.unwrap().timestamp(), second(updated_at));
    assert_eq!(
        newest.summary.as_ref().unwrap().content,
        "About Post number 22."
    );
    let content = newest.content.as_ref().unwrap();
    assert_eq!(content.content_type.to_string(), "text/html");
    assert!(
        content
            .body
            .as_deref()
            .unwrap()
            .contains("<p>About <em>Post number 22</em>.</p>"),
        "{content:?}"
    );
}

#[rocket::async_test]
async fn an_entry_keeps_its_id_when_its_title_changes() {
    let app = spawn_site(10_000).await;
    let ada = app.create_user("ada").await;
    let id = app.create_post(&ada, "First title", true).await;
    let before = feed(&app, "/feed.xml").await;

    let edited = app
        .patch(
            &format!("/api/posts/{id}"),
            &json!({ "title": "A better <title> & more" }),
            Some(&ada),
        )
        .await;
    assert_eq!(edited.status, Status::Ok, "{:?}", edited.body);
    let after = feed(&app, "/feed.xml").await;

    assert_eq!(entry_ids(&before), entry_ids(&after));
    assert_eq!(
        after.entries[0].links[0].href,
        format!("{SITE}/posts/{id}-a-better-title-more")
    );
    // Escaped in the XML, and read back as written.
    assert_eq!(
        after.entries[0].title.as_ref().unwrap().content,
        "A better <title> & more"
    );
    assert!(after.entries[0].updated > before.entries[0].updated);
}

#[rocket::async_test]
async fn a_persons_feed_has_their_posts_only_and_an_unknown_person_has_none() {
    let app = spawn_site(10_000).await;
    let ada = app.create_user("ada").await;
    let bob = app.create_user("bob").await;
    let by_ada = app.create_post(&ada, "By Ada", true).await;
    app.create_post(&bob, "By Bob", true).await;
    app.create_post(&ada, "Ada's draft", false).await;

    let feed = feed(&app, &format!("/users/{}/feed.xml", ada.id)).await;
    assert_eq!(entry_ids(&feed), vec![format!("{SITE}/posts/{by_ada}")]);
    assert_eq!(feed.id, format!("{SITE}/users/{}/feed.xml", ada.id));
    assert_eq!(feed.title.as_ref().unwrap().content, "User ada · portfolio");
    assert_eq!(feed.authors[0].name.as_deref(), Some("User ada"));

    let (status, _, _) = fetch(&app, "/users/9999/feed.xml", &[]).await;
    assert_eq!(status, Status::NotFound);
    // Ids no account can have: refused as the profile page refuses them.
    for strange in [
        "/users/-1/feed.xml",
        "/users/99999999999/feed.xml",
        "/users/ada/feed.xml",
    ] {
        let (status, _, _) = fetch(&app, strange, &[]).await;
        let profile = strange.trim_end_matches("/feed.xml");
        let (profile_status, _, _) = fetch(&app, profile, &[]).await;
        assert!(status.class().is_client_error(), "{strange}: {status}");
        assert_eq!(status, profile_status, "{strange}");
    }
}

#[rocket::async_test]
async fn a_suspended_accounts_posts_leave_every_feed() {
    let app = spawn_site(10_000).await;
    let admin = app.create_admin("admin").await;
    let ada = app.create_user("ada").await;
    let kept = app.create_post(&admin, "Kept", true).await;
    app.create_post(&ada, "Spam", true).await;

    let suspended = app
        .post(
            &format!("/api/users/{}/suspension", ada.id),
            &json!({ "reason": "posting spam" }),
            Some(&admin),
        )
        .await;
    assert_eq!(suspended.status, Status::Ok, "{:?}", suspended.body);

    let site = feed(&app, "/feed.xml").await;
    assert_eq!(entry_ids(&site), vec![format!("{SITE}/posts/{kept}")]);
    let hers = feed(&app, &format!("/users/{}/feed.xml", ada.id)).await;
    assert!(hers.entries.is_empty());
    // An empty feed still says when: the epoch, not "now" on every request.
    assert_eq!(hers.updated.unwrap().timestamp(), 0);
}

#[rocket::async_test]
async fn a_feed_answers_304_while_it_has_not_changed() {
    let app = spawn_site(10_000).await;
    let ada = app.create_user("ada").await;
    app.create_post(&ada, "One", true).await;
    // Earlier than the second of any post written below.
    let long_ago = NaiveDate::from_ymd_opt(2020, 1, 2)
        .unwrap()
        .and_hms_opt(3, 4, 5)
        .unwrap();
    diesel::update(posts::table)
        .set(posts::updated_at.eq(long_ago))
        .execute(&mut app.conn())
        .unwrap();

    let (status, headers, _) = fetch(&app, "/feed.xml", &[]).await;
    assert_eq!(status, Status::Ok);
    let etag = header(&headers, "ETag").unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    let modified = header(&headers, "Last-Modified").unwrap().to_owned();
    assert_eq!(modified, "Thu, 02 Jan 2020 03:04:05 GMT");

    for asked in [
        ("If-None-Match", etag.clone()),
        ("If-None-Match", format!("\"other\", W/{etag}")),
        ("If-Modified-Since", modified.clone()),
    ] {
        let (status, headers, body) = fetch(&app, "/feed.xml", std::slice::from_ref(&asked)).await;
        assert_eq!(status, Status::NotModified, "{asked:?}");
        assert!(body.is_empty());
        assert_eq!(header(&headers, "ETag"), Some(etag.as_str()));
    }
    // If-None-Match decides when sent: a stale tag is a full answer.
    let (status, _, _) = fetch(
        &app,
        "/feed.xml",
        &[
            ("If-None-Match", "\"stale\"".to_owned()),
            ("If-Modified-Since", modified.clone()),
        ],
    )
    .await;
    assert_eq!(status, Status::Ok);

    app.create_post(&ada, "Two", true).await;
    for asked in [
        ("If-None-Match", etag.clone()),
        ("If-Modified-Since", modified),
    ] {
        let (status, headers, body) = fetch(&app, "/feed.xml", std::slice::from_ref(&asked)).await;
        assert_eq!(status, Status::Ok, "{asked:?}");
        assert_ne!(header(&headers, "ETag"), Some(etag.as_str()));
        assert!(body.contains("Two"));
    }
}

#[rocket::async_test]
async fn post_and_profile_pages_carry_link_previews_and_feed_links() {
    let app = spawn_site(10_000).await;
    let ada = app.create_user("ada").await;
    let plain = app.create_post(&ada, "Plain words", true).await;
    let pictured = app.create_post(&ada, "With a picture", true).await;
    let put = app
        .client
        .put(format!("/api/posts/{pictured}/image"))
        .header(rocket::http::ContentType::PNG)
        .cookie(rocket::http::Cookie::new(
            "portfolio_session",
            ada.cookie.clone(),
        ))
        .body(png_640_by_480())
        .dispatch()
        .await;
    assert_eq!(put.status(), Status::Ok);
    let image: Option<String> = posts::table
        .find(pictured)
        .select(posts::image)
        .first(&mut app.conn())
        .unwrap();
    let image = image.unwrap();

    let html = page(&app, &format!("/posts/{pictured}")).await;
    let url = format!("{SITE}/posts/{pictured}-with-a-picture");
    for expected in [
        format!("<link rel=\"canonical\" href=\"{url}\">"),
        format!("<meta property=\"og:url\" content=\"{url}\">"),
        "<meta property=\"og:type\" content=\"article\">".to_owned(),
        "<meta property=\"og:title\" content=\"With a picture\">".to_owned(),
        "<meta property=\"og:description\" content=\"About With a picture.\">".to_owned(),
        format!("<meta property=\"og:image\" content=\"{SITE}/uploads/{image}\">"),
        "<meta property=\"og:image:width\" content=\"640\">".to_owned(),
        "<meta property=\"og:image:height\" content=\"480\">".to_owned(),
        "<meta name=\"twitter:card\" content=\"summary_large_image\">".to_owned(),
        format!("<link rel=\"alternate\" type=\"application/atom+xml\" title=\"portfolio: the newest posts\" href=\"{SITE}/feed.xml\">"),
    ] {
        assert!(html.contains(&expected), "{expected}\nnot in\n{html}");
    }

    let html = page(&app, &format!("/posts/{plain}")).await;
    assert!(html.contains("<meta name=\"twitter:card\" content=\"summary\">"));
    assert!(!html.contains("og:image"));

    let html = page(&app, &format!("/users/{}", ada.id)).await;
    let profile = format!("{SITE}/users/{}", ada.id);
    for expected in [
        format!("<link rel=\"canonical\" href=\"{profile}\">"),
        "<meta property=\"og:type\" content=\"profile\">".to_owned(),
        "<meta property=\"og:description\" content=\"User ada (ada) on portfolio: 2 published posts.\">".to_owned(),
        format!("title=\"User ada: posts\" href=\"{profile}/feed.xml\">"),
        // The visible link.
        format!("href=\"/users/{}/feed.xml\" id=\"user-feed-link\"", ada.id),
    ] {
        assert!(html.contains(&expected), "{expected}\nnot in\n{html}");
    }

    let html = page(&app, "/").await;
    assert!(html.contains("href=\"/feed.xml\" id=\"site-feed-link\""));
    assert!(html.contains(&format!("href=\"{SITE}/feed.xml\"")));
}

#[rocket::async_test]
async fn without_public_url_links_point_at_localhost_never_at_the_host_header() {
    let app = spawn_app().await;
    let ada = app.create_user("ada").await;
    let id = app.create_post(&ada, "Hello", true).await;
    let response = app
        .client
        .get("/feed.xml")
        .header(Header::new("Host", "evil.example"))
        .dispatch()
        .await;
    let body = response.into_string().await.unwrap();
    let feed = feed_rs::parser::parse(body.as_bytes()).unwrap();
    assert!(!body.contains("evil.example"));
    assert!(
        feed.entries[0].id.starts_with("http://localhost:")
            && feed.entries[0].id.ends_with(&format!("/posts/{id}")),
        "{}",
        feed.entries[0].id
    );
}

/// A post carrying tag `name` (the triggers count it on the tag).
fn tag(app: &TestApp, name: &str, post: Option<i32>) {
    let mut conn = app.conn();
    let tag_id: i32 = diesel::insert_into(tags::table)
        .values(tags::name.eq(name))
        .returning(tags::id)
        .get_result(&mut conn)
        .unwrap();
    if let Some(post) = post {
        diesel::insert_into(post_tags::table)
            .values((
                post_tags::post_id.eq(post),
                post_tags::tag_id.eq(tag_id),
                post_tags::published.eq(true),
                post_tags::updated_at.eq(Utc::now().naive_utc()),
            ))
            .execute(&mut conn)
            .unwrap();
    }
}

async fn posts_by(app: &TestApp, author: &TestUser, titles: &[(&str, bool)]) -> Vec<i32> {
    let mut ids = Vec::new();
    for (title, published) in titles {
        ids.push(app.create_post(author, title, *published).await);
    }
    ids
}

#[rocket::async_test]
async fn the_sitemap_lists_chunks_of_public_pages_and_robots_point_at_it() {
    // Two ids a file, so a few rows make several files.
    let app = spawn_site(2).await;
    let admin = app.create_admin("admin").await;
    let ada = app.create_user("ada").await;
    let spammer = app.create_user("spammer").await;
    let ids = posts_by(
        &app,
        &ada,
        &[
            ("One", true),
            ("Two", true),
            ("Draft", false),
            ("Four", true),
        ],
    )
    .await;
    let spam = app.create_post(&spammer, "Spam", true).await;
    let suspended = app
        .post(
            &format!("/api/users/{}/suspension", spammer.id),
            &json!({ "reason": "spam" }),
            Some(&admin),
        )
        .await;
    assert_eq!(suspended.status, Status::Ok);
    tag(&app, "rust lang", Some(ids[0]));
    tag(&app, "unused", None);

    let (status, headers, index) = fetch(&app, "/sitemap.xml", &[]).await;
    assert_eq!(status, Status::Ok);
    assert!(header(&headers, "Content-Type").unwrap().contains("xml"));
    let files = locs(&index, "sitemapindex");
    // Ids from 1: posts 1..=5 in [0,2) [2,4) [4,6); users 1..=3 in
    // [0,2) [2,4); tags 1..=2 in [0,2) [2,4).
    let expected: Vec<String> = [
        "posts-0", "posts-1", "posts-2", "users-0", "users-1", "tags-0", "tags-1",
    ]
    .iter()
    .map(|name| format!("{SITE}/sitemaps/{name}.xml"))
    .collect();
    assert_eq!(files, expected);

    let mut pages = Vec::new();
    for file in &files {
        let path = file.strip_prefix(SITE).unwrap();
        let (status, headers, xml) = fetch(&app, path, &[]).await;
        assert_eq!(status, Status::Ok, "{path}");
        assert!(header(&headers, "ETag").is_some());
        let found = locs(&xml, "urlset");
        assert!(found.len() <= 2, "{path}: {found:?}");
        if path.starts_with("/sitemaps/posts") || path.starts_with("/sitemaps/users") {
            assert_eq!(xml.matches("<lastmod>").count(), found.len(), "{xml}");
        }
        pages.extend(found);
    }
    let mut expected = vec![
        format!("{SITE}/posts/{}-one", ids[0]),
        format!("{SITE}/posts/{}-two", ids[1]),
        format!("{SITE}/posts/{}-four", ids[3]),
        format!("{SITE}/users/{}", admin.id),
        format!("{SITE}/users/{}", ada.id),
        format!("{SITE}/tags/rust%20lang"),
    ];
    expected.sort();
    pages.sort();
    // No draft, no suspended account or its post, no tag without posts.
    assert_eq!(pages, expected, "spam post {spam}");

    for missing in [
        "/sitemaps/posts-3.xml",
        "/sitemaps/drafts-0.xml",
        "/sitemaps/posts-00.xml",
        "/sitemaps/posts-4294967296.xml",
        "/sitemaps/posts-1073741823.xml",
        "/sitemaps/..%2Fportfolio.db",
        "/sitemaps/posts--1.xml",
    ] {
        let (status, _, _) = fetch(&app, missing, &[]).await;
        assert_eq!(status, Status::NotFound, "{missing}");
    }

    let (status, headers, robots) = fetch(&app, "/robots.txt", &[]).await;
    assert_eq!(status, Status::Ok);
    assert!(header(&headers, "Content-Type")
        .unwrap()
        .starts_with("text/plain"));
    assert!(robots.starts_with("User-agent: *\n"), "{robots}");
    for line in [
        "Disallow: /admin\n",
        "Disallow: /api/\n",
        "Disallow: /login\n",
    ] {
        assert!(robots.contains(line), "{robots}");
    }
    assert!(robots.contains(&format!("Sitemap: {SITE}/sitemap.xml\n")));
}

#[rocket::async_test]
async fn a_tags_feed_has_its_newest_published_posts_and_its_page_links_it() {
    let app = spawn_site(10_000).await;
    let ada = app.create_user("ada").await;
    let mut tagged = Vec::new();
    for n in 1..=21 {
        let reply = app
            .post(
                "/api/posts",
                &json!({"title": format!("Walk {n}"), "content": "x", "tags": ["walks"]}),
                Some(&ada),
            )
            .await;
        tagged.push(reply.body["id"].as_i64().unwrap());
    }
    let tomorrow = (Utc::now() + Duration::days(1)).to_rfc3339();
    for body in [
        json!({"title": "Untagged", "content": "x"}),
        json!({"title": "Draft walk", "content": "x", "tags": ["walks"], "published": false}),
        json!({"title": "Later walk", "content": "x", "tags": ["walks"], "publish_at": tomorrow}),
    ] {
        app.post("/api/posts", &body, Some(&ada)).await;
    }

    let feed = feed(&app, "/tags/walks/feed.xml").await;
    assert_eq!(feed.id, format!("{SITE}/tags/walks/feed.xml"));
    let alternate = feed
        .links
        .iter()
        .find(|l| l.rel.as_deref() == Some("alternate"))
        .map(|l| l.href.clone());
    assert_eq!(alternate, Some(format!("{SITE}/tags/walks")));
    let expected: Vec<String> = tagged
        .iter()
        .rev()
        .take(20)
        .map(|id| format!("{SITE}/posts/{id}"))
        .collect();
    assert_eq!(
        entry_ids(&feed),
        expected,
        "the 20 newest tagged, published ones"
    );

    // An unused tag has no feed, as it has no page.
    let (status, _, _) = fetch(&app, "/tags/never-used/feed.xml", &[]).await;
    assert_eq!(status, Status::NotFound);

    let html = page(&app, "/tags/walks").await;
    assert!(html.contains(&format!(
        "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"Posts tagged walks\" href=\"{SITE}/tags/walks/feed.xml\">"
    )), "{html}");
    assert!(html.contains("id=\"tag-feed-link\""));
}
