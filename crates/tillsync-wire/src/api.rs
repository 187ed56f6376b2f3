//! Bodies of the web service, version 1 (`/api/v1`). Documented in
//! `docs/http-api.md`. New optional fields may be added within v1; a
//! breaking change gets `/api/v2`.

use serde::{Deserialize, Serialize};

use crate::index::IndexEntry;

/// `GET /api/v1/ping`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ping {
    /// Always `ok`.
    pub status: String,
    /// POS folder served.
    pub folder: String,
    /// API version (1).
    pub api: u32,
    /// Server time (RFC 3339).
    pub server_time: String,
}

/// A till's state for one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TillTable {
    /// Table name.
    pub table: String,
    /// Version the till holds; null if never loaded.
    pub version: Option<u64>,
    /// Layout hash of the till's copy; null if never loaded.
    pub layout_hash: Option<String>,
}

/// `POST /api/v1/packages/available`: which packages does this till need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailableRequest {
    /// What the till holds. Tables it lacks may be omitted: every down sync
    /// table is answered.
    #[serde(default)]
    pub tables: Vec<TillTable>,
    /// Ask for full loads of every table.
    #[serde(default)]
    pub full: bool,
    /// The till's outbox and error list when it asked, for the till
    /// supervisor (absent from older tills: the server shows "not reported").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<TillReport>,
}

/// Longest `last_error` a till sends (in characters); the server cuts
/// longer ones to this length too.
pub const REPORT_ERROR_MAX_CHARS: usize = 200;

/// What a till reports of its up path with each package request: what waits
/// in its outbox and what it set aside in its error list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TillReport {
    /// Tickets waiting in the outbox.
    #[serde(default)]
    pub outbox_tickets: u64,
    /// Other items waiting in the outbox (customer changes, rows).
    #[serde(default)]
    pub outbox_other: u64,
    /// When the oldest waiting item was queued, till clock (RFC 3339);
    /// null when the outbox is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_queued_at: Option<String>,
    /// Age of the oldest waiting item in seconds when the till asked (the
    /// server relies on this rather than on the till's clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_age_secs: Option<u64>,
    /// Items in the till's error list (refused or quarantined by the server).
    #[serde(default)]
    pub errors: u64,
    /// The newest error's reason, at most [`REPORT_ERROR_MAX_CHARS`] characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl TillReport {
    /// Items waiting in the outbox, all kinds.
    pub fn backlog(&self) -> u64 {
        self.outbox_tickets.saturating_add(self.outbox_other)
    }
}

/// `s` cut to at most `max` characters (an ellipsis marks a cut).
pub fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// What a till should do with one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlanAction {
    /// The till holds the newest version.
    UpToDate,
    /// Apply the listed incremental packages in order.
    Incremental,
    /// Load the listed full package, then any incrementals after it.
    Full,
    /// Nothing published yet for this table.
    NotPublished,
}

/// The answer for one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TablePlan {
    /// Table name.
    pub table: String,
    /// Store subset the packages are for, if the table is filtered.
    pub subset: Option<String>,
    /// What to do.
    pub action: PlanAction,
    /// Why a full load (first load, version no longer kept, layout changed…).
    pub reason: Option<String>,
    /// Newest version available.
    pub latest_version: Option<u64>,
    /// Packages to download and apply, in order.
    pub packages: Vec<IndexEntry>,
}

/// Response of `POST /api/v1/packages/available`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailableResponse {
    /// POS folder.
    pub folder: String,
    /// One plan per down sync table.
    pub tables: Vec<TablePlan>,
    /// The up-direction sync tables, whose changes the till captures and
    /// pushes as `row` items (absent from older servers: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub up_tables: Vec<UpTable>,
}

/// An up-direction sync table as the server holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpTable {
    /// Table name.
    pub table: String,
    /// Its columns and key on the server (a till lacking it creates it so).
    pub layout: crate::layout::Layout,
}

/// Error body of every failed call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Machine-readable code (`unknown-till`, `bad-request`…).
    pub error: String,
    /// Plain-words explanation.
    pub message: String,
}

/// What a till sends up: one item of its outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    /// Idempotency key, unique per till (`ticket:42`, `cust-edit:…`): the
    /// server applies an item once, and answers a resend with the first result.
    pub key: String,
    /// What the item is.
    pub kind: OutboxKind,
    /// The item itself: a ticket, a customer change, a row.
    pub payload: serde_json::Value,
}

