//! Whether a closed period may be purged from the till
//! ([`tillsync_core::fiscal::purge`]): the archives its event log records,
//! what the outbox and the error list still hold (not acknowledged by the
//! server), and where each chain begins on the till, read in one transaction.

use rusqlite::Connection;
use tillsync_core::fiscal::closing::ClosingBody;
use tillsync_core::fiscal::event::EventKind;
use tillsync_core::fiscal::ledger::{PeriodName, select};
use tillsync_core::fiscal::purge::{Archived, Held, PurgePlan, purge_plan};
use tillsync_core::fiscal::record::{CLOSING_CHAIN, EVENT_CHAIN};
use tillsync_db::StoreError;

use crate::fiscal::records::records_after;

/// The lowest number (after `prefix`) of the outbox items and set-aside
/// items whose key starts with `prefix` (`ticket:`, `record:event:`…).
fn lowest_pending(conn: &Connection, prefix: &str) -> Result<Option<u64>, StoreError> {
    let mut lowest: Option<u64> = None;
    for table in ["tillsync_outbox", "tillsync_outbox_errors"] {
        let mut stmt = conn.prepare(&format!(
            r#"SELECT "key" FROM "{table}" WHERE substr("key", 1, ?2) = ?1"#
        ))?;
        let keys = stmt.query_map(rusqlite::params![prefix, prefix.len() as i64], |r| {
            r.get::<_, String>(0)
        })?;
        for k in keys {
            if let Ok(n) = k?[prefix.len()..].parse::<u64>() {
                lowest = Some(lowest.map_or(n, |l| l.min(n)));
            }
        }
    }
    Ok(lowest)
}

/// The number before the first record of `table` still held (0 when none
/// was purged or the table is empty).
fn held_after(conn: &Connection, table: &str, col: &str, till: &str) -> Result<u64, StoreError> {
    let first: Option<i64> = conn.query_row(
        &format!(r#"SELECT MIN("{col}") FROM "{table}" WHERE "till_id" = ?1"#),
        [till],
        |r| r.get(0),
    )?;
    Ok(first.map_or(0, |f| (f as u64).saturating_sub(1)))
}

/// What a purge of everything up to the end of `period` would remove, if
/// the rule allows it ([`StoreError::Invalid`] with the reason otherwise).
pub fn purge_check(
    conn: &Connection,
    till: &str,
    period: &PeriodName,
) -> Result<PurgePlan, StoreError> {
    let tx = conn.unchecked_transaction()?;
    let bodies = records_after(&tx, CLOSING_CHAIN, till, 0, None)?
        .iter()
        .map(|r| ClosingBody::from_json(r.seq, &r.body).map(|b| (r.seq, b)))
        .collect::<Result<Vec<_>, _>>()?;
    let sel = select(&bodies, period)?;
    let archives: Vec<Archived> =
        records_after(&tx, EVENT_CHAIN, till, 0, Some(EventKind::Archive.code()))?
            .iter()
            .filter_map(|e| {
                serde_json::from_str(&e.body)
                    .ok()
                    .and_then(|b| Archived::from_body(&b))
            })
            .collect();
    let held = [
        Held {
            after: held_after(&tx, "TICKET", "number", till)?,
            unacknowledged: lowest_pending(&tx, "ticket:")?,
        },
        Held {
            after: held_after(&tx, "EVENT_LOG", "seq", till)?,
            unacknowledged: lowest_pending(&tx, "record:event:")?,
        },
        Held {
            after: held_after(&tx, "CLOSING", "seq", till)?,
            unacknowledged: lowest_pending(&tx, "record:closing:")?,
        },
    ];
    tx.finish()?;
    purge_plan(&sel, held, &archives).map_err(|e| StoreError::Invalid(e.to_string()))
}
