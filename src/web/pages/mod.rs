//! The HTML site. Handlers here are thin: they read a form, call the same
//! model functions and account use cases as the JSON API, and render a Tera
//! template (post/redirect/get with a flash message on success; the form
//! again, with the input kept and a message by each field, on failure).

pub mod admin;
pub mod auth;
pub mod comments;
pub mod contexts;
pub mod csrf_form;
pub mod email;
pub mod home;
pub mod password;
pub mod posts;
mod presenters;
pub mod search;
pub mod tags;
pub mod tokens;
pub mod two_factor;
pub mod users;

pub use presenters::error_page;

pub use crate::web::paging::Paging;

use rocket::http::uri::Origin;
use rocket::http::{CookieJar, Header, Status};
use rocket::request::{FlashMessage, FromRequest, Outcome, Request};
use rocket::response::{Flash, Redirect, Responder};
use rocket::{Catcher, Route};

use contexts::{FlashContext, FormPage, Head, LayoutContext, Me, Page, PageContext, Pager};

use crate::config::Settings;
use crate::domain::error::AppError;
use crate::domain::page::Window;
use crate::domain::User;
use crate::domain::Viewer;
use crate::web::csrf;
use crate::web::site::Site;
use crate::web::templates::Templates;

pub fn routes() -> Vec<Route> {
    [
        home::routes(),
        auth::routes(),
        password::routes(),
        email::routes(),
        two_factor::routes(),
        users::routes(),
        posts::routes(),
        comments::routes(),
        search::routes(),
        tags::routes(),
        tokens::routes(),
        admin::routes(),
    ]
    .concat()
}

/// A rendered page, always `text/html` (see [`crate::web::templates`]).
pub use crate::web::templates::Html;

pub fn catchers() -> Vec<Catcher> {
    rocket::catchers![log_in_first, any_error]
}

/// What every page shows around its content: who is logged in, the form
/// token, and the flash message from the previous request.
pub struct Layout<'r> {
    pub viewer: Option<User>,
    /// The form token's cookie is HTTPS-only.
    secure_cookies: bool,
    flash: Option<(String, String)>,
    pub cookies: &'r CookieJar<'r>,
    /// For the absolute links in `<head>`.
    site: Option<&'r Site>,
    /// To render a page before answering (one kept for readers).
    templates: Option<&'r Templates>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Layout<'r> {
    type Error = std::convert::Infallible;

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        // A stale session cookie (already removed by the guard) shows the
        // page as to anyone; pages that need a login ask for `CurrentUser`.
        let viewer = match request.guard::<Viewer>().await {
            Outcome::Success(Viewer(current)) => current.map(|c| c.user),
            _ => None,
        };
        let flash = match request.guard::<Option<FlashMessage<'_>>>().await {
            Outcome::Success(Some(flash)) => {
                Some((flash.kind().to_owned(), flash.message().to_owned()))
            }
            _ => None,
        };
        let cookies = request.cookies();
        let secure_cookies = request
            .rocket()
            .state::<Settings>()
            .is_some_and(|settings| settings.secure_cookies);
        Outcome::Success(Layout {
            viewer,
            secure_cookies,
            flash,
            cookies,
            site: request.rocket().state::<Site>(),
            templates: request.rocket().state::<Templates>(),
        })
    }
}

impl Layout<'_> {
    /// Whether the page is the same for everyone who sees it like this: no
    /// one logged in, no message from the last page. (Pages for such
    /// readers carry no form token: [`PageContext::FORMS_FOR_ANYONE`].)
    pub fn for_any_reader(&self) -> bool {
        self.viewer.is_none() && self.flash.is_none()
    }

    /// [`Layout::render`], as HTML now.
    pub fn render_now<T: PageContext>(&self, page: T) -> Result<String, AppError> {
        let templates = self
            .templates
            .ok_or_else(|| AppError::Internal("no templates are managed".into()))?;
        self.render(page)
            .render(templates)
            .map_err(|_| AppError::Internal("the page could not be rendered".into()))
    }

    /// Renders `page`'s template with its fields plus the layout's own:
    /// `me`, `csrf_token` and `flash`.
    ///
    /// The form token is made (and its cookie set) only when the page can
    /// show a form: to anyone logged in (the layout's log-out form), or on
    /// a page with forms for anyone ([`PageContext::FORMS_FOR_ANYONE`]).
    /// A reader who only reads gets no cookie, and the page costs no
    /// encryption.
    pub fn render<T: PageContext>(&self, page: T) -> Html {
        let csrf_token = if self.viewer.is_some() || T::FORMS_FOR_ANYONE {
            csrf::token(self.cookies, self.secure_cookies)
        } else {
            String::new()
        };
        let me = self.viewer.as_ref().map(|user| Me {
            id: user.id,
            uid: &user.uid,
            name: &user.name,
            is_admin: user.is_admin(),
        });
        let flash = self
            .flash
            .as_ref()
            .map(|(kind, message)| FlashContext { kind, message });
        let head = self.site.map_or_else(Head::default, |site| page.head(site));
        let layout = LayoutContext {
            me,
            csrf_token: &csrf_token,
            flash,
            head,
        };
        render(layout, page)
    }
}

