//! Tills as the server knows them: their credentials check, the table
//! versions they reported, their sync state.

use serde::Serialize;

use crate::reports::OutboxReport;
use crate::tickets::TillTickets;

/// Why a till's credentials were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthFailure {
    /// Unknown till, no credentials issued, or wrong token.
    BadCredentials,
    /// The till was revoked.
    Revoked,
}

/// A till as the server knows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TillRow {
    /// Till id.
    pub till_id: String,
    /// Store.
    pub store: String,
    /// When its current credentials (its token) were issued: at its
    /// enrolment.
    pub issued_at: Option<String>,
    /// When it was revoked.
    pub revoked_at: Option<String>,
    /// Last call to the web service.
    pub last_contact: Option<String>,
    /// The key id of its current key (the newest of its key history).
    pub key_id: Option<String>,
    /// Until when the secret of a deployment package not used yet is
    /// accepted (a till awaiting its enrolment).
    pub enrolment_expires_at: Option<String>,
}

/// The version of a table a till reported holding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportedTable {
    /// Till id.
    #[serde(skip)]
    pub till_id: String,
    /// Table.
    pub table: String,
    /// Version held (null: never loaded).
    pub version: Option<u64>,
    /// Layout hash of the till's copy.
    pub layout_hash: Option<String>,
    /// When the till reported it.
    pub reported_at: String,
}

/// A till's sync state as `server tills list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TillOverview {
    /// Credentials and last contact.
    #[serde(flatten)]
    pub till: TillRow,
    /// Tickets received, gaps, quarantine, rejected items.
    #[serde(flatten)]
    pub tickets: TillTickets,
    /// Table versions the till last reported.
    pub tables: Vec<ReportedTable>,
    /// Its outbox and error list as it last reported them (null: never
    /// reported, e.g. a till older than the report).
    pub outbox: Option<OutboxReport>,
}

/// The journal line of a revocation (`packages`: unused deployment
/// packages superseded with it).
pub fn revoke_line(packages: u64) -> String {
    if packages == 0 {
        "till revoked".to_string()
    } else {
        format!("till revoked; {packages} unused deployment package(s) superseded")
    }
}
