//! A sync table's export state and the rows an export reads, the same for
//! every backend.

use tillsync_wire::index::IndexEntry;
use tillsync_wire::value::ValueRef;

/// A table's export state: its version and what the last export covered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableState {
    /// Table name.
    pub table: String,
    /// Current version (0 before the first export).
    pub version: u64,
    /// Change-log sequence covered by `version`.
    pub last_seq: i64,
    /// Layout hash at `version`.
    pub layout_hash: String,
    /// Hash of the rows of a full-type table at `version`.
    pub snapshot_hash: Option<String>,
    /// Version of the newest full package.
    pub full_version: Option<u64>,
}

/// What one export did to one table, recorded in one transaction.
#[derive(Debug, Clone)]
pub struct TableExport {
    /// The new state.
    pub state: TableState,
    /// Packages published for it.
    pub packages: Vec<IndexEntry>,
}

/// One row changed since the last export, as it is now.
pub struct Change<'a> {
    /// The key values (as logged).
    pub key: &'a [ValueRef<'a>],
    /// The current row (all columns), or `None` if it no longer exists.
    pub row: Option<&'a [ValueRef<'a>]>,
    /// The current value of the filter column, if the row exists and the
    /// table is filtered.
    pub filter: Option<ValueRef<'a>>,
}

/// Key columns the change log can hold.
pub const MAX_KEY: usize = 4;
