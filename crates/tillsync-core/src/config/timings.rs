//! [`SyncTimings`]: the till synchroniser's four timings, as the server's
//! `[till]` section and the till's `[sync]` section both hold them.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::error::ConfigError;
use crate::config::validate::positive;

/// The synchroniser's timings (seed "Caisse" tab), in milliseconds; all > 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyncTimings {
    /// Wait between two ticket synchronisations (default 5000).
    pub sync_interval_ms: u64,
    /// Web service call timeout (default 60000).
    pub ws_timeout_ms: u64,
    /// Connection check timeout (default 3000).
    pub ping_timeout_ms: u64,
    /// Wait between two attempts after an error (default 10000).
    pub retry_interval_ms: u64,
}

impl Default for SyncTimings {
    fn default() -> Self {
        SyncTimings {
            sync_interval_ms: 5_000,
            ws_timeout_ms: 60_000,
            ping_timeout_ms: 3_000,
            retry_interval_ms: 10_000,
        }
    }
}

impl SyncTimings {
    /// Checks that every timing is > 0 (keys named `sync.…`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_keys("sync")
    }

    /// Same, naming the keys `SECTION.…`.
    pub(crate) fn validate_keys(&self, section: &str) -> Result<(), ConfigError> {
        for (name, v) in [
            ("sync_interval_ms", self.sync_interval_ms),
            ("ws_timeout_ms", self.ws_timeout_ms),
            ("ping_timeout_ms", self.ping_timeout_ms),
            ("retry_interval_ms", self.retry_interval_ms),
        ] {
            positive(&format!("{section}.{name}"), v)?;
        }
        Ok(())
    }

    /// `sync_interval_ms` as a duration.
    pub fn sync_interval(&self) -> Duration {
        Duration::from_millis(self.sync_interval_ms)
    }

    /// `ws_timeout_ms` as a duration.
    pub fn ws_timeout(&self) -> Duration {
        Duration::from_millis(self.ws_timeout_ms)
    }

    /// `ping_timeout_ms` as a duration.
    pub fn ping_timeout(&self) -> Duration {
        Duration::from_millis(self.ping_timeout_ms)
    }

    /// `retry_interval_ms` as a duration.
    pub fn retry_interval(&self) -> Duration {
        Duration::from_millis(self.retry_interval_ms)
    }
}
