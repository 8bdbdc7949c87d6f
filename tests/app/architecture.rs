//! The layers' arrows point one way, down (docs/ARCHITECTURE.md):
//!
//! ```text
//! lib.rs, main.rs  >  cli  >  web  >  domain  >  mail  >  db  >  config
//! ```
//!
//! A module may use its own layer and those below it, never one above. This
//! test reads every file under `src/` and fails on a `crate::<module>` path
//! that points up, and on HTTP machinery (Rocket's requests, responses,
//! forms, templates) used below the web layer. There are no exceptions.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layers, lowest first. `lib.rs` and `main.rs` assemble everything and
/// sit above them all.
const LAYERS: [&str; 6] = ["config", "db", "mail", "domain", "web", "cli"];

/// Paths that mean HTTP: none of them may appear below the web layer.
const HTTP: &[&str] = &[
    "rocket::http",
    "rocket::request",
    "rocket::response",
    "rocket::form",
    "rocket::fs",
    "rocket::serde::json",
    "rocket_dyn_templates",
    "FromRequest",
    "Responder",
    "#[get(",
    "#[post(",
];

fn layer_of_file(path: &Path) -> Option<usize> {
    let relative = path.strip_prefix("src").ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    LAYERS.iter().position(|layer| *layer == name)
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            into.push(path);
        }
    }
}

/// The code of a file without its comments (doc links may point anywhere).
fn code_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
}

/// The top-level modules a line names as `crate::<module>`.
fn crate_paths(line: &str) -> Vec<&str> {
    line.match_indices("crate::")
        .map(|(at, _)| {
            let rest = &line[at + "crate::".len()..];
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

/// Every (file, layer above it) arrow and every HTTP use below the web layer.
fn violations(root: &Path) -> (BTreeSet<(String, String)>, Vec<String>) {
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut upward = BTreeSet::new();
    let mut http = Vec::new();
    let web = LAYERS.iter().position(|layer| *layer == "web").unwrap();
    for path in files {
        let relative = path.strip_prefix(root).unwrap().to_path_buf();
        let Some(own) = layer_of_file(&relative) else {
            continue; // lib.rs, main.rs: the top
        };
        let name = relative.display().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        for line in code_lines(&text) {
            for module in crate_paths(line) {
                if let Some(target) = LAYERS.iter().position(|layer| *layer == module) {
                    if target > own {
                        upward.insert((name.clone(), module.to_owned()));
                    }
                }
            }
            if own < web {
                for marker in HTTP.iter().filter(|marker| line.contains(*marker)) {
                    http.push(format!("{name}: {marker} in `{}`", line.trim()));
                }
            }
        }
    }
    (upward, http)
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (upward, _) = violations(root);
    assert!(
        upward.is_empty(),
        "these modules reach up to a layer above their own: {upward:?}"
    );
}

#[test]
fn nothing_below_the_web_layer_speaks_http() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (_, http) = violations(root);
    assert!(
        http.is_empty(),
        "HTTP below the web layer:\n{}",
        http.join("\n")
    );
}

/// The checker itself: it sees an upward path, and ignores comments.
#[test]
fn the_checker_finds_an_upward_path_and_ignores_comments() {
    assert_eq!(
        crate_paths("use crate::web::error::StatusError; x(crate::db::y)"),
        ["web", "db"]
    );
    let code: Vec<_> = code_lines("/// see crate::web\nuse crate::db;").collect();
    assert_eq!(code, ["use crate::db;"]);
    assert_eq!(layer_of_file(Path::new("src/domain/post.rs")), Some(3));
    assert_eq!(layer_of_file(Path::new("src/cli.rs")), Some(5));
    assert_eq!(layer_of_file(Path::new("src/lib.rs")), None);
}
