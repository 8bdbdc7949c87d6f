//! Login throttling: after too many failed logins for one account, or from
//! one client address, within a window, further attempts are refused with
//! 429 and `Retry-After` until the oldest failure leaves the window. A
//! success clears the account's count. Nothing is locked for good: every
//! failure expires, so the throttle cannot keep the admin out forever.
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

    /// `Err(wait)` when any key has used up its attempts.
    pub fn check(&self, keys: &[String]) -> Result<(), Duration> {
        self.with_failures(|failures| {
            let wait = keys
                .iter()
                .filter_map(|key| failures.get(key))
                .filter(|times| times.len() >= self.limit)
                .filter_map(|times| times.front())
                .map(|oldest| self.window.saturating_sub(oldest.elapsed()))
                .max();
            match wait {
                Some(wait) => Err(wait.max(Duration::from_secs(1))),
                None => Ok(()),
            }
        })
    }

    pub fn record_failure(&self, keys: &[String]) {
        self.with_failures(|failures| {
            for key in keys {
                failures
                    .entry(key.clone())
                    .or_default()
                    .push_back(Instant::now());
            }
        });
    }

    /// A successful login clears the account's failures (not the address's).
    pub fn record_success(&self, uid: &str) {
        let account = format!("account:{}", uid.trim().to_lowercase());
        self.with_failures(|failures| {
            failures.remove(&account);
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
            assert!(throttle.check(&keys).is_ok());
            throttle.record_failure(&keys);
        }
        let wait = throttle.check(&keys).unwrap_err();
        assert!(
            wait > Duration::from_secs(890) && wait <= Duration::from_secs(900),
            "{wait:?}"
        );
        assert!(
            throttle.check(&super::keys("toby", None)).is_err(),
            "case does not matter"
        );
    }

    #[test]
    fn a_success_clears_the_account_but_not_the_address() {
        let throttle = LoginThrottle::new(2, Duration::from_secs(900));
        let ip = Some("192.0.2.1".parse().unwrap());
        let keys = keys("hop", ip);
        throttle.record_failure(&keys);
        throttle.record_failure(&keys);
        throttle.record_success("hop");
        assert!(throttle.check(&super::keys("hop", None)).is_ok());
        assert!(
            throttle.check(&keys).is_err(),
            "the address is still throttled"
        );
    }

    #[test]
    fn failures_expire() {
        let throttle = LoginThrottle::new(1, Duration::from_millis(50));
        let keys = keys("admin", None);
        throttle.record_failure(&keys);
        assert!(throttle.check(&keys).is_err());
        std::thread::sleep(Duration::from_millis(60));
        assert!(throttle.check(&keys).is_ok());
    }
}
