//! The site's templates and static files, compiled into the binary so that
//! it runs from any folder with nothing beside it (`build.rs` lists them).
//!
//! Each file is looked up in up to three places, the first that has it wins:
//!
//! 1. the `theme_dir` setting's `templates/` and `static/` folders, so a site
//!    can be restyled without rebuilding (only the files that differ need to
//!    be there);
//! 2. in debug builds, the repository's own `templates/` and `static/`
//!    (found through `CARGO_MANIFEST_DIR`, whatever the working folder), so
//!    edits show without a rebuild and templates reload live, as Rocket
//!    developers expect;
//! 3. the copies embedded at build time.
//!
//! Templates: rocket_dyn_templates only loads templates from a folder (its
//! `template_dir`), which must exist; ours are given to Tera in its
//! customisation callback instead (see [`Sources::templates`]).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::error::Error;
use std::path::{Path, PathBuf};

use rocket::figment::Figment;
use rocket::fs::NamedFile;
use rocket::http::{ContentType, Header};
use rocket::response::{self, Responder};
use rocket::{get, routes, Request, Route, State};
use rocket_dyn_templates::tera::Tera;
use rocket_dyn_templates::Template;

use crate::config::Settings;
use crate::web::templates::Templates;

/// The generated lists: `TEMPLATES` (name below `templates/`, text) and
/// `STATIC` (name below `static/`, bytes), sorted by name.
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

/// Static files may change with a new release while keeping their names
/// (they are not content-hashed), so caches keep them only an hour.
pub const STATIC_CACHE_CONTROL: &str = "public, max-age=3600";

/// The folders consulted before the embedded files, in order.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    /// The `theme_dir` setting, when it names a folder.
    theme: Option<PathBuf>,
    /// The repository, in debug builds, when it is still where it was built.
    repository: Option<PathBuf>,
}

impl Sources {
    /// The sources `settings` ask for. A `theme_dir` that is not a folder is
    /// reported and ignored: a typo should cost the theme, not the site.
    pub fn new(figment: &Figment, settings: &Settings) -> Self {
        for retired in ["static_dir", "template_dir"] {
            if figment.find_value(retired).is_ok() {
                log::warn!(
                    "the `{retired}` setting is ignored: templates and static files are \
                     built into the binary; set `theme_dir` to override some of them"
                );
            }
        }
        let theme = settings.theme_dir.as_ref().map(|dir| dir.relative());
        let theme = theme.filter(|dir| {
            let found = dir.is_dir();
            if !found {
                log::warn!(
                    "theme_dir {} is not a folder: using the built-in templates and styles",
                    dir.display()
                );
            }
            found
        });
        let repository = Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")))
            .filter(|_| cfg!(debug_assertions))
            .filter(|dir| dir.join("templates").is_dir());
        Sources { theme, repository }
    }

    /// What to give rocket_dyn_templates as `template_dir`, which it requires
    /// to exist and loads every `*.tera` file below.
    ///
    /// In debug builds, the repository's `templates/`: a complete set, so the
    /// loader succeeds, and Rocket watches it and reloads on changes (which
    /// also re-reads the theme through [`Sources::templates`]).
    ///
    /// Otherwise the running executable: a path that always exists and
    /// holds no `.tera` file (walking a file yields only that file), so the
    /// loader finds nothing and [`Sources::templates`] supplies everything.
    /// The theme folder itself cannot be given: a theme holding only
    /// `home.html.tera` would fail to load there, its `{% extends "base" %}`
    /// naming a template that is not on disk.
    pub fn template_dir(&self) -> PathBuf {
        match &self.repository {
            Some(repository) => repository.join("templates"),
            None => std::env::current_exe().unwrap_or_else(|e| {
                log::warn!("cannot locate the executable ({e}): using /dev/null as template_dir");
                PathBuf::from("/dev/null")
            }),
        }
    }

    /// The template fairing: after rocket_dyn_templates has loaded
    /// `template_dir` (see [`Sources::template_dir`]), adds the theme's
    /// templates (replacing any loaded with the same name) and the embedded
    /// ones not loaded yet, all in one batch so that inheritance between
    /// them resolves. Runs again on every live reload in debug builds.
    /// Each time, `keep` is given the loaded set, which the pages render
    /// with ([`crate::web::templates`]).
    pub fn templates(&self, keep: Templates) -> impl rocket::fairing::Fairing {
        let theme = self.theme.as_ref().map(|dir| dir.join("templates"));
        Template::try_custom(move |engines| {
            add_templates(&mut engines.tera, theme.as_deref())?;
            keep.keep(&engines.tera);
            Ok(())
        })
    }

    /// The static file `path` (already free of `..` and hidden names: Rocket
    /// refuses those segments in a `PathBuf`), from the first source that
    /// has it.
    async fn static_file(&self, path: &Path) -> Option<StaticFile> {
        let content_type = path
            .extension()
            .and_then(|extension| extension.to_str())
            .and_then(ContentType::from_extension)
            .unwrap_or(ContentType::Binary);
        let folders = [&self.theme, &self.repository];
        for folder in folders.into_iter().flatten() {
            let file = folder.join("static").join(path);
            if file.is_file() {
                if let Ok(file) = NamedFile::open(&file).await {
                    return Some(StaticFile {
                        body: Body::Disk(file),
                        content_type,
                    });
                }
            }
        }
        let name = slash_separated(path)?;
        let bytes = embedded_static(&name)?;
        Some(StaticFile {
            body: Body::Embedded(bytes),
            content_type,
        })
    }
}

