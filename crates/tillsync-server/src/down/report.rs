//! What an export did: per table ([`TableReport`]) and as a whole
//! ([`ExportReport`]), with the lines `tillsync server export` prints and
//! the admin page's "Export now" shows.

use serde::Serialize;

/// What happened to one table.
#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    /// Table.
    pub table: String,
    /// Version before the export (0: never exported).
    pub version_before: u64,
    /// Version after.
    pub version_after: u64,
    /// Rows in the table (full packages) or changed rows (incremental).
    pub rows: u64,
    /// Files published.
    pub published: Vec<String>,
    /// `unchanged`, `incremental`, `full`, `incremental+full`.
    pub outcome: String,
    /// Why a full package was built, if one was.
    pub full_reason: Option<String>,
}

/// What one export did.
#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    /// Per table.
    pub tables: Vec<TableReport>,
    /// Package files removed by retention.
    pub purged: Vec<String>,
    /// Bytes published.
    pub bytes: u64,
    /// Where.
    pub store: String,
    /// Duration in milliseconds.
    pub millis: u64,
}

impl ExportReport {
    /// The lines `tillsync server export` prints, and the admin page's
    /// "Export now" shows: one wording for both.
    pub fn lines(&self) -> Vec<String> {
        let report = self;
        let mut lines = Vec::new();
        for t in &report.tables {
            let files = if t.published.is_empty() {
                String::new()
            } else {
                format!(" [{}]", t.published.join(", "))
            };
            let why = t
                .full_reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            lines.push(format!(
                "{:<12} v{} → v{}  {}{}  {} rows{}",
                t.table, t.version_before, t.version_after, t.outcome, why, t.rows, files
            ));
        }
        if !report.purged.is_empty() {
            lines.push(format!("purged (retention): {}", report.purged.join(", ")));
        }
        lines.push(format!(
            "published {} bytes to {} in {} ms",
            report.bytes, report.store, report.millis
        ));
        lines
    }
}
