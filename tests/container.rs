//! The container, checked without a Docker engine (none runs here): the
//! compose file's and Dockerfile's structure, and a smoke test that runs the
//! binary the way the image does: from a folder holding only what the
//! Dockerfile copies, with the image's environment, as a non-root user
//! (when the tests run as root), the database on a separate volume folder.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml::Value;
use support::{repository, running_as_root, start, text, ADMIN_PASSWORD, BINARY, SECRET_KEY};

fn read(name: &str) -> String {
    std::fs::read_to_string(repository().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The Dockerfile's instructions (continuation lines joined), from the
/// last `FROM`: the runtime stage.
fn runtime_stage() -> Vec<String> {
    let joined = read("Dockerfile").replace("\\\n", " ");
    let instructions: Vec<String> = joined
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect();
    let last_from = instructions
        .iter()
        .rposition(|i| i.starts_with("FROM "))
        .unwrap();
    instructions[last_from..].to_vec()
}

/// Splits an instruction's arguments like a shell: spaces separate,
/// quotes group and are removed.
fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (None, c) if c.is_whitespace() => {
                if started || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (None, c) => word.push(c),
        }
    }
    if started || !word.is_empty() {
        words.push(word);
    }
    words
}

/// The runtime stage's `ENV` settings.
fn image_environment() -> Vec<(String, String)> {
    runtime_stage()
        .iter()
        .filter_map(|i| i.strip_prefix("ENV "))
        .flat_map(words)
        .filter_map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        })
        .collect()
}

