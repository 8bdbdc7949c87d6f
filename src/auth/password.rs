//! Password hashing with argon2id (the crate's defaults: m = 19456 KiB,
//! t = 2, p = 1) into PHC strings, which carry their own salt and
//! parameters.
//!
//! Hashing is slow on purpose (tens of milliseconds of CPU), so the async
//! functions here run it on Rocket's blocking thread pool: a burst of logins
//! must not stall the async workers that serve every other request.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rocket::tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};
use crate::models::fields::Password;

/// Longer inputs are refused before hashing: no valid password is this long.
const MAX_LOGIN_CHARS: usize = 1024;

/// Hashes on the calling thread. For start-up and the CLI; request handlers
/// use [`hash`].
pub fn hash_blocking(password: &Password) -> AppResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::Internal(format!("argon2 could not hash: {e}").into()))
}

/// Checks `candidate` against a PHC string; with no stored hash (unknown
/// user) it checks against a dummy one, so both take the same time and a
/// response's timing does not tell which user names exist.
pub fn verify_blocking(candidate: &str, stored: Option<&str>) -> bool {
    let stored_or_dummy = stored.unwrap_or_else(|| dummy_hash());
    let Ok(parsed) = PasswordHash::new(stored_or_dummy) else {
        return false;
    };
    let too_long = candidate.chars().count() > MAX_LOGIN_CHARS;
    let matches = Argon2::default()
        .verify_password(candidate.as_bytes(), &parsed)
        .is_ok();
    matches && stored.is_some() && !too_long
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"no such user: dummy password", &salt)
            .map(|hash| hash.to_string())
            .unwrap_or_default()
    })
}

/// How many hashes may run at once. Process-wide, because the CPU and
/// memory it protects are: set once at start-up (the first call wins;
/// later apps in the same process, as in tests, share it).
static CONCURRENT_HASHES: OnceLock<Semaphore> = OnceLock::new();

/// Bounds concurrent hashing to `limit` (default: the number of cores), so
/// a login storm queues logins instead of starving every other request.
pub fn limit_concurrency(limit: Option<usize>) {
    let _ = CONCURRENT_HASHES.set(Semaphore::new(limit.unwrap_or_else(cores).max(1)));
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

fn permits() -> &'static Semaphore {
    CONCURRENT_HASHES.get_or_init(|| Semaphore::new(cores()))
}

/// [`hash_blocking`], off the async workers, when a permit is free.
pub async fn hash(password: Password) -> AppResult<String> {
    let _permit = permits().acquire().await.map_err(AppError::internal)?;
    rocket::tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(AppError::internal)?
}

/// [`verify_blocking`], off the async workers, when a permit is free.
pub async fn verify(candidate: String, stored: Option<String>) -> AppResult<bool> {
    let _permit = permits().acquire().await.map_err(AppError::internal)?;
    rocket::tokio::task::spawn_blocking(move || verify_blocking(&candidate, stored.as_deref()))
        .await
        .map_err(AppError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn password(raw: &str) -> Password {
        Password::parse(raw, "someone", "Some One").unwrap()
    }

    #[test]
    fn hashes_are_argon2id_phc_strings_with_the_default_cost() {
        let hash = hash_blocking(&password("correct horse")).unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
    }

    #[test]
    fn the_right_password_verifies_and_a_wrong_one_does_not() {
        let hash = hash_blocking(&password("correct horse")).unwrap();
        assert!(verify_blocking("correct horse", Some(&hash)));
        assert!(!verify_blocking("Correct horse", Some(&hash)));
        assert!(!verify_blocking("", Some(&hash)));
    }

    #[test]
    fn an_unknown_user_never_verifies() {
        assert!(!verify_blocking("no such user: dummy password", None));
    }

    #[test]
    fn two_hashes_of_one_password_differ_by_their_salt() {
        let a = hash_blocking(&password("correct horse")).unwrap();
        let b = hash_blocking(&password("correct horse")).unwrap();
        assert_ne!(a, b);
    }
}
