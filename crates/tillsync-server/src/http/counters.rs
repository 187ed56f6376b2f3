//! The counters of this server process for `GET /metrics` ([`Metrics`]):
//! requests by route and status, outbox batches and their tickets by
//! outcome, packages published by scheduled exports.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tillsync_wire::api::ItemStatus;

/// The counters of this server process.
#[derive(Default)]
pub struct Metrics {
    /// Requests by (matched route, status code).
    pub(super) requests: Mutex<BTreeMap<(String, u16), u64>>,
    /// Ticket batches stored, and tickets by outcome
    /// (accepted, duplicate, quarantined, rejected).
    pub(super) tickets: Mutex<(u64, [u64; 4])>,
    /// Packages published by this process's scheduled exports.
    pub(super) exported: AtomicU64,
}

impl Metrics {
    /// Count one answered request.
    pub fn request(&self, route: &str, status: u16) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((route.to_string(), status))
            .or_default() += 1;
    }

    /// Count packages published by an export of this process.
    pub fn exported(&self, packages: u64) {
        self.exported.fetch_add(packages, Ordering::Relaxed);
    }

    /// Count one committed batch and the outcome of each of its tickets.
    pub fn batch(&self, tickets: impl IntoIterator<Item = ItemStatus>) {
        let mut t = self.tickets.lock().unwrap_or_else(|p| p.into_inner());
        t.0 += 1;
        for s in tickets {
            t.1[status_index(s)] += 1;
        }
    }
}

/// The ticket outcomes, in the order of [`Metrics`]'s counts.
pub(super) const STATUSES: [&str; 4] = ["accepted", "duplicate", "quarantined", "rejected"];

fn status_index(s: ItemStatus) -> usize {
    match s {
        ItemStatus::Accepted => 0,
        ItemStatus::Duplicate => 1,
        ItemStatus::Quarantined => 2,
        ItemStatus::Rejected => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_accumulate() {
        let m = Metrics::default();
        m.request("/a", 200);
        m.request("/a", 200);
        m.batch([ItemStatus::Accepted, ItemStatus::Quarantined]);
        assert_eq!(m.requests.lock().unwrap()[&("/a".to_string(), 200)], 2);
        assert_eq!(*m.tickets.lock().unwrap(), (1, [1, 0, 1, 0]));
        m.exported(3);
        m.exported(2);
        assert_eq!(m.exported.load(Ordering::Relaxed), 5);
    }
}