/// Renders `page`'s template with `layout`'s fields beside its own.
pub fn render<T: PageContext>(layout: LayoutContext<'_>, page: T) -> Html {
    Html::new(T::TEMPLATE, &Page { layout, page })
}

/// What a page handler answers.
#[derive(Responder)]
pub enum PageResponse {
    Page(Html),
    /// Post/redirect/get, with a message for the next page.
    Done(Flash<Redirect>),
    /// The form again, with the input and the problems: 422.
    Invalid((Status, Html)),
    /// This page lives at another address now: 301.
    Moved(Moved),
}

/// A 301 that browsers keep an hour, not for ever: a post's address
/// follows its title, and a title changed back must not meet a redirect
/// cached from the other way (a loop).
#[derive(Responder)]
pub struct Moved {
    to: Redirect,
    cache: Header<'static>,
}

impl Moved {
    pub fn to(path: String) -> Self {
        Moved {
            to: Redirect::moved(path),
            cache: Header::new("Cache-Control", "max-age=3600"),
        }
    }
}

pub type PageResult = Result<PageResponse, AppError>;

/// A successful form: go to `to` and say `message` there.
pub fn done(to: impl Into<String>, message: impl Into<String>) -> PageResult {
    Ok(PageResponse::Done(Flash::success(
        Redirect::to(to.into()),
        message.into(),
    )))
}

/// A refused action: go to `to` and say why there.
pub fn refused(to: impl Into<String>, message: impl Into<String>) -> PageResult {
    Ok(PageResponse::Done(Flash::error(
        Redirect::to(to.into()),
        message.into(),
    )))
}

/// Turns a validation or conflict error into the form re-rendered with the
/// input kept and a message by each field (422). Any other error passes.
pub fn form_error<T: FormPage>(layout: &Layout<'_>, error: AppError, mut page: T) -> PageResult {
    match error {
        AppError::Validation { message, fields } | AppError::Conflict { message, fields } => {
            let form = page.form();
            form.errors = fields;
            form.error = message;
            Ok(PageResponse::Invalid((
                Status::UnprocessableEntity,
                layout.render(page),
            )))
        }
        other => Err(other),
    }
}

/// Only a path on this site may be a redirect target after login: anything
/// else (another host, `//host`, a scheme, or text that is not a valid
/// path such as `/a b`) goes home instead.
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.chars().any(|c| c.is_control() || c == '\\')
                // Also a valid URI, or the redirect itself would fail (500).
                && Origin::parse(path).is_ok() =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// Links to the neighbouring slices of a listing, keeping the request's
/// other query parameters; the page number when it was asked for by one.
pub fn pager<T>(uri: &Origin<'_>, window: &Window<T>, total: i64) -> Pager {
    let others: Vec<String> = uri
        .query()
        .map(|query| {
            query
                .raw_segments()
                .filter(|segment| {
                    let name = segment.as_str().split('=').next().unwrap_or("");
                    !matches!(name, "page" | "after" | "before")
                })
                .map(|segment| segment.as_str().to_owned())
                .collect()
        })
        .unwrap_or_default();
    let (prev, next) = crate::web::paging::neighbours(uri.path().as_str(), window, &others);
    let pages = ((total.max(0) as u64).div_ceil(u64::from(window.per_page))).max(1);
    Pager {
        page: window.number,
        pages,
        total,
        prev,
        next,
    }
}

/// Pages that need a login send anonymous visitors to the login form, and
/// back here afterwards.
#[rocket::catch(401)]
fn log_in_first(request: &Request<'_>) -> Flash<Redirect> {
    // Cookies set before a guard failed are dropped: remove a stale session
    // cookie here, where it sticks.
    crate::web::session_cookie::remove(request.cookies());
    let here = request.uri().to_string();
    let target = format!(
        "/login?next={}",
        rocket::http::RawStr::new(&here).percent_encode()
    );
    Flash::warning(Redirect::to(target), "Please log in first.")
}

/// Every other error, as a page in the site's layout.
#[rocket::catch(default)]
fn any_error(status: Status, request: &Request<'_>) -> (Status, Html) {
    let message = csrf_form::refused_for_token(request).then_some(csrf::REFUSED);
    (status, presenters::error_page(status, message))
}
