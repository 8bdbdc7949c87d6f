//! Login throttling: after too many failed logins for one account, or from
//! one client address, within a window, further attempts are refused with
//! 429 and `Retry-After` until the oldest failure leaves the window. A
//! success clears the account's count. Every failure expires, so past
//! mistakes lock nobody out for good; an attacker who keeps failing keeps an
//! account throttled only while they keep at it, and runs out of attempts on
//! their own address first.
//!
//! An attempt takes its slot *before* the password is checked (and gives it
//! back on success), so a burst of parallel guesses cannot all slip past the
//! count while the slow hashes run.
//!
//! Counts live in memory, per process: a restart forgets them, and several
//! instances count separately.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LoginThrottle {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
    limit: usize,
    window: Duration,
}

/// The keys an attempt counts against.
pub fn keys(uid: &str, client: Option<IpAddr>) -> Vec<String> {
    let mut keys = vec![format!("account:{}", uid.trim().to_lowercase())];
    if let Some(ip) = client {
        keys.push(format!("ip:{ip}"));
    }
    keys
}

impl LoginThrottle {
    pub fn new(limit: usize, window: Duration) -> Self {
        LoginThrottle {
            failures: Mutex::new(HashMap::new()),
            limit: limit.max(1),
            window,
        }
    }

    fn with_failures<T>(
        &self,
        work: impl FnOnce(&mut HashMap<String, VecDeque<Instant>>) -> T,
    ) -> T {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Forget what has left the window, so memory stays bounded.
        let window = self.window;
        failures.retain(|_, times| {
            while times.front().is_some_and(|t| t.elapsed() >= window) {
                times.pop_front();
            }
            !times.is_empty()
        });
        work(&mut failures)
    }

    /// Takes a slot for an attempt on every key, or `Err(wait)` when any key
    /// has used up its attempts. The attempt counts as a failure unless
    /// [`LoginThrottle::record_success`] gives the slots back.
    pub fn reserve(&self, keys: &[String]) -> Result<(), Duration> {
        self.with_failures(|failures| {
            let wait = keys
                .iter()
                .filter_map(|key| failures.get(key))
                .filter(|times| times.len() >= self.limit)
                .filter_map(|times| times.front())
                .map(|oldest| self.window.saturating_sub(oldest.elapsed()))
                .max();
            if let Some(wait) = wait {
                return Err(wait.max(Duration::from_secs(1)));
            }
            for key in keys {
                failures
                    .entry(key.clone())
                    .or_default()
                    .push_back(Instant::now());
            }
            Ok(())
        })
    }

    /// A successful login clears the account's failures (the first key) and
    /// gives back the slot its attempt took on the others (the address).
    pub fn record_success(&self, keys: &[String]) {
        self.with_failures(|failures| {
            for (index, key) in keys.iter().enumerate() {
                if index == 0 {
                    failures.remove(key);
                } else if let Some(times) = failures.get_mut(key) {
                    times.pop_back();
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_attempt_within_the_window_is_refused() {
        let throttle = LoginThrottle::new(5, Duration::from_secs(900));
        let keys = keys("Toby", None);
        for _ in 0..5 {
            assert!(throttle.reserve(&keys).is_ok());
        }
        let wait = throttle.reserve(&keys).unwrap_err();
        assert!(
            wait > Duration::from_secs(890) && wait <= Duration::from_secs(900),
            "{wait:?}"
        );
        assert!(
            throttle.reserve(&super::keys("toby", None)).is_err(),
            "case does not matter"
        );
    }

    #[test]
    fn a_success_clears_the_account_and_returns_the_addresss_slot() {
        let throttle = LoginThrottle::new(2, Duration::from_secs(900));
        let ip = Some("192.0.2.1".parse().unwrap());
        let keys = keys("hop", ip);
        throttle.reserve(&keys).unwrap(); // a failure
        throttle.reserve(&keys).unwrap(); // an attempt that succeeds:
        throttle.record_success(&keys);
        // The address keeps only its one failure: one more attempt fits.
        assert!(throttle.reserve(&super::keys("niko", ip)).is_ok());
        assert!(
            throttle.reserve(&super::keys("lex", ip)).is_err(),
            "now the address is full"
        );
        assert!(
            throttle.reserve(&super::keys("hop", None)).is_ok(),
            "the account is clear"
        );
    }

    #[test]
    fn failures_expire() {
        let throttle = LoginThrottle::new(1, Duration::from_millis(50));
        let keys = keys("admin", None);
        throttle.reserve(&keys).unwrap();
        assert!(throttle.reserve(&keys).is_err());
        std::thread::sleep(Duration::from_millis(60));
        assert!(throttle.reserve(&keys).is_ok());
    }
}
