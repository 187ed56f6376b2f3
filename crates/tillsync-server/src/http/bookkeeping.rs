//! When the polling path's bookkeeping is written: a till's last contact,
//! the table versions it reports and the "packages-asked" journal line are
//! written when they change (at once) and otherwise at most once per period
//! (refreshed by the deferred writer), so that a poll that changes nothing
//! does not write. The writes themselves: `AppState::write_bookkeeping`.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `last_contact` is written at most this often per till (and per server
/// process): a till polling every few seconds would otherwise cost a
/// write on every call. Shorter when the supervisor's online window is
/// shorter ([`contact_write_every`]).
pub const CONTACT_WRITE_EVERY: Duration = Duration::from_secs(30);

/// How often a till's `last_contact` is written: [`CONTACT_WRITE_EVERY`],
/// or the supervisor's online window `2 × till.ping_timeout_ms +
/// till.sync_interval_ms` when that is shorter (11 s by default), so that
/// the write throttle at most doubles that window (the admin pages add it,
/// plus [`DEFERRED_EVERY`]: `online_window_ms` of the till supervisor).
pub fn contact_write_every(cfg: &tillsync_core::ServerConfig) -> Duration {
    CONTACT_WRITE_EVERY.min(Duration::from_millis(
        2 * cfg.till.ping_timeout_ms + cfg.till.sync_interval_ms,
    ))
}
/// The table versions a till reports are written when they change, and at
/// least this often (their `reported_at`).
pub const REPORT_WRITE_EVERY: Duration = Duration::from_secs(60);
/// A "packages-asked" journal line is written when the answer to the till
/// changes, and at least this often.
pub const ASKED_JOURNAL_EVERY: Duration = Duration::from_secs(3600);

/// How often the deferred writer runs (it writes at most
/// [`DEFERRED_CHUNK`] tills per hold of the write connection, so that a
/// ticket batch waits little).
pub const DEFERRED_EVERY: Duration = Duration::from_secs(1);
/// Most tills the deferred writer writes per hold of the write connection.
pub const DEFERRED_CHUNK: usize = 200;

/// What [`WriteThrottle::due`] says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Written recently with the same value: nothing to write.
    No,
    /// New or changed (or first seen by this process): write it now, so
    /// that what the server shows follows the till at once.
    Changed,
    /// Unchanged but older than the period: refresh it, deferred
    /// (`AppState::deferred`), the till does not wait.
    Refresh,
}

/// Per-till memory of the last write of one thing, so that a poll that
/// changes nothing does not write: a write is due when the value's
/// fingerprint changed or `every` has passed.
pub struct WriteThrottle {
    every: Duration,
    last: Mutex<HashMap<String, (Instant, u64)>>,
}

impl WriteThrottle {
    /// Writes at most every `every` per till, unless the value changes.
    pub fn new(every: Duration) -> Self {
        WriteThrottle {
            every,
            last: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `value` of `till` should be written now; if so, it is taken
    /// as written (call [`WriteThrottle::forget`] if the write fails).
    pub fn due(&self, till: &str, value: &impl Hash) -> Due {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        value.hash(&mut h);
        let fingerprint = h.finish();
        let now = Instant::now();
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        match last.get_mut(till) {
            Some((at, f)) if *f == fingerprint && now.duration_since(*at) < self.every => Due::No,
            Some((at, f)) if *f == fingerprint => {
                *at = now;
                Due::Refresh
            }
            Some(entry) => {
                *entry = (now, fingerprint);
                Due::Changed
            }
            None => {
                last.insert(till.to_string(), (now, fingerprint));
                Due::Changed
            }
        }
    }

    /// The period.
    pub fn every(&self) -> Duration {
        self.every
    }

    /// The write of `till` failed: the next call is due.
    pub fn forget(&self, till: &str) {
        self.last
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(till);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttled_writes_are_due_on_change_or_after_the_period() {
        let t = WriteThrottle::new(Duration::from_millis(80));
        assert_eq!(t.due("T1", &1), Due::Changed, "first time");
        assert_eq!(t.due("T1", &1), Due::No, "unchanged, within the period");
        assert_eq!(t.due("T2", &1), Due::Changed, "another till");
        assert_eq!(t.due("T1", &2), Due::Changed, "changed value");
        assert_eq!(t.due("T1", &2), Due::No);
        t.forget("T1");
        assert_eq!(t.due("T1", &2), Due::Changed, "after a failed write");
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(t.due("T1", &2), Due::Refresh, "period over");
        assert_eq!(t.due("T1", &2), Due::No, "refreshed");
    }
}
