//! The JSON API, mounted at `/api`.
//!
//! Every error, including Rocket's own (unknown route, body over the limit),
//! answers `{"error": {"status": N, "message": "...", "fields": {...}}}`.
//!
//! The contract (`openapi.json`) holds both ways: a method a path does not
//! have is a 405 with `Allow` (not Rocket's 404), and a query that names a
//! parameter twice is a 422 on every route, before any handler runs.

mod bodies;
pub mod comments;
pub mod email_verifications;
pub mod invites;
pub mod openapi;
pub mod password_resets;
pub mod posts;
pub mod session;
pub mod tokens;
pub mod two_factor;
pub mod users;

use rocket::data::{self, Data, FromData};
use rocket::http::{Header, Method, Status};
use rocket::response::{self, Responder};
use rocket::route::{self as handler, Handler};
use rocket::serde::json::Json;
use rocket::{Catcher, Request, Route};

use crate::domain::error::AppError;
use crate::web::error::StatusError;

pub use bodies::{CommentJson, Message, Paginated, PostBody, TrendingBody, TrendingPage, UserBody};

/// A JSON request body. It must say it is JSON (`Content-Type:
/// application/json`, else 415): Rocket's `Json` would parse any body, and a
/// cross-site HTML form can post `text/plain` that happens to be JSON (a
/// login CSRF against `/api/session`, for instance), but it cannot set this
/// type without the browser asking first (CORS), which we never allow.
pub struct ApiJson<T>(pub T);

#[rocket::async_trait]
impl<'r, T: serde::Deserialize<'r>> FromData<'r> for ApiJson<T> {
    type Error = AppError;

    async fn from_data(request: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        if !request.content_type().is_some_and(|kind| kind.is_json()) {
            let error = AppError::UnsupportedMediaType;
            return data::Outcome::Error((error.status(), error));
        }
        // Read as a JSON value first: every body is an object, and serde
        // would also fill a struct from an array (`[null, null]`).
        match Json::<serde_json::Value>::from_data(request, data).await {
            data::Outcome::Success(json) => {
                let value = json.into_inner();
                if !value.is_object() {
                    let error = AppError::Validation {
                        message: "the body must be a JSON object".into(),
                        fields: Default::default(),
                    };
                    return data::Outcome::Error((error.status(), error));
                }
                match T::deserialize(value) {
                    Ok(body) => data::Outcome::Success(ApiJson(body)),
                    Err(error) => {
                        let error = AppError::from(rocket::serde::json::Error::Parse("", error));
                        data::Outcome::Error((error.status(), error))
                    }
                }
            }
            data::Outcome::Forward(forward) => data::Outcome::Forward(forward),
            data::Outcome::Error((_, error)) => {
                let error = AppError::from(error);
                data::Outcome::Error((error.status(), error))
            }
        }
    }
}

/// A JSON request body, or the reason it could not be read, which the
/// handler turns into our error shape with `?`.
pub type JsonBody<T> = Result<ApiJson<T>, AppError>;

/// Unwraps a [`JsonBody`].
pub fn body<T>(body: JsonBody<T>) -> Result<T, AppError> {
    Ok(body?.0)
}

pub fn routes() -> Vec<Route> {
    [
        users::routes(),
        posts::routes(),
        comments::routes(),
        session::routes(),
        password_resets::routes(),
        email_verifications::routes(),
        invites::routes(),
        two_factor::routes(),
        tokens::routes(),
        openapi::routes(),
        contract_gate(),
    ]
    .concat()
}

/// The name of the routes [`ContractGate`] answers on.
pub const CONTRACT_GATE_ROUTE: &str = "api_contract_gate";

/// The methods an API path may be asked with (all but `CONNECT`; `HEAD`
/// goes through `GET`, as Rocket routes it).
const METHODS: [Method; 7] = [
    Method::Get,
    Method::Put,
    Method::Post,
    Method::Delete,
    Method::Options,
    Method::Patch,
    Method::Trace,
];

/// One route per method over all of `/api`, tried before any other
/// ([`ContractGate`]).
fn contract_gate() -> Vec<Route> {
    METHODS
        .into_iter()
        .map(|method| {
            let mut route = Route::ranked(-100, method, "/<_..>", ContractGate);
            route.name = Some(CONTRACT_GATE_ROUTE.into());
            route
        })
        .collect()
}

/// What every `/api` request must get past before a handler or a guard
/// runs, so that the answer is the same on every route:
/// - a query that names a parameter twice (`?page=1&page=2`, `?tag=a&tag=b`)
///   is a 422 naming it (Rocket would keep one of the values silently);
/// - a method the path does not have is a 405 with `Allow` (Rocket answers
///   404, or runs a route whose `<id>` happens to match, as `PATCH
///   /api/posts/trending` would `PATCH /api/posts/<id>`).
///
/// Anything else goes on (forwarded) to the routes that serve it.
#[derive(Clone)]
struct ContractGate;

