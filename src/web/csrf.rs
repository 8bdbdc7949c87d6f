//! Protection against cross-site request forgery for the HTML forms.
//!
//! Each browser gets a random token in a private (encrypted, HttpOnly)
//! cookie; every state-changing form carries the same token in a hidden
//! field, and the two must match. Another site can make a browser send the
//! cookie, but cannot read it (nor this site's pages) to fill in the field.
//! The token is replaced at login and logout, so it is tied to one session.

use rocket::http::{Cookie, CookieJar, SameSite};

use crate::domain::error::AppError;

pub const COOKIE_NAME: &str = "portfolio_csrf";
/// The hidden form field every state-changing form carries.
pub const FIELD_NAME: &str = "csrf_token";

/// This browser's token, made and stored on first use (`secure`: HTTPS only,
/// like the session cookie).
pub fn token(cookies: &CookieJar<'_>, secure: bool) -> String {
    if let Some(cookie) = cookies.get_private(COOKIE_NAME) {
        return cookie.value().to_owned();
    }
    let token = crate::domain::secret::random_token();
    cookies.add_private(
        Cookie::build((COOKIE_NAME, token.clone()))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(secure),
    );
    token
}

/// Starts a fresh token (at login and logout).
pub fn rotate(cookies: &CookieJar<'_>) {
    cookies.remove_private(Cookie::build(COOKIE_NAME).path("/"));
}

/// Why a form was refused for its token.
pub const REFUSED: &str =
    "the form has expired or did not come from this site; reload the page and try again";

/// Checks a submitted token against the cookie's, in constant time.
pub fn verify(cookies: &CookieJar<'_>, submitted: &str) -> Result<(), AppError> {
    let expected = cookies.get_private(COOKIE_NAME);
    match expected {
        Some(expected) if constant_time_eq(expected.value().as_bytes(), submitted.as_bytes()) => {
            Ok(())
        }
        _ => Err(AppError::Forbidden(REFUSED)),
    }
}

/// Compares without stopping at the first difference, so the time taken does
/// not tell an attacker how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn equal_tokens_match_and_others_do_not() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
