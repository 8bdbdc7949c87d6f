//! Login throttling: after too many failed logins for one account, or from
//! one client address, within a window, further attempts are refused with
//! 429 and `Retry-After` until the oldest failure leaves the window. A
//! success clears the account's count. Every failure expires, so past
//! mistakes lock nobody out for good; an attacker who keeps failing keeps an
//! account throttled only while they keep at it, and runs out of attempts on
//! their own address first.
//!
//! Attempts being checked count too: while failures plus attempts in flight
//! fill a key's allowance, a new attempt *waits* for one of them to finish
//! (it may become the failure that closes the door) instead of being
//! checked. So a burst of parallel guesses cannot slip past the count while
//! the slow hashes run, and a burst of correct logins is slowed, never
//! refused: only failures that happened earn a 429.
//!
//! Counts live in memory, per process: a restart forgets them, and several
//! instances count separately.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rocket::tokio::sync::Notify;

/// How long an attempt waits for others on the same keys to finish before
/// it is told to come back later.
const PATIENCE: Duration = Duration::from_secs(5);

pub struct LoginThrottle {
    state: Mutex<State>,
    /// Woken each time an attempt finishes.
    finished: Notify,
    limit: usize,
    window: Duration,
}

#[derive(Default)]
struct State {
    failures: HashMap<String, VecDeque<Instant>>,
    in_flight: HashMap<String, usize>,
}

/// What a new attempt may do now.
enum Verdict {
    Go,
    Wait,
    /// Refused: this many failures already; try again after the duration.
    Refuse(Duration),
}

/// The keys an attempt counts against.
pub fn keys(uid: &str, client: Option<IpAddr>) -> Vec<String> {
    let mut keys = vec![format!("account:{}", uid.trim().to_lowercase())];
    if let Some(ip) = client {
        keys.push(format!("ip:{ip}"));
    }
    keys
}

/// An attempt being checked. It counts as a failure unless
/// [`Attempt::succeeded`] is called, also when it is dropped half-way (a
/// client that hangs up mid-check does not get a free guess).
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    keys: Vec<String>,
    outcome: Outcome,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Failed,
    Succeeded,
    /// The server could not decide (database busy): counts as neither.
    Undecided,
}

impl Attempt<'_> {
    /// The password was right: clear the account's failures.
    pub fn succeeded(mut self) {
        self.outcome = Outcome::Succeeded;
    }

    /// The check could not be made (our fault, not the client's): release
    /// the attempt without counting it, so an overloaded server does not
    /// lock people out.
    pub fn undecided(mut self) {
        self.outcome = Outcome::Undecided;
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if self.outcome == Outcome::Failed {
            metrics::counter!("portfolio_login_failures_total").increment(1);
        }
        self.throttle.finish(&self.keys, self.outcome);
    }
}

impl LoginThrottle {
    pub fn new(limit: usize, window: Duration) -> Self {
        LoginThrottle {
            state: Mutex::new(State::default()),
            finished: Notify::new(),
            limit: limit.max(1),
            window,
        }
    }

    fn with_state<T>(&self, work: impl FnOnce(&mut State) -> T) -> T {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Forget what has left the window, so memory stays bounded.
        let window = self.window;
        state.failures.retain(|_, times| {
            while times.front().is_some_and(|t| t.elapsed() >= window) {
                times.pop_front();
            }
            !times.is_empty()
        });
        work(&mut state)
    }