#[rocket::async_trait]
impl Handler for ContractGate {
    async fn handle<'r>(&self, request: &'r Request<'_>, data: Data<'r>) -> handler::Outcome<'r> {
        if let Some(name) = repeated_parameter(request) {
            let error = AppError::invalid_field(&name, "is given more than once; give it once");
            return handler::Outcome::from(request, error);
        }
        match allowed_methods(request) {
            Some(allowed) if !allowed.contains(&request.method()) => {
                handler::Outcome::from(request, MethodNotAllowed(allowed))
            }
            _ => handler::Outcome::forward(data, Status::NotFound),
        }
    }
}

/// The first query parameter named more than once, if any (names compared
/// as decoded: `page` and `pa%67e` are the same).
fn repeated_parameter(request: &Request<'_>) -> Option<String> {
    let query = request.uri().query()?;
    let mut seen = std::collections::HashSet::new();
    query
        .segments()
        .map(|(name, _)| name)
        .find(|name| !seen.insert(*name))
        .map(str::to_owned)
}

/// The methods of the API path `request`'s path is (`HEAD` with `GET`, as
/// Rocket answers it), or `None` when no route's path matches it. As in the
/// OpenAPI document, a literal segment wins over a `<param>`:
/// `/api/posts/trending` is its own path, not `/api/posts/<id>`.
fn allowed_methods(request: &Request<'_>) -> Option<Vec<Method>> {
    let path: Vec<&str> = request.uri().path().segments().collect();
    let matching: Vec<(Vec<bool>, Method)> = request
        .rocket()
        .routes()
        .filter(|route| route.name.as_deref() != Some(CONTRACT_GATE_ROUTE))
        .filter(|route| route.uri.base() == "/api")
        .filter_map(|route| Some((literal_matches(route.uri.path(), &path)?, route.method)))
        .collect();
    let best = matching.iter().map(|(literals, _)| literals).max()?;
    let mut methods: Vec<Method> = matching
        .iter()
        .filter(|(literals, _)| literals == best)
        .map(|(_, method)| *method)
        .collect();
    if methods.contains(&Method::Get) {
        methods.push(Method::Head);
    }
    const ORDER: [Method; 8] = [
        Method::Get,
        Method::Head,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Options,
        Method::Trace,
    ];
    methods.sort_by_key(|method| ORDER.iter().position(|m| m == method));
    methods.dedup();
    Some(methods)
}

/// Whether a route's path template (`/api/posts/<id>`) matches the decoded
/// segments of a request's path (literal segments equal, `<name>` any one
/// segment, `<name..>` all the rest), and if so which segments matched
/// literally.
fn literal_matches(template: &str, path: &[&str]) -> Option<Vec<bool>> {
    let mut template = template.split('/').filter(|s| !s.is_empty());
    let mut path = path.iter();
    let mut literals = Vec::new();
    loop {
        match (template.next(), path.next()) {
            (None, None) => return Some(literals),
            (Some(t), _) if t.starts_with('<') && t.ends_with("..>") => return Some(literals),
            (Some(t), Some(_)) if t.starts_with('<') && t.ends_with('>') => literals.push(false),
            (Some(t), Some(p)) if t == *p => literals.push(true),
            _ => return None,
        }
    }
}

/// `405 Method Not Allowed` with the methods the path has in `Allow`.
struct MethodNotAllowed(Vec<Method>);

impl<'r> Responder<'r, 'static> for MethodNotAllowed {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let allow: Vec<&str> = self.0.iter().map(|method| method.as_str()).collect();
        let mut response = crate::web::error::json_error(
            Status::MethodNotAllowed,
            format!(
                "this path does not take that method; it takes {}",
                allow.join(", ")
            ),
            None,
        );
        response.set_header(Header::new("Allow", allow.join(", ")));
        Ok(response)
    }
}

pub fn catchers() -> Vec<Catcher> {
    rocket::catchers![api_error]
}

/// Errors Rocket raises before or instead of a handler, as JSON.
#[rocket::catch(default)]
fn api_error(status: Status, request: &Request<'_>) -> Result<StatusError, MethodNotAllowed> {
    if status == Status::Unauthorized {
        // Cookies set before a guard failed are dropped: remove a stale
        // session cookie here, where it sticks, so the client's next request
        // goes through as anonymous.
        crate::web::session_cookie::remove(request.cookies());
    }
    // A request Rocket could not read (an unknown method such as `QUERY`
    // among the reasons) comes here as a 400 without a route: on an API
    // path, it is a method the path does not have.
    if status == Status::BadRequest && request.route().is_none() {
        if let Some(allowed) = allowed_methods(request) {
            return Err(MethodNotAllowed(allowed));
        }
    }
    Ok(StatusError(status))
}