/// The embedded static file called `name` (relative to `static/`).
pub fn embedded_static(name: &str) -> Option<&'static [u8]> {
    embedded::STATIC
        .binary_search_by(|(file, _)| (*file).cmp(name))
        .ok()
        .map(|index| embedded::STATIC[index].1)
}

/// The names (rocket_dyn_templates style) of the embedded templates.
pub fn embedded_template_names() -> impl Iterator<Item = String> {
    embedded::TEMPLATES
        .iter()
        .filter_map(|(file, _)| template_name(file))
}

/// Adds the theme's and the embedded templates to `tera` (see
/// [`Sources::templates`]).
fn add_templates(tera: &mut Tera, theme: Option<&Path>) -> Result<(), Box<dyn Error>> {
    // Tera escapes by the template's file name (`.html`), but templates
    // added from text are known by their rocket_dyn_templates name, which
    // has no extension (`posts/show`). Every template here renders HTML, so
    // every one is escaped, wherever it came from.
    tera.autoescape_on(vec![""]);
    let loaded: HashSet<String> = tera.get_template_names().map(str::to_owned).collect();
    let mut added: BTreeMap<String, Cow<'static, str>> = embedded::TEMPLATES
        .iter()
        .filter_map(|(file, text)| Some((template_name(file)?, Cow::Borrowed(*text))))
        .filter(|(name, _)| !loaded.contains(name))
        .collect();
    if let Some(theme) = theme {
        let mut files = Vec::new();
        collect_files(theme, theme, &mut files);
        for (relative, path) in files {
            let Some(name) = template_name(&relative) else {
                continue;
            };
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read the theme template {}: {e}", path.display()))?;
            added.insert(name, Cow::Owned(text));
        }
    }
    tera.add_raw_templates(added)?;
    Ok(())
}

/// The name rocket_dyn_templates gives the template file `file` (relative
/// to the template folder, `/`-separated): without `.tera` and without the
/// data type before it (`posts/show.html.tera` is `posts/show`), exactly as
/// its own loader does, so `Template::render("posts/show", …)` finds either.
/// `None` for a file that is not a Tera template.
pub fn template_name(file: &str) -> Option<String> {
    fn remove_extension(path: &Path) -> PathBuf {
        match (path.parent(), path.file_stem()) {
            (Some(parent), Some(stem)) => parent.join(stem),
            (None, Some(stem)) => PathBuf::from(stem),
            (_, None) => path.to_path_buf(),
        }
    }
    let path = Path::new(file);
    if path.extension()? != "tera" {
        return None;
    }
    let name = remove_extension(&remove_extension(path));
    slash_separated(&name)
}

/// `path`'s components joined by `/`; `None` if one is not UTF-8.
fn slash_separated(path: &Path) -> Option<String> {
    let parts: Option<Vec<&str>> = path.iter().map(|part| part.to_str()).collect();
    Some(parts?.join("/"))
}

/// Every file below `folder`, as (`/`-separated path relative to `base`,
/// path); nothing if the folder cannot be read.
fn collect_files(base: &Path, folder: &Path, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(base, &path, files);
        } else if let Some(relative) = path.strip_prefix(base).ok().and_then(slash_separated) {
            files.push((relative, path));
        }
    }
}

pub fn routes() -> Vec<Route> {
    routes![static_file]
}

/// `GET /static/<path..>`: a static file with its type from its extension
/// (`application/octet-stream` if unknown); 404 if no source has it.
/// Rocket's `X-Content-Type-Options: nosniff` comes with every response.
#[get("/<path..>")]
async fn static_file(sources: &State<Sources>, path: PathBuf) -> Option<StaticFile> {
    sources.static_file(&path).await
}

/// A static file's content, with its type and caching headers.
pub struct StaticFile {
    body: Body,
    content_type: ContentType,
}

enum Body {
    Embedded(&'static [u8]),
    Disk(NamedFile),
}

impl<'r> Responder<'r, 'static> for StaticFile {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let mut response = match self.body {
            Body::Embedded(bytes) => bytes.respond_to(request)?,
            Body::Disk(file) => file.respond_to(request)?,
        };
        response.set_header(self.content_type);
        response.set_header(Header::new("Cache-Control", STATIC_CACHE_CONTROL));
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_names_match_rocket_dyn_templates() {
        assert_eq!(template_name("base.html.tera").as_deref(), Some("base"));
        assert_eq!(
            template_name("posts/show.html.tera").as_deref(),
            Some("posts/show")
        );
        assert_eq!(template_name("index.tera").as_deref(), Some("index"));
        assert_eq!(
            template_name("dir/index.template.html.tera").as_deref(),
            Some("dir/index.template")
        );
        assert_eq!(template_name("style.css"), None);
        assert_eq!(template_name("notes.txt"), None);
    }

    #[test]
    fn every_template_and_the_stylesheet_are_embedded() {
        let names: Vec<String> = embedded_template_names().collect();
        for expected in ["base", "macros", "home", "error", "posts/show", "api_docs"] {
            assert!(names.iter().any(|n| n == expected), "{expected}: {names:?}");
        }
        let css = embedded_static("style.css").expect("style.css is embedded");
        assert_eq!(
            css,
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/static/style.css")).unwrap()
        );
        assert_eq!(embedded_static("nothing.css"), None);
    }
}
