//! The connection to the server as the synchroniser last saw it: set by
//! the agent's push loop, shown by the cashier page's indicator.

use std::sync::atomic::{AtomicU8, Ordering};

/// The connection to the server as the synchroniser last saw it (a push
/// that went through, or a ping answered within `ping_timeout_ms`). Shared
/// by the agent, which sets it, and the page, which shows it.
#[derive(Debug, Default)]
pub struct Link {
    /// 0: not checked yet, 1: online, 2: offline.
    state: AtomicU8,
}

impl Link {
    /// Not checked yet.
    pub fn new() -> Self {
        Link::default()
    }

    /// Record the outcome of a push or a ping.
    pub fn set(&self, online: bool) {
        self.state
            .store(if online { 1 } else { 2 }, Ordering::Relaxed);
    }

    /// `Some(true)` online, `Some(false)` offline, `None` not checked yet.
    pub fn online(&self) -> Option<bool> {
        match self.state.load(Ordering::Relaxed) {
            1 => Some(true),
            2 => Some(false),
            _ => None,
        }
    }
}
