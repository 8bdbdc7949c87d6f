//! Who is asking: password hashing, login sessions and the request guards
//! that put the current user into a handler's signature.

pub mod api_token;
pub mod csrf;
pub mod guard;
pub mod password;
pub mod session;
pub mod throttle;

pub use guard::{Credential, CurrentUser, Viewer};
