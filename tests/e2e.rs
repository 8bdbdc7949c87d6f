//! End-to-end: the real `portfolio` binary in a real browser (headless
//! Chromium driven through chromedriver), doing what a person does.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs
//! them). Without them the test is skipped locally but fails under CI.
//! Screenshots of the main pages land in `target/e2e/`.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

#[path = "support/database.rs"]
mod test_database;
use test_database::TestDatabase;
#[path = "support/smtp.rs"]
mod smtp;
use smtp::SmtpServer;

const BINARY: &str = env!("CARGO_BIN_EXE_portfolio");
const ADMIN_PASSWORD: &str = "e2e admin password";
const PASSWORD: &str = "correct horse battery";

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn find_program(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    })
}

fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("e2e");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The server, run from the repository (its Rocket.toml, templates and
/// styles) with a fresh database (a SQLite file in a temp folder, or one on
/// the PostgreSQL server the suite runs against) and a random port.
fn start_server(data: &Path, smtp: &SmtpServer) -> (Process, TestDatabase, String) {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let database = TestDatabase::new(data);
    let child = Command::new(BINARY)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env(
            "ROCKET_DATABASES",
            format!("{{portfolio={{url=\"{}\"}}}}", database.url),
        )
        .env(
            "ROCKET_SECRET_KEY",
            "bALgVYaJ3kYV6EI1vccjroNCu0zIH5mnWkqO0OnaElY=",
        )
        .env("ROCKET_VOLUME_DIR", &database.volume)
        .env("ROCKET_LOG_LEVEL", "critical")
        .env("PORTFOLIO_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("ROCKET_SMTP_URL", smtp::smtp_url(smtp.port))
        .env("ROCKET_MAIL_FROM", "portfolio <noreply@portfolio.test>")
        .env("ROCKET_PUBLIC_URL", &base)
        .stdout(Stdio::null())
        .spawn()
        .expect("start portfolio");
    wait_for_port(port, "portfolio");
    (Process(child), database, base)
}

fn start_chromedriver(chromedriver: &Path) -> (Process, u16) {
    let port = free_port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    wait_for_port(port, "chromedriver");
    (Process(child), port)
}

/// A new browser session with a fresh profile: nobody logged in.
async fn browser(driver_port: u16, profile: &Path) -> Client {
    let chromium = find_program("chromium").unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-dev-shm-usage", "--window-size=1200,900",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("a WebDriver session")
}

struct Session<'a> {
    client: Client,
    base: &'a str,
    shots: &'a Path,
}

impl Session<'_> {
    async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    /// The text of an element, waiting for it while a page loads.
    async fn text(&self, css: &str) -> String {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    async fn body(&self) -> String {
        self.text("body").await
    }

    /// What a feed reader subscribed to the link `css` on this page finds:
    /// the page's own script-free link, fetched by the browser (same
    /// origin) and parsed by an independent feed parser.
    async fn subscribe(&self, css: &str) -> feed_rs::model::Feed {
        let link = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no {css}: {e}"));
        let href = link.prop("href").await.unwrap().expect("a feed link");
        let answer = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 fetch(arguments[0])
                   .then(r => r.text().then(t => done([r.status, r.headers.get('content-type'), t])))
                   .catch(e => done([0, String(e), '']));",
                vec![json!(href)],
            )
            .await
            .unwrap();
        assert_eq!(answer[0], json!(200), "{href}: {answer}");
        assert_eq!(answer[1], json!("application/atom+xml; charset=utf-8"));
        let xml = answer[2].as_str().unwrap();
        feed_rs::parser::parse(xml.as_bytes()).unwrap_or_else(|e| panic!("{href}: {e}\n{xml}"))
    }

    async fn fill(&self, name: &str, value: &str) {
        let field = self
            .client
            .find(Locator::Css(&format!("[name='{name}']")))
            .await
            .unwrap();
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    /// Clicks a submit button and waits for the next page: until the old
    /// document is gone and the new one has loaded.
    async fn submit(&self, css: &str) {
        let old_page = self.client.find(Locator::Css("html")).await.unwrap();
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while old_page.tag_name().await.is_ok() {
            assert!(
                Instant::now() < deadline,
                "clicking {css} did not load a page"
            );
            rocket::tokio::time::sleep(Duration::from_millis(25)).await;
        }
        loop {
            let state = self
                .client
                .execute("return document.readyState;", vec![])
                .await;
            if matches!(state, Ok(ref s) if s == "complete") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the page after {css} did not finish loading"
            );
            rocket::tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    async fn sign_up(&self, uid: &str, name: &str) {
        self.open("/signup").await;
        self.fill("uid", uid).await;
        self.fill("name", name).await;
        self.fill("password", PASSWORD).await;
        self.submit("main form[action='/signup'] button[type=submit]")
            .await;
        assert!(
            self.body().await.contains(&format!("Welcome, {name}!")),
            "sign-up of {uid}"
        );
    }

    async fn log_in(&self, uid: &str, password: &str) {
        self.open("/login").await;
        self.fill("uid", uid).await;
        self.fill("password", password).await;
        self.submit("main form[action='/login'] button[type=submit]")
            .await;
        assert!(self.body().await.contains("Welcome back"), "login of {uid}");
    }

    async fn log_out(&self) {
        self.submit("#logout").await;
        assert!(self.body().await.contains("You are logged out."));
    }
}

#[rocket::async_test]
async fn a_person_uses_the_site_in_a_real_browser() {
    let Some(chromedriver) = find_program("chromedriver") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromedriver is missing: apt-get install -y chromium chromium-driver"
        );
        eprintln!("skipped: no chromedriver (apt-get install -y chromium chromium-driver)");
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start();
    let (_server, _database, base) = start_server(data.path(), &smtp);
    let (_driver, driver_port) = start_chromedriver(&chromedriver);
    let shots = screenshots_dir();

    // Flow 1: sign up, log out, log in, write a post, see it on the home
    // page, edit it, delete it, log out.
    let ada = Session {
        client: browser(driver_port, &data.path().join("profile-ada")).await,
        base: &base,
        shots: &shots,
    };
    ada.open("/").await;
    ada.screenshot("home").await;
    ada.sign_up("ada", "Ada Lovelace").await;
    ada.log_out().await;
    ada.open("/login").await;
    ada.screenshot("login").await;
    ada.log_in("ada", PASSWORD).await;

    ada.open("/posts/new").await;
    ada.fill("title", "Notes on the engine").await;
    ada.fill("content", "The engine *weaves* algebraic patterns.")
        .await;
    ada.fill("tags", "engines, History").await;
    ada.screenshot("post-form").await;
    ada.submit("main form button[type=submit]").await;
    assert!(ada.body().await.contains("Post published."));
    assert_eq!(ada.text("#post-title").await, "Notes on the engine");
    ada.screenshot("post").await;
    let post_path = ada.path().await;
    assert!(
        post_path.ends_with("-notes-on-the-engine"),
        "a readable address: {post_path}"
    );

    // Its tags are links to the tag's page, which lists it.
    assert_eq!(ada.text("#post-tags").await, "#engines #history");
    ada.client
        .find(Locator::Css("#post-tags a[href='/tags/history']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(ada.text("#tag-heading").await, "#history");
    assert_eq!(ada.path().await, "/tags/history");
    assert!(ada.body().await.contains("Notes on the engine"));
    ada.screenshot("tag").await;

    // A reader subscribes to the tag's feed and to the site's, from the
    // links on the pages, and finds the new post in each.
    for (page, link) in [
        ("/tags/history", "#tag-feed-link"),
        ("/", "#site-feed-link"),
    ] {
        ada.open(page).await;
        let feed = ada.subscribe(link).await;
        let entry = feed
            .entries
            .iter()
            .find(|entry| {
                entry.title.as_ref().map(|t| t.content.as_str()) == Some("Notes on the engine")
            })
            .unwrap_or_else(|| panic!("the new post in the feed of {page}"));
        assert_eq!(entry.links[0].href, format!("{}{post_path}", base));
    }

    ada.open("/").await;
    assert!(
        ada.body().await.contains("Notes on the engine"),
        "the new post is on the home page"
    );

    ada.open(&format!("{post_path}/edit")).await;
    ada.fill("title", "Notes on the Analytical Engine").await;
    ada.submit("main form button[type=submit]").await;
    assert!(ada.body().await.contains("Post saved."));
    assert_eq!(
        ada.text("#post-title").await,
        "Notes on the Analytical Engine"
    );

    // A second person cannot edit Ada's post: a 403 page, the post unchanged.
    let grace = Session {
        client: browser(driver_port, &data.path().join("profile-grace")).await,
        base: &base,
        shots: &shots,
    };
    grace.sign_up("grace", "Grace Hopper").await;
    grace.open(&format!("{post_path}/edit")).await;
    assert!(grace.body().await.contains("403"), "{}", grace.body().await);
    grace.screenshot("forbidden").await;
    grace.open(&post_path).await;
    assert_eq!(
        grace.text("#post-title").await,
        "Notes on the Analytical Engine"
    );
    assert!(
        grace.client.find(Locator::Css("#edit-post")).await.is_err(),
        "no edit button for others"
    );

    // Grace comments on it; an empty comment comes back with a message.
    grace.submit("#add-comment").await;
    assert!(grace
        .body()
        .await
        .contains("Your comment must not be empty"));
    grace.fill("body", "A *loom* for numbers!").await;
    grace.submit("#add-comment").await;
    assert!(grace.body().await.contains("Comment added."));
    assert!(grace
        .text("#comments-heading")
        .await
        .starts_with("1 comment"));
    let said = grace.text(".comment .comment-body").await;
    assert_eq!(said, "A loom for numbers!");
    grace.screenshot("comments").await;
    // Ada sees it under her post.
    ada.open(&post_path).await;
    assert_eq!(
        ada.text(".comment .comment-body").await,
        "A loom for numbers!"
    );

    // Ada deletes her post and logs out.
    ada.open(&format!("{post_path}/delete")).await;
    ada.submit("#confirm-delete").await;
    assert!(ada.body().await.contains("Post deleted."));
    ada.open(&post_path).await;
    assert!(ada.body().await.contains("404"));
    ada.open("/").await;
    ada.log_out().await;
    ada.client.close().await.unwrap();

    // Flow: a form with a bad value shows the message and keeps the input.
    let newcomer = Session {
        client: browser(driver_port, &data.path().join("profile-new")).await,
        base: &base,
        shots: &shots,
    };
    newcomer.open("/signup").await;
    newcomer.fill("uid", "hedy").await;
    newcomer.fill("name", "Hedy Lamarr").await;
    newcomer.fill("email", "not an email").await;
    newcomer.fill("password", PASSWORD).await;
    newcomer
        .submit("main form[action='/signup'] button[type=submit]")
        .await;
    assert!(newcomer
        .body()
        .await
        .contains("Email (optional) must be an email address"));
    let kept = newcomer
        .client
        .find(Locator::Css("#name"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("Hedy Lamarr"), "the input is kept");
    newcomer.screenshot("signup-invalid").await;
    newcomer.client.close().await.unwrap();

    // Flow: an admin makes Grace an admin.
    let admin = Session {
        client: browser(driver_port, &data.path().join("profile-admin")).await,
        base: &base,
        shots: &shots,
    };
    admin.log_in("admin", ADMIN_PASSWORD).await;
    admin.open("/admin/users").await;
    let select = admin
        .client
        .find(Locator::Css("#user-grace select[name=role]"))
        .await
        .unwrap();
    select.select_by_value("admin").await.unwrap();
    admin.submit("#user-grace button[type=submit]").await;
    assert!(admin.body().await.contains("grace is now admin."));
    let role = admin
        .client
        .find(Locator::Css("#user-grace select[name=role]"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(role.as_deref(), Some("admin"));
    admin.screenshot("admin-users").await;
    admin.open("/users").await;
    admin.screenshot("users").await;
    admin.client.close().await.unwrap();

    // Flow: a post with a <script> title runs no script.
    grace.open("/posts/new").await;
    grace
        .fill(
            "title",
            "<script>window.hacked = true; alert('xss')</script>",
        )
        .await;
    grace.fill("content", "<img src=x onerror=\"window.hacked = true\"> and [a link](javascript:window.hacked=true)").await;
    grace.submit("main form button[type=submit]").await;
    assert!(
        grace.client.get_alert_text().await.is_err(),
        "no alert was opened"
    );
    let hacked = grace
        .client
        .execute("return window.hacked === true;", vec![])
        .await
        .unwrap();
    assert_eq!(hacked, json!(false), "no injected script ran");
    assert!(
        grace.text("#post-title").await.contains("<script>"),
        "the title shows as text"
    );
    grace.open("/").await;
    let hacked = grace
        .client
        .execute("return window.hacked === true;", vec![])
        .await
        .unwrap();
    assert_eq!(hacked, json!(false));
    grace
        .client
        .find(Locator::Css("#nav-me"))
        .await
        .unwrap()
        .follow()
        .await
        .unwrap();
    assert!(grace.text("h1").await.contains("Grace Hopper"));
    grace.screenshot("profile").await;

    // Flow 5: a post with an image from the form; the browser loads and
    // decodes it (so it is served whole, with an image type).
    let picture = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/domain/seed_assets/gears.png");
    grace.open("/posts/new").await;
    grace.fill("title", "Gears of the difference engine").await;
    grace.fill("content", "Brass gears, cut by hand.").await;
    grace
        .client
        .find(Locator::Css("input[type=file][name='image']"))
        .await
        .unwrap()
        .send_keys(picture.to_str().unwrap())
        .await
        .unwrap();
    grace.submit("main form button[type=submit]").await;
    assert!(grace.body().await.contains("Post published."));
    let decoded = grace
        .client
        .execute(
            "const img = document.querySelector('#post-image'); \
             return img !== null && img.complete && img.naturalWidth;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(decoded, json!(480), "the image was served and decoded");
    grace.screenshot("post-with-image").await;

    // Flow 6: search from the navigation; the words are highlighted.
    grace.open("/search").await;
    grace.fill("q", "brass gears").await;
    grace.submit("form.search-form button[type=submit]").await;
    assert!(grace.text("#search-summary").await.contains("1 post found"));
    assert_eq!(grace.text("mark").await.to_lowercase(), "brass");
    grace.screenshot("search").await;

    // Flow 7: an API token, shown once, then revoked.
    grace.open("/tokens").await;
    grace.fill("name", "backup script").await;
    grace.submit("#create-token").await;
    let secret = grace.text("#new-token-secret").await;
    assert!(secret.starts_with("pft_"), "{secret}");
    grace.screenshot("tokens").await;
    grace.open("/tokens").await;
    assert!(!grace.body().await.contains(&secret), "shown once");
    grace.submit("table.tokens button.danger").await;
    assert!(grace.body().await.contains("Token revoked"));
    grace.client.close().await.unwrap();

    // Flow 8: a forgotten password, set anew through the mailed link.
    let lin = Session {
        client: browser(driver_port, &data.path().join("profile-lin")).await,
        base: &base,
        shots: &shots,
    };
    lin.open("/signup").await;
    lin.fill("uid", "lin").await;
    lin.fill("name", "Lin Ada").await;
    lin.fill("email", "lin@example.org").await;
    lin.fill("password", PASSWORD).await;
    lin.submit("main form[action='/signup'] button[type=submit]")
        .await;
    assert!(lin.body().await.contains("Welcome, Lin Ada!"));
    lin.log_out().await;
    lin.open("/login").await;
    lin.client
        .find(Locator::Css("#forgot-password"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    lin.fill("who", "lin@example.org").await;
    lin.screenshot("forgot-password").await;
    lin.submit("main form[action='/password/forgot'] button[type=submit]")
        .await;
    assert!(
        lin.body().await.contains("on its way"),
        "{}",
        lin.body().await
    );
    let mail = &smtp.wait_for_mail("Set a new password", 1).await[0];
    let link = mail.link("/password/reset?token=");
    let path = link.strip_prefix(&base).expect("a link to this site");
    lin.open(path).await;
    lin.fill("password", "a brand new password").await;
    lin.screenshot("reset-password").await;
    lin.submit("main form[action='/password/reset'] button[type=submit]")
        .await;
    assert!(lin.body().await.contains("Your new password is set"));
    lin.log_in("lin", "a brand new password").await;

    // Flow 9: two-factor login, set up from the profile with the QR code's
    // key, then asked for at the next login.
    lin.client
        .find(Locator::Css("#nav-me"))
        .await
        .unwrap()
        .follow()
        .await
        .unwrap();
    lin.client
        .find(Locator::Css("#two-factor-link"))
        .await
        .unwrap()
        .follow()
        .await
        .unwrap();
    lin.submit("#two-factor-begin").await;
    let qr_shown = lin
        .client
        .execute(
            "return document.querySelector('figure.qr svg') !== null;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(qr_shown, json!(true), "the QR code is drawn");
    lin.screenshot("two-factor-setup").await;
    let secret = lin.text("#two-factor-secret").await;
    let code = |steps: i64| {
        let time = portfolio::domain::two_factor::clock() as i64 + steps * 30;
        portfolio::domain::two_factor::code_at(&secret, time as u64).unwrap()
    };
    lin.fill("code", &code(-1)).await;
    lin.submit("main form button[type=submit]").await;
    assert!(lin.body().await.contains("Recovery codes"));
    lin.screenshot("two-factor-on").await;
    lin.log_out().await;
    lin.open("/login").await;
    lin.fill("uid", "lin").await;
    lin.fill("password", "a brand new password").await;
    lin.submit("main form[action='/login'] button[type=submit]")
        .await;
    assert!(lin.body().await.contains("Log in: your code"));
    lin.fill("code", &code(0)).await;
    lin.submit("main form[action='/login/code'] button[type=submit]")
        .await;
    assert!(
        lin.body().await.contains("Welcome back"),
        "{}",
        lin.body().await
    );
    lin.client.close().await.unwrap();
}
