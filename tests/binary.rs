//! The built `portfolio` binary, run as a user would: from an empty folder,
//! over a real socket.

mod support;

use std::process::Command;

use diesel::prelude::*;
use portfolio::db::schema::users;
use support::{command, free_port, repository, start, text, BINARY, SECRET_KEY};

#[test]
fn the_binary_starts_from_an_empty_folder_seeds_and_serves() {
    let root = tempfile::tempdir().unwrap();
    let folder = root.path().join("app");
    std::fs::create_dir(&folder).unwrap();
    let mut server_command = command(&folder, std::path::Path::new("volumes/portfolio.db"));
    // The default place for the database, not the tests' one.
    server_command
        .env_remove("ROCKET_DATABASES")
        .env_remove("PORTFOLIO_ADMIN_PASSWORD");
    let server = start(server_command, root.path().join("server.log"));

    let response = server.request("GET", "/api/posts", None, None);
    assert_eq!(response.status, 200, "{}", response.body);
    assert!(
        response.json()["total"].as_i64().unwrap() >= 6,
        "{}",
        response.body
    );
    assert!(
        response.head.to_lowercase().contains("x-request-id: "),
        "{}",
        response.head
    );

    // The database file is where the docs say, and readable by a second
    // connection while the server runs.
    let db_path = folder.join("volumes").join("portfolio.db");
    assert!(db_path.exists());
    let mut conn = portfolio::db::establish(db_path.to_str().unwrap()).unwrap();
    let count: i64 = users::table.count().get_result(&mut conn).unwrap();
    assert_eq!(count, 7);

    // Logging in works over the socket, and no secret reaches the log.
    let cookie = server.log_in("hop", portfolio::domain::seed::DEMO_PASSWORD);
    let me = server.request("GET", "/api/me", None, Some(&cookie));
    assert_eq!(me.status, 200, "{}", me.body);
    // So does an API token; it stays out of the log too.
    let made = server.request(
        "POST",
        "/api/tokens",
        Some(r#"{"name": "log check"}"#),
        Some(&cookie),
    );
    assert_eq!(made.status, 201, "{}", made.body);
    let token = made.json()["token"].as_str().unwrap().to_owned();
    let by_token = server.request_with_token("GET", "/api/me", &token);
    assert_eq!(by_token.status, 200, "{}", by_token.body);

    let log = server.log_text();
    assert!(log.contains("seeded the empty database"), "{log}");
    assert!(
        log.contains("created the account 'admin' with the password"),
        "the made-up admin password is shown once"
    );
    assert!(
        log.contains("GET /api/posts 200"),
        "one line per request: {log}"
    );
    assert!(log.contains("rid="), "{log}");
    assert!(
        !log.contains(portfolio::domain::seed::DEMO_PASSWORD),
        "a password was logged"
    );
    assert!(!log.contains("$argon2"), "a hash was logged");
    let session_value = cookie.split_once('=').unwrap().1;
    assert!(!log.contains(session_value), "a session cookie was logged");
    assert!(!log.contains(&token[4..]), "an API token was logged");
    assert!(
        !log.contains(support::SECRET_KEY),
        "the secret key was logged"
    );
}

/// The release binary carries its templates and styles: a copy of it alone
/// in an empty folder (no `Rocket.toml`, no `templates/` or `static/`) serves
/// the styled site and keeps its data in `./volumes/`. (A debug build reads
/// the repository's folders first; CI runs this in release.)
#[test]
fn a_copy_of_the_binary_alone_in_an_empty_folder_serves_the_styled_site() {
    let root = tempfile::tempdir().unwrap();
    let folder = root.path().join("app");
    std::fs::create_dir(&folder).unwrap();
    let binary = folder.join("portfolio");
    std::fs::copy(BINARY, &binary).unwrap();
    let mut server_command = Command::new(&binary);
    server_command.current_dir(&folder).arg("serve");
    // Nothing of the caller's configuration: no ROCKET_CONFIG either, so
    // the only Rocket.toml looked for is ./Rocket.toml, which is not there.
    for (key, _) in std::env::vars() {
        if key.starts_with("ROCKET_") || key.starts_with("PORTFOLIO_") {
            server_command.env_remove(key);
        }
    }
    server_command.env("ROCKET_SECRET_KEY", SECRET_KEY);
    let server = start(server_command, root.path().join("server.log"));

    let home = server.request("GET", "/", None, None);
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(
        home.head
            .to_lowercase()
            .contains("content-type: text/html; charset=utf-8"),
        "{}",
        home.head
    );
    assert!(home.body.starts_with("<!doctype html>"), "{}", home.body);
    assert!(
        home.body
            .contains(r#"<link rel="stylesheet" href="/static/style.css">"#),
        "{}",
        home.body
    );
    assert!(home.body.contains("Recent posts"), "seeded: {}", home.body);

    let css = server.request("GET", "/static/style.css", None, None);
    assert_eq!(css.status, 200, "{}", css.body);
    assert!(
        css.head.to_lowercase().contains("content-type: text/css"),
        "{}",
        css.head
    );
    let stylesheet = std::fs::read_to_string(repository().join("static/style.css")).unwrap();
    assert_eq!(css.body, stylesheet);

    assert!(folder.join("volumes").join("portfolio.db").exists());
    let mut entries: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, ["portfolio", "volumes"], "nothing else was needed");
    let log = server.log_text();
    assert!(!log.contains("is ignored"), "{log}");
}

#[test]
fn release_refuses_to_start_without_a_secret_key_and_says_how_to_make_one() {
    let folder = tempfile::tempdir().unwrap();
    let mut refused = command(folder.path(), std::path::Path::new("volumes/portfolio.db"));
    refused
        .env_remove("ROCKET_SECRET_KEY")
        .env("ROCKET_PROFILE", "release")
        .env("ROCKET_PORT", free_port().to_string());
    let output = refused.output().unwrap();
    assert!(!output.status.success());
    let text = text(&output);
    assert!(text.contains("openssl rand -base64 32"), "{text}");
    assert!(
        !folder.path().join("volumes").exists(),
        "nothing is written before refusing"
    );
}

#[test]
fn a_volume_folder_it_cannot_write_is_one_line_and_a_failure() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let root = tempfile::tempdir().unwrap();
    let volume = root.path().join("volumes");
    std::fs::create_dir(&volume).unwrap();
    let mut refused = command(root.path(), &volume.join("portfolio.db"));
    refused.env("ROCKET_PORT", free_port().to_string());
    if support::running_as_root() {
        // Root writes anywhere: run as nobody, on root's folder.
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        refused.uid(65534).gid(65534);
    } else {
        std::fs::set_permissions(&volume, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    let output = refused.output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line, nothing after it: {stderr}");
    assert!(lines[0].contains(&volume.display().to_string()), "{stderr}");
    assert!(lines[0].contains("sudo chown -R"), "{stderr}");
    assert!(
        output.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(std::fs::read_dir(&volume).unwrap().count(), 0);
}

#[test]
fn sqlite_is_compiled_in() {
    let Ok(output) = Command::new("ldd").arg(BINARY).output() else {
        eprintln!("no ldd here: skipped");
        return;
    };
    let libraries = String::from_utf8_lossy(&output.stdout);
    assert!(!libraries.contains("libsqlite3"), "{libraries}");
}