/// Kinds of outbox items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutboxKind {
    /// A sealed ticket (`tillsync_core::ticket::Ticket`).
    Ticket,
    /// Changed fields of a customer ([`CustomerEdit`]).
    CustomerEdit,
    /// An abandoned customer creation ([`CustomerAbandon`]).
    CustomerAbandon,
    /// A row of an up-direction sync table ([`RowChange`]).
    Row,
    /// A fiscal record of the till: an event of its event log or a closing
    /// (`tillsync_core::fiscal::record::Record`).
    Record,
}

/// `POST /api/v1/outbox`: a batch of outbox items, in outbox order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxBatch {
    /// Items, oldest first.
    pub items: Vec<OutboxItem>,
}

/// The server's answer for one item, after it was durably stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemResult {
    /// The item's idempotency key.
    pub key: String,
    /// The outcome.
    pub status: ItemStatus,
    /// Why, when rejected or quarantined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Outcome of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemStatus {
    /// Stored (and for a ticket, verified).
    Accepted,
    /// Already received earlier with this key: nothing changed.
    Duplicate,
    /// Stored apart in quarantine (a ticket whose signature or chain failed).
    Quarantined,
    /// Refused (bad data); nothing stored. The till sets it aside.
    Rejected,
}

/// Response of `POST /api/v1/outbox`: one result per item, same order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxResponse {
    /// Results.
    pub results: Vec<ItemResult>,
}

/// `GET /api/v1/tickets/missing`: the calling till's ticket numbers the
/// server has not received (below the highest it received), which the
/// till sends again from its own tickets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingTickets {
    /// Ranges of missing numbers, both ends included, ascending.
    pub ranges: Vec<[u64; 2]>,
}

/// Payload of a `customer-edit` item: the fields the till changed, and the
/// till's table version of `CLI` when it made the change (for conflicts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerEdit {
    /// Customer code.
    pub code: String,
    /// Changed fields: column → new value.
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// The till's `CLI` version when edited.
    pub base_version: Option<u64>,
    /// When the till made the change (RFC 3339).
    pub edited_at: String,
}

/// Payload of a `customer-abandon` item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerAbandon {
    /// Code of the customer whose creation was abandoned.
    pub code: String,
}

/// Payload of a `row` item: a row of an up-direction sync table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowChange {
    /// Table.
    pub table: String,
    /// `upsert` or `delete`.
    pub op: String,
    /// For an upsert: every column → value; for a delete: the key columns.
    pub row: serde_json::Map<String, serde_json::Value>,
}

/// `POST /api/v1/customers`: create a customer from the template customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerCreate {
    /// Name.
    pub name: String,
    /// Other fields given at the till: column → value.
    #[serde(default)]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// A customer record: every column of `CLI` → value (`code` included).
pub type CustomerRecord = serde_json::Map<String, serde_json::Value>;

#[cfg(test)]
mod tests {
    use super::*;

    /// A till older than the report field is still understood, and a
    /// report round-trips.
    #[test]
    fn available_request_report_is_optional() {
        let old: AvailableRequest = serde_json::from_str(r#"{"tables":[],"full":false}"#).unwrap();
        assert_eq!(old.report, None);
        let r = TillReport {
            outbox_tickets: 3,
            outbox_other: 1,
            oldest_queued_at: Some("2026-11-28T10:00:00Z".into()),
            oldest_age_secs: Some(90),
            errors: 2,
            last_error: Some("unknown customer".into()),
        };
        let req = AvailableRequest {
            tables: vec![],
            full: false,
            report: Some(r.clone()),
        };
        let back: AvailableRequest =
            serde_json::from_str(&serde_json::to_string(&req).unwrap()).unwrap();
        assert_eq!(back.report, Some(r));
        assert_eq!(back.report.unwrap().backlog(), 4);
        let partial: TillReport = serde_json::from_str(r#"{"outbox_tickets":5}"#).unwrap();
        assert_eq!((partial.backlog(), partial.errors), (5, 0));
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate_chars("abc", 3), "abc");
        assert_eq!(truncate_chars("éééé", 3), "éé…");
        assert_eq!(truncate_chars("abcd", 3).chars().count(), 3);
    }
}
