//! Password hashing with argon2id (the crate's defaults: m = 19456 KiB,
//! t = 2, p = 1) into PHC strings, which carry their own salt and
//! parameters.
//!
//! Hashing is slow on purpose (tens of milliseconds of CPU), so the async
//! functions here run it on a few dedicated low-priority threads: a burst
//! of logins must not stall the async workers that serve every other
//! request.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::domain::error::{AppError, AppResult};
use crate::domain::fields::Password;

/// Longer inputs are refused before hashing: no valid password is this long.
const MAX_LOGIN_CHARS: usize = 1024;

/// Hashes on the calling thread. For start-up and the CLI; request handlers
/// use [`hash`].
pub fn hash_blocking(password: &Password) -> AppResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::Internal(format!("argon2 could not hash: {e}").into()));
    give_back_freed_memory();
    hash
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
    give_back_freed_memory();
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

/// The threads that hash, shared by the whole process (the CPU and memory
/// they use are): set up once at start-up; the first call wins, and later
/// apps in the same process, as in tests, share them.
static HASHERS: OnceLock<Hashers> = OnceLock::new();

type Job = Box<dyn FnOnce() + Send>;

/// A few threads of low CPU priority that do all the password hashing.
///
/// Their number bounds how many hashes run at once (each takes ~19 MiB and
/// tens of milliseconds of a core); more wait in the queue. Their priority
/// (nice 19, the lowest, on Linux) makes the OS run request handlers first when the CPU
/// is busy, so a login storm slows logins, not page views.
struct Hashers {
    queue: std::sync::mpsc::Sender<Job>,
    threads: usize,
}

impl Hashers {
    fn start(threads: usize) -> Hashers {
        let (queue, jobs) = std::sync::mpsc::channel::<Job>();
        let jobs = std::sync::Arc::new(std::sync::Mutex::new(jobs));
        for n in 0..threads.max(1) {
            let jobs = std::sync::Arc::clone(&jobs);
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    lower_this_threads_priority();
                    loop {
                        let job = match jobs.lock() {
                            Ok(receiver) => receiver.recv(),
                            Err(poisoned) => poisoned.into_inner().recv(),
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return, // the process is ending
                        }
                    }
                });
            if let Err(error) = spawned {
                log::error!("cannot start a password hashing thread: {error}");
            }
        }
        Hashers {
            queue,
            threads: threads.max(1),
        }
    }

    /// Runs `work` on a hashing thread and waits for its answer.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        let (answer, answered) = rocket::tokio::sync::oneshot::channel();
        // Hashes waiting or being computed: a login storm shows here first.
        let queued = metrics::gauge!("portfolio_password_hash_queue");
        queued.increment(1.0);
        let sent = self
            .queue
            .send(Box::new(move || {
                let _ = answer.send(work());
            }))
            .map_err(|_| AppError::Internal("the password hashing threads are gone".into()));
        let result = match sent {
            Ok(()) => answered
                .await
                .map_err(|_| AppError::Internal("a password hashing thread failed".into())),
            Err(error) => Err(error),
        };
        queued.decrement(1.0);
        result
    }
}

/// A hash works in ~19 MiB that it frees at the end. mimalloc (the
/// binary's allocator) hands freed pages back to the system only later, and
/// only when the freeing thread allocates again: an idle hashing thread, or
/// a seeding thread that ends, would keep them resident for good (the first
/// launch stayed at 115 MB). Returning them here, once a hash,
/// keeps the process small without making every other thread return its
/// pages at once (which cost the request threads TLB shootdowns on every
/// free). Without mimalloc as the allocator (the tests) it does nothing.
fn give_back_freed_memory() {
    // SAFETY: mi_collect may be called at any time from any thread; it
    // only touches this thread's heap.
    unsafe { libmimalloc_sys::mi_collect(true) };
}

#[cfg(target_os = "linux")]
fn lower_this_threads_priority() {
    // On Linux, PRIO_PROCESS with id 0 sets the calling thread's nice value.
    // SAFETY: setpriority has no memory-safety preconditions.
    let _ = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 19) };
}

#[cfg(not(target_os = "linux"))]
fn lower_this_threads_priority() {}

/// Starts `threads` hashing threads (default: the number of cores).
pub fn limit_concurrency(threads: Option<usize>) {
    HASHERS.get_or_init(|| Hashers::start(threads.unwrap_or_else(cores)));
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

fn hashers() -> &'static Hashers {
    HASHERS.get_or_init(|| Hashers::start(cores()))
}

/// [`hash_blocking`], on a hashing thread.
/// How many hashes may run at once (`hash_concurrency`): the bound on
/// hashing's memory, which work outside requests (seeding) keeps too.
pub fn concurrency() -> usize {
    hashers().threads
}

pub async fn hash(password: Password) -> AppResult<String> {
    hashers().run(move || hash_blocking(&password)).await?
}

/// [`verify_blocking`], on a hashing thread.
pub async fn verify(candidate: String, stored: Option<String>) -> AppResult<bool> {
    hashers()
        .run(move || verify_blocking(&candidate, stored.as_deref()))
        .await
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
