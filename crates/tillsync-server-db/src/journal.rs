//! The sync journal's lines, as the admin pages and `server` commands read them.

use serde::Serialize;

/// One line of the sync journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalEntry {
    /// Line id (increasing).
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// What happened (`packages-asked`, `outbox`, `credentials`, `export`…).
    pub kind: String,
    /// The till concerned, if any.
    pub till: Option<String>,
    /// `ok`, `error`…
    pub result: String,
    /// Details.
    pub detail: String,
}
