//! Customers on the server, backend-neutral: the conflict policy of an
//! up-direction sync table, the conflicts kept for audit, who created a
//! customer, and the outcome of applying a till's change.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use tillsync_db::StoreError;

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

impl FromStr for ConflictPolicy {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        ConflictPolicy::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| {
                StoreError::Invalid(format!(
                    "unknown conflict policy {s:?}: expected one of server-wins, till-wins, newest-wins"
                ))
            })
    }
}

/// One line of the conflict audit: the losing version of a row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConflictRecord {
    /// Audit id.
    pub id: i64,
    /// Table.
    pub table: String,
    /// Key of the row (JSON array of the key values).
    pub key: String,
    /// The till whose change met the server's.
    pub till_id: String,
    /// The server's row when the till's change arrived (null if gone).
    pub server_value: Option<serde_json::Value>,
    /// The till's change (changed fields).
    pub till_value: serde_json::Value,
    /// `server` or `till`.
    pub winner: String,
    /// When (RFC 3339).
    pub at: String,
}

/// Who created a customer at a till.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerOrigin {
    /// Customer code.
    pub code: String,
    /// The till that created it.
    pub till_id: String,
    /// When.
    pub created_at: String,
    /// When the till abandoned the creation (the customer was deleted).
    pub abandoned_at: Option<String>,
}

/// What the server did with an item received from a till.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpOutcome {
    /// Stored; with a note (e.g. the conflict policy kept the server's row).
    Applied(Option<String>),
    /// Refused (bad data); nothing stored.
    Rejected(String),
}
