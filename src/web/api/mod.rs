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
        match ApiPaths::of(request).and_then(|paths| paths.refusal(request)) {
            Some(allowed) => handler::Outcome::from(request, MethodNotAllowed(allowed)),
            None => handler::Outcome::forward(data, Status::NotFound),
        }
    }
}

/// The first query parameter named more than once, if any (names compared
/// as decoded: `page` and `pa%67e` are the same). A query of one parameter
/// (most of them) is not looked at twice.
fn repeated_parameter(request: &Request<'_>) -> Option<String> {
    let query = request.uri().query()?;
    let mut names = query.segments().map(|(name, _)| name);
    let first = names.next()?;
    let mut seen = std::collections::HashSet::from([first]);
    names.find(|name| !seen.insert(*name)).map(str::to_owned)
}

/// The order methods are listed in `Allow`.
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

/// The API's paths and the methods each has, read from the mounted routes
/// once (the routes are fixed when the app is built), so the gate in front
/// of every API request compares a few segments instead of walking and
/// parsing every route.
#[derive(Default)]
pub struct ApiPaths(std::sync::OnceLock<Vec<ApiPath>>);

/// One path template (`/api/posts/<id>`) and its methods.
struct ApiPath {
    /// A literal segment, or `None` for a `<param>`.
    segments: Vec<Option<String>>,
    /// Ends in `<rest..>`: any further segments match.
    rest: bool,
    /// In [`ORDER`], `HEAD` with `GET`.
    methods: Vec<Method>,
}

/// How closely a template matches a path: which of its segments matched
/// literally (bit 63 the first), then how many segments it has. Ordered as
/// the OpenAPI document reads paths: a literal segment wins over a
/// `<param>` (`/api/posts/trending` is its own path, not `/api/posts/<id>`).
type Closeness = (u64, usize);

impl ApiPath {
    fn closeness<'p>(&self, mut path: impl Iterator<Item = &'p str>) -> Option<Closeness> {
        let mut literal = 0u64;
        for (at, segment) in self.segments.iter().enumerate() {
            let given = path.next()?;
            if let Some(expected) = segment {
                if expected != given {
                    return None;
                }
                literal |= 1u64.checked_shl(63 - at.min(63) as u32).unwrap_or(0);
            }
        }
        (self.rest || path.next().is_none()).then_some((literal, self.segments.len()))
    }
}

impl ApiPaths {
    fn of<'r>(request: &'r Request<'_>) -> Option<&'r ApiPaths> {
        request.rocket().state::<ApiPaths>()
    }

    fn table(&self, rocket: &rocket::Rocket<rocket::Orbit>) -> &[ApiPath] {
        self.0.get_or_init(|| {
            let mut table: Vec<ApiPath> = Vec::new();
            let routes = rocket
                .routes()
                .filter(|route| route.name.as_deref() != Some(CONTRACT_GATE_ROUTE))
                .filter(|route| route.uri.base() == "/api");
            for route in routes {
                let mut segments = Vec::new();
                let mut rest = false;
                for part in route.uri.path().split('/').filter(|s| !s.is_empty()) {
                    if part.starts_with('<') && part.ends_with("..>") {
                        rest = true;
                        break;
                    }
                    let is_param = part.starts_with('<') && part.ends_with('>');
                    segments.push((!is_param).then(|| part.to_owned()));
                }
                match table
                    .iter_mut()
                    .find(|known| known.segments == segments && known.rest == rest)
                {
                    Some(known) => known.methods.push(route.method),
                    None => table.push(ApiPath {
                        segments,
                        rest,
                        methods: vec![route.method],
                    }),
                }
            }
            for path in &mut table {
                if path.methods.contains(&Method::Get) {
                    path.methods.push(Method::Head);
                }
                path.methods
                    .sort_by_key(|method| ORDER.iter().position(|m| m == method));
                path.methods.dedup();
            }
            table
        })
    }

    /// The templates closest to `request`'s path (`None` when no API path
    /// matches it): the methods of each, visited without collecting.
    fn closest<'t>(
        &'t self,
        request: &'t Request<'_>,
    ) -> Option<impl Iterator<Item = &'t [Method]> + 't> {
        let table = self.table(request.rocket());
        let closeness = move |path: &ApiPath| path.closeness(request.uri().path().segments());
        let best = table.iter().filter_map(closeness).max()?;
        Some(
            table
                .iter()
                .filter(move |path| closeness(path) == Some(best))
                .map(|path| path.methods.as_slice()),
        )
    }

    /// The methods `request`'s path has, when its method is not one of
    /// them (the 405's `Allow`); `None` when it is, or no API path matches.
    /// Nothing is allocated unless it refuses.
    fn refusal(&self, request: &Request<'_>) -> Option<Vec<Method>> {
        let method = request.method();
        if self
            .closest(request)?
            .any(|methods| methods.contains(&method))
        {
            return None;
        }
        self.allowed(request)
    }

    /// All the methods `request`'s path has, in [`ORDER`], or `None` when
    /// no API path matches it.
    fn allowed(&self, request: &Request<'_>) -> Option<Vec<Method>> {
        let mut methods: Vec<Method> = self.closest(request)?.flatten().copied().collect();
        methods.sort_by_key(|method| ORDER.iter().position(|m| m == method));
        methods.dedup();
        Some(methods)
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
        if let Some(allowed) = ApiPaths::of(request).and_then(|paths| paths.allowed(request)) {
            return Err(MethodNotAllowed(allowed));
        }
    }
    Ok(StatusError(status))
}
