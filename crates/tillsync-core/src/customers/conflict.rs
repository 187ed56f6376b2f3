//! Who wins when a till's customer edit meets a change the server made to
//! the same row since the till's version: the per-table [`ConflictPolicy`],
//! whether the server changed the row since ([`RowHistory`]), the decision
//! ([`resolve`]) and the note the till gets back ([`conflict_note`]).
//!
//! Whether "the server changed a row since version V": the export records,
//! for every key of a table that travels up, the version at which it was
//! last exported and the sequence number and time of its newest change
//! then; changes not exported yet are still in the change log. The change
//! a till itself made last through the web service is remembered too, so
//! that a till's second edit of a customer does not conflict with its first.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// Who wins when a till and the server both changed the same row since the
/// till's version. Set per up-direction sync table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConflictPolicy {
    /// The server's row is kept; the till's change goes to the audit table.
    #[default]
    ServerWins,
    /// The till's change is applied; the server's row goes to the audit table.
    TillWins,
    /// The newer change wins (the till's edit time against the server's
    /// change time, to the second; a tie keeps the server's row).
    NewestWins,
}

impl ConflictPolicy {
    /// All values, in the order shown to users.
    pub const ALL: [ConflictPolicy; 3] = [
        ConflictPolicy::ServerWins,
        ConflictPolicy::TillWins,
        ConflictPolicy::NewestWins,
    ];

    /// The name used in the database, the CLI and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictPolicy::ServerWins => "server-wins",
            ConflictPolicy::TillWins => "till-wins",
            ConflictPolicy::NewestWins => "newest-wins",
        }
    }
}

impl fmt::Display for ConflictPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A conflict policy name that is none of [`ConflictPolicy::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown conflict policy {0:?}: expected one of server-wins, till-wins, newest-wins")]
pub struct UnknownPolicy(pub String);

impl FromStr for ConflictPolicy {
    type Err = UnknownPolicy;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        ConflictPolicy::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| UnknownPolicy(s.to_string()))
    }
}

/// The last export of a row of a table that travels up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exported {
    /// The table version it was last exported at.
    pub version: i64,
    /// The sequence number of its newest change in that export.
    pub last_seq: i64,
    /// The time of that change (Unix seconds).
    pub changed_at: i64,
}

/// What the server's bookkeeping holds about the changes of one row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowHistory {
    /// The sequence number of its newest change not exported yet.
    pub pending_seq: Option<i64>,
    /// The time of its newest change not exported yet (Unix seconds).
    pub pending_at: Option<i64>,
    /// Its last export, if it was exported since it last changed.
    pub exported: Option<Exported>,
    /// The sequence number of the change the editing till made last to it
    /// through the web service.
    pub own_seq: Option<i64>,
}

impl RowHistory {
    /// The time (Unix seconds) of the newest change of the row made by
    /// someone else than the editing till after the till's version `base`,
    /// or `None` when the server did not change the row since (or the till
    /// itself made the newest change).
    pub fn server_change_since(&self, base: Option<u64>) -> Option<i64> {
        let newest = self.pending_seq.or(self.exported.map(|e| e.last_seq))?;
        if self.own_seq == Some(newest) {
            // Anything before the till's own write was settled when it was applied.
            return None;
        }
        if self.pending_seq.is_some() {
            // Not exported yet: no till holds it.
            return self.pending_at;
        }
        self.exported
            .filter(|e| e.version as u64 > base.unwrap_or(0))
            .map(|e| e.changed_at)
    }
}

/// The side whose version of a row is kept in a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Winner {
    /// The till's change is applied.
    Till,
    /// The server's row is kept.
    Server,
}

impl Winner {
    /// The word of the conflict audit (`till` or `server`).
    pub fn as_str(self) -> &'static str {
        match self {
            Winner::Till => "till",
            Winner::Server => "server",
        }
    }
}

/// Who wins an edit made at the till at `edited_at` (RFC 3339) under
/// `policy`, when the server changed the row at `server_changed_at` (Unix
/// seconds; `None`: not changed since the till's version, no conflict).
/// An edit time that cannot be read is older than any change.
pub fn resolve(
    policy: ConflictPolicy,
    server_changed_at: Option<i64>,
    edited_at: &str,
) -> Option<Winner> {
    let server_at = server_changed_at?;
    let till_wins = match policy {
        ConflictPolicy::ServerWins => false,
        ConflictPolicy::TillWins => true,
        ConflictPolicy::NewestWins => {
            let till_at = chrono::DateTime::parse_from_rfc3339(edited_at)
                .map(|t| t.timestamp())
                .unwrap_or(i64::MIN);
            till_at > server_at
        }
    };
    Some(if till_wins {
        Winner::Till
    } else {
        Winner::Server
    })
}

/// The note the till gets back for an edit of customer `code` that met a
/// change of the server.
pub fn conflict_note(code: &str, policy: ConflictPolicy, winner: Winner) -> String {
    format!(
        "conflict: the server changed customer {code} since the till's version; {policy} kept the {} version",
        match winner {
            Winner::Till => "till's",
            Winner::Server => "server's",
        }
    )
}

#[cfg(test)]
mod tests;