    /// Starts an attempt on `keys`, waiting while attempts in flight fill
    /// the allowance; `Err(wait)` when the failures alone fill it (or the
    /// wait ran out).
    pub async fn begin(&self, keys: Vec<String>) -> Result<Attempt<'_>, Duration> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            // Registered before looking, so a finish in between is not missed.
            let finished = self.finished.notified();
            rocket::tokio::pin!(finished);
            finished.as_mut().enable();
            match self.try_begin(&keys) {
                Verdict::Go => {
                    return Ok(Attempt {
                        throttle: self,
                        keys,
                        outcome: Outcome::Failed,
                    })
                }
                Verdict::Refuse(wait) => return Err(wait),
                Verdict::Wait => {}
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if rocket::tokio::time::timeout(left, finished).await.is_err() {
                return Err(Duration::from_secs(1));
            }
        }
    }

    fn try_begin(&self, keys: &[String]) -> Verdict {
        self.with_state(|state| {
            let failed = |key: &String| state.failures.get(key).map_or(0, VecDeque::len);
            let refusal = keys
                .iter()
                .filter_map(|key| state.failures.get(key))
                .filter(|times| times.len() >= self.limit)
                .filter_map(|times| times.front())
                .map(|oldest| self.window.saturating_sub(oldest.elapsed()))
                .max();
            if let Some(wait) = refusal {
                return Verdict::Refuse(wait.max(Duration::from_secs(1)));
            }
            let full = keys.iter().any(|key| {
                failed(key) + state.in_flight.get(key).copied().unwrap_or(0) >= self.limit
            });
            if full {
                return Verdict::Wait;
            }
            for key in keys {
                *state.in_flight.entry(key.clone()).or_default() += 1;
            }
            Verdict::Go
        })
    }

    fn finish(&self, keys: &[String], outcome: Outcome) {
        self.with_state(|state| {
            for (index, key) in keys.iter().enumerate() {
                if let Some(count) = state.in_flight.get_mut(key) {
                    *count -= 1;
                    if *count == 0 {
                        state.in_flight.remove(key);
                    }
                }
                match outcome {
                    Outcome::Failed => state
                        .failures
                        .entry(key.clone())
                        .or_default()
                        .push_back(Instant::now()),
                    // The account's own key: a success clears it. The
                    // address keeps its failures.
                    Outcome::Succeeded if index == 0 => drop(state.failures.remove(key)),
                    Outcome::Succeeded | Outcome::Undecided => {}
                }
            }
        });
        self.finished.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn fail(throttle: &LoginThrottle, keys: &[String]) {
        drop(throttle.begin(keys.to_vec()).await.expect("an attempt"));
    }

    #[rocket::async_test]
    async fn the_sixth_failure_within_the_window_is_refused() {
        let throttle = LoginThrottle::new(5, Duration::from_secs(900));
        let keys = keys("Toby", None);
        for _ in 0..5 {
            fail(&throttle, &keys).await;
        }
        let wait = throttle.begin(keys.clone()).await.err().unwrap();
        assert!(
            wait > Duration::from_secs(890) && wait <= Duration::from_secs(900),
            "{wait:?}"
        );
        assert!(
            throttle.begin(super::keys("toby", None)).await.is_err(),
            "case does not matter"
        );
    }

    #[rocket::async_test]
    async fn a_success_clears_the_account_but_not_the_address() {
        let throttle = LoginThrottle::new(2, Duration::from_secs(900));
        let ip = Some("192.0.2.1".parse().unwrap());
        let keys = keys("hop", ip);
        fail(&throttle, &keys).await;
        throttle.begin(keys.clone()).await.unwrap().succeeded();
        // The address keeps its one failure: one more fits, then it is full.
        fail(&throttle, &super::keys("niko", ip)).await;
        assert!(throttle.begin(super::keys("lex", ip)).await.is_err());
        assert!(
            throttle.begin(super::keys("hop", None)).await.is_ok(),
            "the account is clear"
        );
    }

    #[rocket::async_test]
    async fn attempts_beyond_the_allowance_wait_and_a_success_lets_them_in() {
        let throttle = LoginThrottle::new(2, Duration::from_secs(900));
        let keys = keys("ada", None);
        let first = throttle.begin(keys.clone()).await.unwrap();
        let second = throttle.begin(keys.clone()).await.unwrap();
        // Two in flight fill the allowance: a third waits...
        let third = throttle.begin(keys.clone());
        rocket::tokio::pin!(third);
        let waited = rocket::tokio::time::timeout(Duration::from_millis(50), third.as_mut()).await;
        assert!(waited.is_err(), "the third attempt must wait");
        // ... and goes ahead once one of them succeeds.
        first.succeeded();
        let third = third.await.expect("let in after the success");
        second.succeeded();
        third.succeeded();
    }

    #[rocket::async_test]
    async fn a_waiting_attempt_is_refused_when_those_in_flight_fail() {
        let throttle = LoginThrottle::new(2, Duration::from_secs(900));
        let keys = keys("ada", None);
        let first = throttle.begin(keys.clone()).await.unwrap();
        let second = throttle.begin(keys.clone()).await.unwrap();
        let third = throttle.begin(keys.clone());
        rocket::tokio::pin!(third);
        assert!(
            rocket::tokio::time::timeout(Duration::from_millis(20), third.as_mut())
                .await
                .is_err()
        );
        drop(first);
        drop(second);
        let wait = third.await.err().expect("two failures close the door");
        assert!(wait > Duration::from_secs(890), "{wait:?}");
    }

    #[rocket::async_test]
    async fn an_undecided_attempt_counts_as_nothing() {
        let throttle = LoginThrottle::new(1, Duration::from_secs(900));
        let keys = keys("ada", None);
        throttle.begin(keys.clone()).await.unwrap().undecided();
        throttle.begin(keys.clone()).await.unwrap().undecided();
        assert!(throttle.begin(keys).await.is_ok(), "no failure was counted");
    }

    #[rocket::async_test]
    async fn failures_expire() {
        let throttle = LoginThrottle::new(1, Duration::from_millis(50));
        let keys = keys("admin", None);
        fail(&throttle, &keys).await;
        assert!(throttle.begin(keys.clone()).await.is_err());
        rocket::tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(throttle.begin(keys).await.is_ok());
    }
}
