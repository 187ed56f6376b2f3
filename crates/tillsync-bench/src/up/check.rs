//! What the server holds after `bench up`: every ticket exactly once,
//! verified, each till's numbers contiguous and every chain link closed.

use anyhow::{Context, Result};
use serde::Serialize;
use tillsync_server::DataDir;

/// What the server database holds afterwards.
#[derive(Serialize)]
pub(crate) struct Check {
    /// Rows in `TICKET` (verified tickets).
    pub(crate) tickets_stored: u64,
    /// Distinct `(till_id, number)` in `TICKET`.
    pub(crate) distinct_numbers: u64,
    /// Tickets in quarantine.
    pub(crate) quarantined: u64,
    /// Tills whose numbers are not exactly `1..=tickets`, chain links all
    /// verified (none pending).
    pub(crate) tills_incomplete: Vec<String>,
    /// Every ticket stored exactly once and verified.
    pub(crate) ok: bool,
}

/// Check that the server holds every ticket exactly once, verified, with
/// each till's numbers contiguous and every chain link closed.
pub(crate) fn check_server(data: &DataDir, ids: &[String], per_till: u64) -> Result<Check> {
    let mut db = data.open_store()?;
    let counts = db
        .query_rows(
            "SELECT COUNT(*), COUNT(DISTINCT \"till_id\" || ':' || \"number\") FROM \"TICKET\"",
        )
        .context("counting the tickets in the server's TICKET table")?;
    let count = |i: usize| -> Result<i64> {
        counts
            .first()
            .and_then(|r| r.get(i).cloned().flatten())
            .context("no count")?
            .parse::<i64>()
            .context("counting the tickets in the server's TICKET table")
    };
    let (stored, distinct) = (count(0)?, count(1)?);
    let state = db.ticket_state(None)?;
    let mut quarantined = 0;
    let mut incomplete = Vec::new();
    for id in ids {
        match state.iter().find(|t| &t.till_id == id) {
            Some(t) => {
                quarantined += t.quarantined;
                if t.verified != per_till
                    || t.highest_contiguous != per_till
                    || t.highest_received != per_till
                    || t.links_pending != 0
                    || !t.missing.is_empty()
                {
                    incomplete.push(id.clone());
                }
            }
            None => incomplete.push(id.clone()),
        }
    }
    let expected = per_till * ids.len() as u64;
    let (stored, distinct) = (stored as u64, distinct as u64);
    Ok(Check {
        ok: stored == expected && distinct == expected && quarantined == 0 && incomplete.is_empty(),
        tickets_stored: stored,
        distinct_numbers: distinct,
        quarantined,
        tills_incomplete: incomplete,
    })
}
