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
}

/// Error body of every failed call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Machine-readable code (`unknown-till`, `bad-request`…).
    pub error: String,
    /// Plain-words explanation.
    pub message: String,
}
