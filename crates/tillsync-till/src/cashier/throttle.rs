//! The lock of the cashiers' login: three wrong PINs in a row lock the
//! login of the till for [`FIRST_LOCK`], each further wrong PIN doubles the
//! lock, up to [`MAX_LOCK`]; a right PIN outside a lock clears the count.
//! The count is kept per till agent, whoever was chosen.

use std::time::{Duration, Instant};

/// Wrong PINs in a row before the login locks.
pub const FREE_FAILURES: u32 = 3;
/// The first lock.
pub const FIRST_LOCK: Duration = Duration::from_secs(60);
/// The longest lock.
pub const MAX_LOCK: Duration = Duration::from_secs(15 * 60);

/// Wrong PINs in a row and the lock they set.
#[derive(Debug, Default)]
pub(crate) struct LoginThrottle {
    failures: u32,
    until: Option<Instant>,
}

impl LoginThrottle {
    /// `Err(wait)` while locked at `now`.
    pub fn check(&self, now: Instant) -> Result<(), Duration> {
        match self.until {
            Some(u) if u > now => Err(u - now),
            _ => Ok(()),
        }
    }

    /// A wrong PIN at `now`: the lock it starts, if any.
    pub fn failed(&mut self, now: Instant) -> Option<Duration> {
        self.failures = self.failures.saturating_add(1);
        if self.failures < FREE_FAILURES {
            return None;
        }
        let doublings = (self.failures - FREE_FAILURES).min(10);
        let lock = (FIRST_LOCK * 2u32.pow(doublings)).min(MAX_LOCK);
        self.until = Some(now + lock);
        Some(lock)
    }

    /// A right PIN: the count starts again.
    pub fn succeeded(&mut self) {
        *self = LoginThrottle::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_wrong_pins_lock_and_each_more_doubles() {
        let mut t = LoginThrottle::default();
        let t0 = Instant::now();
        assert_eq!(t.failed(t0), None);
        assert_eq!(t.failed(t0), None);
        assert!(t.check(t0).is_ok());
        assert_eq!(t.failed(t0), Some(FIRST_LOCK));
        assert_eq!(t.check(t0), Err(FIRST_LOCK));
        let later = t0 + FIRST_LOCK;
        assert!(t.check(later).is_ok());
        assert_eq!(t.failed(later), Some(FIRST_LOCK * 2));
        for _ in 0..20 {
            t.failed(later);
        }
        assert_eq!(t.check(later), Err(MAX_LOCK));
        t.succeeded();
        assert!(t.check(later).is_ok());
        assert_eq!(t.failed(later), None);
    }
}
