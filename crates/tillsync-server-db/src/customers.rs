//! Customers on the server, backend-neutral: the conflicts kept for audit,
//! who created a customer, and the outcome of applying a till's change (the
//! conflict policy of an up-direction sync table is re-exported from
//! `tillsync_core::customers::conflict`, where the conflict rule lives).

use serde::Serialize;

/// The conflict policy, defined with the conflict rule in
/// `tillsync_core::customers::conflict`; here for other crates.
pub use tillsync_core::customers::conflict::ConflictPolicy;

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