#[test]
fn the_compose_file_runs_the_web_service_as_documented() {
    let compose: Value = serde_yaml::from_str(&read("docker-compose.yml")).unwrap();
    let web = &compose["services"]["web"];
    assert_eq!(web["build"], Value::from("."));
    let ports: Vec<&str> = web["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(ports, ["8086:8086"]);
    let volumes: Vec<&str> = web["volumes"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(volumes, ["./volumes:/volumes"]);
    let env_files: Vec<&str> = web["env_file"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(env_files, [".env"]);
    assert_eq!(web["restart"], Value::from("unless-stopped"));
    assert!(
        web.get("user").is_none(),
        "the image picks its user (the volume's owner); a fixed `user` cannot fix a root-owned ./volumes"
    );
    let test: Vec<&str> = web["healthcheck"]["test"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(test, ["CMD", "portfolio", "healthcheck"]);

    // The "postgres" profile: a database and two instances sharing it and
    // one uploads volume.
    let services = &compose["services"];
    for name in ["postgres", "web-postgres"] {
        assert_eq!(
            services[name]["profiles"][0],
            Value::from("postgres"),
            "{name} only runs with --profile postgres"
        );
    }
    let replicated = &services["web-postgres"];
    assert_eq!(replicated["deploy"]["replicas"], Value::from(2));
    let url = replicated["environment"]["ROCKET_DATABASES"]
        .as_str()
        .unwrap();
    assert!(
        url.contains("url=\"postgres://portfolio:${POSTGRES_PASSWORD}@postgres:5432/portfolio\""),
        "{url}"
    );
    assert_eq!(replicated["volumes"][0], Value::from("uploads:/volumes"));
    assert_eq!(
        replicated["depends_on"]["postgres"]["condition"],
        Value::from("service_healthy")
    );
    assert_eq!(replicated["healthcheck"], web["healthcheck"]);

    let example = read(".env.example");
    assert!(example.contains("ROCKET_SECRET_KEY="));
    assert!(example.contains("POSTGRES_PASSWORD="));
    assert!(
        read(".gitignore").lines().any(|line| line.trim() == ".env"),
        ".env stays out of git"
    );
}

#[test]
fn the_dockerfile_builds_in_two_stages_and_runs_unprivileged() {
    let dockerfile = read("Dockerfile");
    let froms: Vec<&str> = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert_eq!(froms.len(), 2, "multi-stage: {froms:?}");
    assert!(
        froms[0].starts_with("FROM rust:"),
        "an official Rust image builds"
    );
    assert!(
        froms[1].contains("debian:") && froms[1].contains("slim"),
        "a small runtime"
    );
    assert!(
        dockerfile.contains("COPY Cargo.toml Cargo.lock"),
        "a dependency-caching layer"
    );

    let stage = runtime_stage();
    // It starts as root only to become the volume's owner (tested below).
    assert!(
        !stage.iter().any(|i| i.starts_with("USER ")),
        "no USER: the binary switches to the volume's owner itself"
    );
    // An ordinary user and group, both 1000: no `useradd` warning about a
    // system uid above SYS_UID_MAX, and no gid that differs from the uid.
    let users = stage
        .iter()
        .find(|i| i.contains("useradd"))
        .expect("a user is made");
    assert!(users.contains("groupadd --gid 1000 portfolio"), "{users}");
    assert!(users.contains("useradd --uid 1000 --gid 1000"), "{users}");
    assert!(!users.contains("--system"), "{users}");
    assert!(stage.iter().any(|i| i == "VOLUME /volumes"));
    assert!(stage.iter().any(|i| i == "EXPOSE 8086"));
    assert!(stage
        .iter()
        .any(|i| i.starts_with("HEALTHCHECK") && i.contains(r#"["portfolio", "healthcheck"]"#)));
    let env = image_environment();
    let get = |key: &str| env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    assert_eq!(get("ROCKET_ADDRESS"), Some("0.0.0.0"));
    assert_eq!(get("ROCKET_PORT"), Some("8086"));
    assert!(get("ROCKET_DATABASES")
        .unwrap()
        .contains("/volumes/portfolio.db"));
    assert_eq!(get("ROCKET_VOLUME_DIR"), Some("/volumes"));
    assert_eq!(get("PORTFOLIO_RUN_AS_VOLUME_OWNER"), Some("1"));

    // Templates and styles are compiled in: the build stage needs them, the
    // runtime stage only the binary.
    let build_stage = {
        let joined = dockerfile.replace("\\\n", " ");
        let runtime_from = joined.rfind("\nFROM ").unwrap();
        joined[..runtime_from].to_owned()
    };
    for folder in ["templates", "static", "migrations", "build.rs"] {
        assert!(
            build_stage
                .lines()
                .any(|line| line.starts_with("COPY ")
                    && words(line).get(1) == Some(&folder.to_owned())),
            "the build stage copies {folder}"
        );
    }
    for copy in stage.iter().filter(|i| i.starts_with("COPY ")) {
        assert!(
            !copy.contains("templates") && !copy.contains("static"),
            "the runtime stage needs no {copy}"
        );
    }

    let ignored = read(".dockerignore");
    for path in ["target", "volumes"] {
        assert!(
            ignored.lines().any(|line| line.trim() == path),
            "{path} is not kept out of the image"
        );
    }
}

/// Lays out what the runtime stage copies, under `root`: the binary at its
/// image path, and `WORKDIR`'s files. Returns the working folder.
fn build_image_folder(root: &Path) -> PathBuf {
    let stage = runtime_stage();
    let workdir = stage
        .iter()
        .rev()
        .find_map(|i| i.strip_prefix("WORKDIR "))
        .unwrap();
    let app = root.join(workdir.trim_start_matches('/'));
    std::fs::create_dir_all(&app).unwrap();
    for copy in stage.iter().filter_map(|i| i.strip_prefix("COPY ")) {
        let parts = words(copy);
        let (from_build, rest) = match parts.first() {
            Some(first) if first.starts_with("--from=") => (true, &parts[1..]),
            _ => (false, &parts[..]),
        };
        let (source, target) = (&rest[0], &rest[1]);
        let destination = if target.starts_with('/') {
            root.join(target.trim_start_matches('/'))
        } else {
            app.join(target)
        };
        std::fs::create_dir_all(destination.parent().unwrap()).unwrap();
        if from_build {
            assert!(
                source.ends_with("/portfolio"),
                "the build stage gives only the binary: {source}"
            );
            std::fs::copy(BINARY, &destination).unwrap();
        } else {
            copy_tree(&repository().join(source), &destination);
        }
    }
    // Nothing else: the folder holds only what the image holds.
    let mut entries: Vec<String> = std::fs::read_dir(&app)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        ["Rocket.toml"],
        "templates and styles are built in"
    );
    app
}

fn copy_tree(source: &Path, destination: &Path) {
    if source.is_dir() {
        std::fs::create_dir_all(destination).unwrap();
        for entry in std::fs::read_dir(source).unwrap() {
            let entry = entry.unwrap();
            copy_tree(&entry.path(), &destination.join(entry.file_name()));
        }
    } else {
        std::fs::copy(source, destination).unwrap();
    }
}

fn make_readable(path: &Path) {
    let mode = if path.is_dir() {
        0o755
    } else {
        0o644 | (std::fs::metadata(path).unwrap().permissions().mode() & 0o111)
    };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            make_readable(&entry.unwrap().path());
        }
    }
}

/// The image's command line: its environment (the database moved to our
/// volume folder, a free port), a secret key as compose passes it, started
/// as the image starts it (as root when the tests run as root: the binary
/// itself becomes the volume's owner).
fn image_command(
    app: &Path,
    volume: &Path,
    binary: &Path,
    args: &[&str],
    port: Option<u16>,
) -> Command {
    let mut command = Command::new(binary);
    command.current_dir(app).args(args).env_clear();
    command.env("PATH", "/usr/bin:/bin");
    for (key, value) in image_environment() {
        command.env(key, value.replace("/volumes", volume.to_str().unwrap()));
    }
    command
        .env("ROCKET_SECRET_KEY", SECRET_KEY)
        .env("PORTFOLIO_ADMIN_PASSWORD", ADMIN_PASSWORD);
    if let Some(port) = port {
        command.env("ROCKET_PORT", port.to_string());
    }
    command
}

fn chown_tree(path: &Path, id: u32) {
    std::os::unix::fs::lchown(path, Some(id), Some(id)).unwrap();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            chown_tree(&entry.unwrap().path(), id);
        }
    }
}

/// The user id a running process has (its real, effective, saved and
/// file-system ids must all be the same: nothing kept of root).
fn process_uids(pid: u32) -> Vec<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    line.split_whitespace()
        .skip(1)
        .map(|n| n.parse().unwrap())
        .collect()
}

#[test]
fn the_image_layout_serves_survives_sigterm_and_keeps_its_data() {
    let root = tempfile::tempdir().unwrap();
    let image = root.path().join("image");
    let volume = root.path().join("volumes");
    std::fs::create_dir_all(&volume).unwrap();
    let app = build_image_folder(&image);
    let binary = image.join("usr/local/bin/portfolio");
    make_readable(root.path());
    // As on a server where the checkout (and so ./volumes) was made as root.
    let as_root = running_as_root();

    // `start` gives each run a free port; everything else is the image's.
    let launch = |log: &str| {
        start(
            image_command(&app, &volume, &binary, &["serve"], None),
            root.path().join(log),
        )
    };
    let mut server = launch("first.log");
    if as_root {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(
            process_uids(server.child.id()),
            [1000; 4],
            "the server gave up root"
        );
        let folder = std::fs::metadata(&volume).unwrap();
        assert_eq!((folder.uid(), folder.gid()), (1000, 1000));
        assert!(
            server.log_text().contains("belonged to root"),
            "it says what it did: {}",
            server.log_text()
        );
    }

    // Docker's HEALTHCHECK, exactly as the image runs it.
    let health = image_command(&app, &volume, &binary, &["healthcheck"], Some(server.port))
        .output()
        .unwrap();
    assert!(health.status.success(), "{}", text(&health));
    assert_eq!(
        server.request("GET", "/health", None, None).json()["status"],
        "ok"
    );
    assert!(
        volume.join("portfolio.db").exists(),
        "the database is on the volume"
    );
    assert!(
        !app.join("volumes").exists(),
        "nothing is written into the image folder"
    );
    // Styled pages, from the binary alone.
    let home = server.request("GET", "/", None, None);
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains(r#"href="/static/style.css""#));
    let css = server.request("GET", "/static/style.css", None, None);
    assert_eq!(css.status, 200, "{}", css.body);
    assert!(css.head.to_lowercase().contains("content-type: text/css"));
    assert!(!css.body.is_empty());

    let cookie = server.log_in("admin", ADMIN_PASSWORD);
    let body =
        serde_json::json!({"title": "Survives a restart", "content": "Written before SIGTERM."})
            .to_string();
    let created = server.request("POST", "/api/posts", Some(&body), Some(&cookie));
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();

    let status = server.terminate();
    assert!(
        status.success(),
        "SIGTERM exits cleanly: {status:?}\n{}",
        server.log_text()
    );
    let wal = volume.join("portfolio.db-wal");
    let wal_size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(wal_size, 0, "the WAL was checkpointed on shutdown");

    // A checkout made by an ordinary user: the folder is theirs (uid 1234
    // here), and the server runs as them, leaving ownership alone.
    if as_root {
        chown_tree(&volume, 1234);
    }
    let server = launch("second.log");
    let post = server.request("GET", &format!("/api/posts/{id}"), None, None);
    assert_eq!(post.status, 200, "{}", post.body);
    assert_eq!(post.json()["title"], "Survives a restart");
    if as_root {
        use std::os::unix::fs::MetadataExt;
        let owner = std::fs::metadata(volume.join("portfolio.db"))
            .unwrap()
            .uid();
        assert_eq!(owner, 1234, "not taken over");
        assert_eq!(process_uids(server.child.id()), [1234; 4]);
    }
}

#[test]
fn shell_like_words_follow_quotes() {
    assert_eq!(
        words(r#"A=1 B='{x="y"}' C="two words""#),
        ["A=1", r#"B={x="y"}"#, "C=two words"]
    );
}
