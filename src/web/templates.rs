//! Pages rendered with the site's Tera, straight from their typed contexts.
//!
//! rocket_dyn_templates loads the templates (and, in debug builds, reloads
//! them on change): its fairing, with the theme's and the embedded
//! templates added by [`crate::web::assets`]. Its `Template` responder,
//! though, first turns every context into a figment `Value`, which Tera
//! then turns into its own JSON value: every string on the page copied
//! twice, which showed in the post page's profile (docs/PERFORMANCE.md).
//! So the fairing's callback also keeps a copy of the Tera it loaded here,
//! and a page is rendered with it directly, its context converted once.

use std::sync::{Arc, PoisonError, RwLock};

use rocket::http::Status;
use rocket::request::Request;
use rocket::response::content::RawHtml;
use rocket::response::{self, Responder};
use rocket_dyn_templates::tera::{Context, Tera};
use serde::Serialize;

/// The loaded templates, shared by the template fairing (which replaces
/// them on every load) and the pages (which render with them).
#[derive(Clone, Default)]
pub struct Templates(Arc<RwLock<Arc<Tera>>>);

impl Templates {
    /// Keeps `tera` as loaded: at launch, and again on each reload.
    pub fn keep(&self, tera: &Tera) {
        let loaded = Arc::new(tera.clone());
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = loaded;
    }

    fn current(&self) -> Arc<Tera> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// `template` rendered with `context`; a failure is logged whole (the
    /// template's own mistakes, not the visitor's) and is a 500.
    pub fn render(&self, template: &str, context: &Context) -> Result<String, Status> {
        self.current().render(template, context).map_err(|error| {
            let mut message = format!("template {template}: {error}");
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            log::error!("{message}");
            Status::InternalServerError
        })
    }
}

/// A page to render: the template's name and its context, converted for
/// Tera when the page is made (so it borrows nothing from the handler);
/// rendered when Rocket sends it. Always `text/html`.
pub struct Html(Body);

enum Body {
    ToRender {
        template: &'static str,
        context: Result<Context, String>,
    },
    Rendered(String),
}

impl Html {
    pub fn new<C: Serialize>(template: &'static str, context: &C) -> Self {
        Html(Body::ToRender {
            template,
            context: Context::from_serialize(context).map_err(|error| error.to_string()),
        })
    }

    /// A page rendered already (see [`Html::render`]).
    pub fn rendered(html: String) -> Self {
        Html(Body::Rendered(html))
    }

    /// The page as HTML, rendered now with `templates`.
    pub fn render(self, templates: &Templates) -> Result<String, Status> {
        match self.0 {
            Body::Rendered(html) => Ok(html),
            Body::ToRender { template, context } => {
                let context = context.map_err(|error| {
                    log::error!("template {template}: the context: {error}");
                    Status::InternalServerError
                })?;
                templates.render(template, &context)
            }
        }
    }
}

impl<'r> Responder<'r, 'static> for Html {
    fn respond_to(self, request: &'r Request<'_>) -> response::Result<'static> {
        let templates = request.rocket().state::<Templates>().ok_or_else(|| {
            log::error!("no templates are managed");
            Status::InternalServerError
        })?;
        RawHtml(self.render(templates)?).respond_to(request)
    }
}
