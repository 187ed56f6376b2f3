//! Server tables of the up path: tickets as an ERP reads them (`TICKET`,
//! `TICKET_LINE`, `TICKET_PAYMENT`, `TICKET_VAT`), the quarantine of tickets
//! that failed verification, the idempotency record of received outbox
//! items, the gaps of each till's numbering and the table versions tills
//! report.
//!
//! # How a received ticket is filed
//! The web service checks a ticket's hash and signature before it takes the
//! database ([`TicketCheck`]); [`store_ticket`] then decides, inside the
//! batch's transaction:
//! - hash or signature wrong → quarantine;
//! - its number already in `TICKET`: same hash → duplicate (nothing
//!   changes); another hash → quarantine ("number reused");
//! - the link backwards: ticket 1 must name [`GENESIS_HASH`]; ticket N must
//!   name the hash of ticket N−1 when N−1 is in `TICKET` (else quarantine).
//!   When N−1 has not arrived yet (a gap), N is stored with its link
//!   *pending* (`tillsync_ticket_link_pending`); a quarantined N−1 whose
//!   hash N names also closes the link;
//! - the link forwards: when N+1 arrived earlier with a pending link, N must
//!   have the hash N+1 names (else N goes to quarantine and N+1's link stays
//!   pending until a ticket N that fits arrives).
//!
//! Rows of `TICKET` and its detail tables are never updated nor deleted.
//! Gaps count every number received, verified or quarantined: a quarantined
//! ticket did arrive, and is reported apart.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tillsync_core::ticket::{GENESIS_HASH, Ticket};
use tillsync_wire::api::TillTable;

use crate::ServerDb;
use tillsync_db::StoreError;
use tillsync_db::ticket_rows::insert_ticket_details;
use tillsync_server_db::tickets::Gap;
use tillsync_server_db::tickets::Outcome;
use tillsync_server_db::tickets::Received;
use tillsync_server_db::tickets::TicketCheck;
use tillsync_server_db::tickets::TicketListing;
use tillsync_server_db::tickets::TillTickets;
use tillsync_server_db::tickets::parse_status;
use tillsync_server_db::tickets::status_word;
use tillsync_server_db::tills::ReportedTable;
use tillsync_server_db::tills::TillOverview;

/// Schema migration of the up path (server migration 3).
pub(crate) const SCHEMA: &str = r#"
CREATE TABLE "TICKET"(
    "till_id" TEXT NOT NULL, "number" INTEGER NOT NULL, "time" TEXT NOT NULL,
    "total_cents" INTEGER NOT NULL, "customer" TEXT, "corrects" INTEGER,
    "prev_hash" TEXT NOT NULL, "hash" TEXT NOT NULL, "signature" TEXT NOT NULL,
    "received_at" TEXT NOT NULL,
    UNIQUE ("till_id", "number"));
CREATE TABLE "TICKET_LINE"(
    "till_id" TEXT NOT NULL, "number" INTEGER NOT NULL, "line_no" INTEGER NOT NULL,
    "item" TEXT NOT NULL, "label" TEXT NOT NULL, "quantity" INTEGER NOT NULL,
    "unit_price_cents" INTEGER NOT NULL, "vat_rate_bp" INTEGER NOT NULL,
    "total_excl_cents" INTEGER NOT NULL, "total_incl_cents" INTEGER NOT NULL,
    PRIMARY KEY ("till_id", "number", "line_no")) WITHOUT ROWID;
CREATE TABLE "TICKET_PAYMENT"(
    "till_id" TEXT NOT NULL, "number" INTEGER NOT NULL, "seq" INTEGER NOT NULL,
    "method" TEXT NOT NULL, "amount_cents" INTEGER NOT NULL,
    PRIMARY KEY ("till_id", "number", "seq")) WITHOUT ROWID;
CREATE TABLE "TICKET_VAT"(
    "till_id" TEXT NOT NULL, "number" INTEGER NOT NULL, "rate_bp" INTEGER NOT NULL,
    "base_cents" INTEGER NOT NULL, "vat_cents" INTEGER NOT NULL, "total_cents" INTEGER NOT NULL,
    PRIMARY KEY ("till_id", "number", "rate_bp")) WITHOUT ROWID;
CREATE TABLE tillsync_ticket_quarantine(
    id INTEGER PRIMARY KEY, till_id TEXT NOT NULL, number INTEGER, item_key TEXT NOT NULL,
    hash TEXT, reason TEXT NOT NULL, payload TEXT NOT NULL, received_at TEXT NOT NULL);
CREATE INDEX tillsync_ticket_quarantine_by_number ON tillsync_ticket_quarantine(till_id, number);
CREATE TABLE tillsync_ticket_link_pending(
    till_id TEXT NOT NULL, number INTEGER NOT NULL, prev_hash TEXT NOT NULL,
    PRIMARY KEY (till_id, number)) WITHOUT ROWID;
CREATE TABLE tillsync_received(
    till_id TEXT NOT NULL, key TEXT NOT NULL, status TEXT NOT NULL, reason TEXT,
    at TEXT NOT NULL, fingerprint TEXT,
    PRIMARY KEY (till_id, key)) WITHOUT ROWID;
CREATE TABLE tillsync_till_tables(
    till_id TEXT NOT NULL, tbl TEXT NOT NULL, version INTEGER, layout_hash TEXT,
    reported_at TEXT NOT NULL,
    PRIMARY KEY (till_id, tbl)) WITHOUT ROWID;
"#;

/// The item received from `till` under `key`, if any.
pub fn received(conn: &Connection, till: &str, key: &str) -> Result<Option<Received>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT status, reason, fingerprint FROM tillsync_received
             WHERE till_id = ?1 AND key = ?2",
        )?
        .query_row(params![till, key], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })
        .optional()?;
    row.map(|(status, reason, fingerprint)| {
        Ok(Received {
            status: parse_status(&status)?,
            reason,
            fingerprint,
        })
    })
    .transpose()
}

/// Record what was answered for `key` (the first answer stays).
pub fn record_received(
    conn: &Connection,
    till: &str,
    key: &str,
    outcome: &Outcome,
    fingerprint: &str,
    at: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO tillsync_received(till_id, key, status, reason, at, fingerprint)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        till,
        key,
        status_word(outcome.status),
        outcome.reason,
        at,
        fingerprint
    ])?;
    Ok(())
}

/// A journal line written inside the caller's transaction.
pub fn journal_in(
    conn: &Connection,
    kind: &str,
    till: Option<&str>,
    result: &str,
    detail: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO tillsync_journal(at, kind, till, result, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        tillsync_db::now_rfc3339(),
        kind,
        till,
        result,
        detail
    ])?;
    Ok(())
}

/// Keep in quarantine something sent as a ticket that cannot be read as
/// one (its number unknown). Returns the outcome to answer.
pub fn quarantine_unreadable(
    conn: &Connection,
    till: &str,
    key: &str,
    payload: &str,
    reason: &str,
    at: &str,
) -> Result<Outcome, StoreError> {
    insert_quarantine(conn, till, None, key, None, reason, payload, at)?;
    Ok(Outcome::quarantined(reason.to_string()))
}

#[allow(clippy::too_many_arguments)]
fn insert_quarantine(
    conn: &Connection,
    till: &str,
    number: Option<i64>,
    key: &str,
    hash: Option<&str>,
    reason: &str,
    payload: &str,
    at: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO tillsync_ticket_quarantine(till_id, number, item_key, hash, reason, payload, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![till, number, key, hash, reason, payload, at])?;
    Ok(())
}

/// File one ticket of `till` (see the module documentation): in `TICKET`
/// and its detail tables, or in quarantine. `payload` is the ticket as
/// received (kept in quarantine); `check` is the result of the hash and
/// signature check. The caller has checked that `ticket.till == till`.
pub fn store_ticket(
    conn: &Connection,
    till: &str,
    key: &str,
    ticket: &Ticket,
    payload: &str,
    check: TicketCheck,
    at: &str,
) -> Result<Outcome, StoreError> {
    let n = match i64::try_from(ticket.number) {
        Ok(n) if (1..i64::MAX).contains(&n) => n,
        _ => {
            let reason = format!(
                "ticket number {} is out of range (numbers start at 1)",
                ticket.number
            );
            return quarantine_unreadable(conn, till, key, payload, &reason, at);
        }
    };
    let quarantine = |reason: String| -> Result<Outcome, StoreError> {
        // The same content quarantined before (under another key): same answer.
        let earlier: Option<String> = conn
            .prepare_cached(
                "SELECT reason FROM tillsync_ticket_quarantine
                 WHERE till_id = ?1 AND number = ?2 AND hash = ?3 ORDER BY id LIMIT 1",
            )?
            .query_row(params![till, n, ticket.hash], |r| r.get(0))
            .optional()?;
        if let Some(reason) = earlier {
            return Ok(Outcome::quarantined(reason));
        }
        insert_quarantine(
            conn,
            till,
            Some(n),
            key,
            Some(&ticket.hash),
            &reason,
            payload,
            at,
        )?;
        // A quarantined ticket still closes the pending link of the next
        // one when that one names its hash: the chain itself is intact.
        conn.prepare_cached(
            "DELETE FROM tillsync_ticket_link_pending
             WHERE till_id = ?1 AND number = ?2 AND prev_hash = ?3",
        )?
        .execute(params![till, n + 1, ticket.hash])?;
        Ok(Outcome::quarantined(reason))
    };
    if let Err(reason) = check {
        return quarantine(reason);
    }
    let Ok(corrects) = ticket.corrects.map(i64::try_from).transpose() else {
        return quarantine(format!(
            "ticket {till}/{n}: the number of the ticket it corrects is out of range"
        ));
    };
    // This number and the one before, if received and verified.
    let mut this: Option<String> = None;
    let mut before: Option<String> = None;
    {
        let mut stmt = conn.prepare_cached(
            r#"SELECT "number", "hash" FROM "TICKET"
               WHERE "till_id" = ?1 AND "number" BETWEEN ?2 AND ?3"#,
        )?;
        let mut rows = stmt.query(params![till, n - 1, n])?;
        while let Some(r) = rows.next()? {
            let (num, hash): (i64, String) = (r.get(0)?, r.get(1)?);
            if num == n {
                this = Some(hash);
            } else {
                before = Some(hash);
            }
        }
    }
    if let Some(hash) = this {
        return if hash == ticket.hash {
            Ok(Outcome::duplicate())
        } else {
            quarantine(format!(
                "ticket {till}/{n}: this number was already received with different content (number reused)"
            ))
        };
    }
    // The link backwards.
    let expected = if n == 1 {
        Some(GENESIS_HASH.to_string())
    } else {
        before
    };
    let pending = match expected {
        Some(e) if e == ticket.prev_hash => false,
        Some(e) => {
            return quarantine(format!(
                "ticket {till}/{n}: chain broken (previous hash {}, but ticket {} has hash {e})",
                ticket.prev_hash,
                n - 1
            ));
        }
        None => {
            // The previous ticket is not verified: in quarantine (its hash is
            // still known, the link must match it) or not arrived (a gap:
            // the link is checked when it comes).
            let (in_quarantine, linked): (bool, bool) = conn
                .prepare_cached(
                    "SELECT COUNT(*) > 0, COALESCE(SUM(hash = ?3), 0) > 0
                     FROM tillsync_ticket_quarantine WHERE till_id = ?1 AND number = ?2",
                )?
                .query_row(params![till, n - 1, ticket.prev_hash], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
            if in_quarantine && !linked {
                return quarantine(format!(
                    "ticket {till}/{n}: chain broken (previous hash {}, which is not the hash of ticket {} held in quarantine)",
                    ticket.prev_hash,
                    n - 1
                ));
            }
            !linked
        }
    };
    // The link forwards, when the next ticket arrived first.
    let next: Option<String> = conn
        .prepare_cached(
            "SELECT prev_hash FROM tillsync_ticket_link_pending WHERE till_id = ?1 AND number = ?2",
        )?
        .query_row(params![till, n + 1], |r| r.get(0))
        .optional()?;
    if let Some(next_prev) = next {
        if next_prev != ticket.hash {
            return quarantine(format!(
                "ticket {till}/{n}: chain broken (ticket {}, received earlier, names previous hash {next_prev}, but this ticket's hash is {})",
                n + 1,
                ticket.hash
            ));
        }
        conn.prepare_cached(
            "DELETE FROM tillsync_ticket_link_pending WHERE till_id = ?1 AND number = ?2",
        )?
        .execute(params![till, n + 1])?;
    }
    insert_ticket(conn, till, n, corrects, ticket, at)?;
    if pending {
        conn.prepare_cached(
            "INSERT INTO tillsync_ticket_link_pending(till_id, number, prev_hash) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![till, n, ticket.prev_hash])?;
    }
    Ok(Outcome::accepted())
}

fn insert_ticket(
    conn: &Connection,
    till: &str,
    n: i64,
    corrects: Option<i64>,
    t: &Ticket,
    at: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        r#"INSERT INTO "TICKET"("till_id", "number", "time", "total_cents", "customer",
             "corrects", "prev_hash", "hash", "signature", "received_at")
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"#,
    )?
    .execute(params![
        till,
        n,
        t.time,
        t.total_cents,
        t.customer,
        corrects,
        t.prev_hash,
        t.hash,
        t.signature,
        at
    ])?;
    insert_ticket_details(conn, till, n, t)
}

fn u(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl ServerDb {
    /// Tickets received (verified and quarantined), by till and number; of
    /// one till with `till`.
    pub fn ticket_list(&self, till: Option<&str>) -> Result<Vec<TicketListing>, StoreError> {
        let mut stmt = self.conn().prepare(
            r#"SELECT till_id, number, time, total_cents, status, pending, hash, received_at,
                      reason, item_key
               FROM (
                 SELECT t."till_id" AS till_id, t."number" AS number, t."time" AS time,
                        t."total_cents" AS total_cents, 'verified' AS status,
                        EXISTS(SELECT 1 FROM tillsync_ticket_link_pending p
                               WHERE p.till_id = t."till_id" AND p.number = t."number") AS pending,
                        t."hash" AS hash, t."received_at" AS received_at, NULL AS reason,
                        NULL AS item_key, 0 AS src, 0 AS id
                 FROM "TICKET" t WHERE ?1 IS NULL OR t."till_id" = ?1
                 UNION ALL
                 SELECT q.till_id, q.number,
                        CASE WHEN json_valid(q.payload) THEN json_extract(q.payload, '$.time') END,
                        CASE WHEN json_valid(q.payload) THEN json_extract(q.payload, '$.total_cents') END,
                        'quarantined', 0, q.hash, q.received_at, q.reason, q.item_key, 1, q.id
                 FROM tillsync_ticket_quarantine q WHERE ?1 IS NULL OR q.till_id = ?1)
               ORDER BY till_id, number IS NULL, number, src, id"#,
        )?;
        let rows = stmt.query_map([till], |r| {
            let status: String = r.get(4)?;
            let verified = status == "verified";
            let time: Option<rusqlite::types::Value> = r.get(2)?;
            let total: Option<rusqlite::types::Value> = r.get(3)?;
            Ok(TicketListing {
                till: r.get(0)?,
                number: r.get::<_, Option<i64>>(1)?.map(u),
                time: match time {
                    Some(rusqlite::types::Value::Text(s)) => Some(s),
                    _ => None,
                },
                total_cents: match total {
                    Some(rusqlite::types::Value::Integer(i)) => Some(i),
                    _ => None,
                },
                status: if verified { "verified" } else { "quarantined" },
                link: verified.then(|| {
                    if r.get::<_, bool>(5).unwrap_or(false) {
                        "pending"
                    } else {
                        "verified"
                    }
                }),
                hash: r.get(6)?,
                received_at: r.get(7)?,
                reason: r.get(8)?,
                key: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Per till that sent anything: tickets received, highest contiguous
    /// number, the missing ranges (computed in SQL), quarantined and
    /// rejected counts. Of one till with `till`.
    pub fn ticket_state(&self, till: Option<&str>) -> Result<Vec<TillTickets>, StoreError> {
        let conn = self.conn();
        let mut by_till: BTreeMap<String, TillTickets> = BTreeMap::new();
        fn entry(m: &mut BTreeMap<String, TillTickets>, id: String) -> &mut TillTickets {
            m.entry(id.clone()).or_insert_with(|| TillTickets {
                till_id: id,
                ..Default::default()
            })
        }
        {
            let mut stmt = conn.prepare(
                r#"WITH nums AS (
                     SELECT "till_id" AS till_id, "number" AS number FROM "TICKET"
                     WHERE ?1 IS NULL OR "till_id" = ?1
                     UNION
                     SELECT till_id, number FROM tillsync_ticket_quarantine
                     WHERE number IS NOT NULL AND (?1 IS NULL OR till_id = ?1))
                   SELECT till_id, COUNT(*), MAX(number) FROM nums GROUP BY till_id"#,
            )?;
            let mut rows = stmt.query([till])?;
            while let Some(r) = rows.next()? {
                let e = entry(&mut by_till, r.get(0)?);
                e.tickets_received = u(r.get(1)?);
                e.highest_received = u(r.get(2)?);
                e.highest_contiguous = e.highest_received;
            }
        }
        {
            let mut stmt = conn.prepare(
                r#"WITH nums AS (
                     SELECT "till_id" AS till_id, "number" AS number FROM "TICKET"
                     WHERE ?1 IS NULL OR "till_id" = ?1
                     UNION
                     SELECT till_id, number FROM tillsync_ticket_quarantine
                     WHERE number IS NOT NULL AND (?1 IS NULL OR till_id = ?1)),
                   ordered AS (
                     SELECT till_id, number,
                            LAG(number, 1, 0) OVER (PARTITION BY till_id ORDER BY number) AS prev
                     FROM nums)
                   SELECT till_id, prev + 1, number - 1 FROM ordered
                   WHERE number > prev + 1 ORDER BY till_id, number"#,
            )?;
            let mut rows = stmt.query([till])?;
            while let Some(r) = rows.next()? {
                let e = entry(&mut by_till, r.get(0)?);
                let gap = Gap {
                    first: u(r.get(1)?),
                    last: u(r.get(2)?),
                };
                if e.missing.is_empty() {
                    e.highest_contiguous = gap.first - 1;
                }
                e.missing.push(gap);
            }
        }
        type Setter = fn(&mut TillTickets, u64);
        let counts: [(&str, Setter); 4] = [
            (
                r#"SELECT "till_id", COUNT(*) FROM "TICKET" WHERE ?1 IS NULL OR "till_id" = ?1 GROUP BY 1"#,
                |e, n| e.verified = n,
            ),
            (
                "SELECT till_id, COUNT(*) FROM tillsync_ticket_quarantine
                 WHERE ?1 IS NULL OR till_id = ?1 GROUP BY 1",
                |e, n| e.quarantined = n,
            ),
            (
                "SELECT till_id, COUNT(*) FROM tillsync_received
                 WHERE status = 'rejected' AND (?1 IS NULL OR till_id = ?1) GROUP BY 1",
                |e, n| e.rejected = n,
            ),
            (
                "SELECT till_id, COUNT(*) FROM tillsync_ticket_link_pending
                 WHERE ?1 IS NULL OR till_id = ?1 GROUP BY 1",
                |e, n| e.links_pending = n,
            ),
        ];
        for (sql, set) in counts {
            let mut stmt = conn.prepare(sql)?;
            let mut rows = stmt.query([till])?;
            while let Some(r) = rows.next()? {
                set(entry(&mut by_till, r.get(0)?), u(r.get(1)?));
            }
        }
        {
            let mut stmt = conn.prepare(
                "SELECT till, MAX(at) FROM tillsync_journal
                 WHERE kind = 'push' AND till IS NOT NULL AND (?1 IS NULL OR till = ?1) GROUP BY 1",
            )?;
            let mut rows = stmt.query([till])?;
            while let Some(r) = rows.next()? {
                entry(&mut by_till, r.get(0)?).last_push = r.get(1)?;
            }
        }
        Ok(by_till.into_values().collect())
    }

    /// Every till of `STORE_TILL` with its credentials, last contact,
    /// tickets (received, highest contiguous, missing, quarantined), rejected
    /// items and the table versions it reported.
    pub fn till_overview(&self) -> Result<Vec<TillOverview>, StoreError> {
        let mut tickets: BTreeMap<String, TillTickets> = self
            .ticket_state(None)?
            .into_iter()
            .map(|t| (t.till_id.clone(), t))
            .collect();
        let mut tables: BTreeMap<String, Vec<ReportedTable>> = BTreeMap::new();
        for t in self.till_tables()? {
            tables.entry(t.till_id.clone()).or_default().push(t);
        }
        let mut outbox: BTreeMap<String, tillsync_server_db::reports::OutboxReport> = self
            .till_reports()?
            .into_iter()
            .map(|r| (r.till_id.clone(), r))
            .collect();
        Ok(self
            .tills()?
            .into_iter()
            .map(|till| TillOverview {
                tickets: tickets
                    .remove(&till.till_id)
                    .unwrap_or_else(|| TillTickets {
                        till_id: till.till_id.clone(),
                        ..Default::default()
                    }),
                tables: tables.remove(&till.till_id).unwrap_or_default(),
                outbox: outbox.remove(&till.till_id),
                till,
            })
            .collect())
    }

    /// Record the table versions a till reported holding (in its
    /// "which packages are available" call), replacing what it said before.
    pub fn record_till_tables(
        &mut self,
        till: &str,
        tables: &[TillTable],
    ) -> Result<(), StoreError> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = tillsync_db::now_rfc3339();
        tx.execute(
            "DELETE FROM tillsync_till_tables WHERE till_id = ?1",
            [till],
        )?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO tillsync_till_tables(till_id, tbl, version, layout_hash, reported_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for t in tables {
                stmt.execute(params![
                    till,
                    t.table,
                    t.version.and_then(|v| i64::try_from(v).ok()),
                    t.layout_hash,
                    now
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Table versions the tills last reported, by till and table.
    pub fn till_tables(&self) -> Result<Vec<ReportedTable>, StoreError> {
        let mut stmt = self.conn().prepare(
            "SELECT till_id, tbl, version, layout_hash, reported_at FROM tillsync_till_tables
             ORDER BY till_id, tbl",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(ReportedTable {
                till_id: r.get(0)?,
                table: r.get(1)?,
                version: r.get::<_, Option<i64>>(2)?.map(u),
                layout_hash: r.get(3)?,
                reported_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Transaction;
    use tillsync_core::ticket::{Payment, TicketLine, VatTotal};
    use tillsync_wire::api::ItemStatus;

    fn db() -> (tempfile::TempDir, ServerDb) {
        let dir = tempfile::tempdir().unwrap();
        let db = ServerDb::open(&dir.path().join("server.db")).unwrap();
        (dir, db)
    }

    /// Tickets 1..=n of T001, chained (hashes are stand-ins: the store
    /// relies on the web service for the hash and signature check).
    fn chain(n: usize) -> Vec<Ticket> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n as u64)
            .map(|i| {
                let t = Ticket {
                    till: "T001".into(),
                    number: i,
                    time: "2026-01-01T00:00:00Z".into(),
                    lines: vec![TicketLine {
                        item: "A".into(),
                        label: "a".into(),
                        quantity: 2,
                        unit_price_cents: 100,
                        vat_rate_bp: 2000,
                        total_excl_cents: 167,
                        total_incl_cents: 200,
                    }],
                    vat_totals: vec![VatTotal {
                        rate_bp: 2000,
                        base_cents: 167,
                        vat_cents: 33,
                        total_cents: 200,
                    }],
                    total_cents: 200,
                    payments: vec![Payment {
                        method: "cash".into(),
                        amount_cents: 200,
                    }],
                    customer: None,
                    corrects: None,
                    prev_hash: prev.clone(),
                    hash: format!("{i:064x}"),
                    signature: String::new(),
                };
                prev = t.hash.clone();
                t
            })
            .collect()
    }

    fn put(tx: &Transaction<'_>, t: &Ticket) -> Outcome {
        let payload = serde_json::to_string(t).unwrap();
        store_ticket(
            tx,
            "T001",
            &format!("ticket:{}", t.number),
            t,
            &payload,
            Ok(()),
            "now",
        )
        .unwrap()
    }

    fn with_tx<T>(db: &mut ServerDb, f: impl FnOnce(&Transaction<'_>) -> T) -> T {
        let tx = db.conn_mut().transaction().unwrap();
        let r = f(&tx);
        tx.commit().unwrap();
        r
    }

    #[test]
    fn gaps_pending_links_and_late_arrivals() {
        let (_d, mut db) = db();
        let t = chain(6);
        with_tx(&mut db, |tx| {
            for i in [0, 1, 4, 5] {
                assert_eq!(put(tx, &t[i]).status, ItemStatus::Accepted);
            }
        });
        let s = &db.ticket_state(None).unwrap()[0];
        assert_eq!(s.highest_contiguous, 2);
        assert_eq!(s.missing, [Gap { first: 3, last: 4 }]);
        assert_eq!(s.links_pending, 1);
        assert_eq!(s.missing[0].to_string(), "missing tickets 3–4");
        with_tx(&mut db, |tx| {
            assert_eq!(put(tx, &t[3]).status, ItemStatus::Accepted);
            assert_eq!(put(tx, &t[2]).status, ItemStatus::Accepted);
            assert_eq!(put(tx, &t[2]).status, ItemStatus::Duplicate);
        });
        let s = &db.ticket_state(Some("T001")).unwrap()[0];
        assert_eq!(
            (s.highest_contiguous, s.links_pending, s.verified),
            (6, 0, 6)
        );
        assert!(s.missing.is_empty());
        let list = db.ticket_list(None).unwrap();
        assert_eq!(list.len(), 6);
        assert!(
            list.iter()
                .all(|l| l.status == "verified" && l.link == Some("verified"))
        );
    }

    #[test]
    fn broken_links_reused_numbers_and_bad_checks_are_quarantined() {
        let (_d, mut db) = db();
        let t = chain(4);
        let mut other = chain(4);
        other[1].hash = "ff".repeat(32); // other content
        with_tx(&mut db, |tx| {
            put(tx, &t[0]);
            put(tx, &t[1]);
            // Number 2 again with other content.
            let o = put(tx, &other[1]);
            assert_eq!(o.status, ItemStatus::Quarantined);
            assert!(o.reason.unwrap().contains("number reused"), "");
            // 4 arrives before 3 (pending), then a 3 that does not fit 4.
            assert_eq!(put(tx, &t[3]).status, ItemStatus::Accepted);
            let mut bad3 = t[2].clone();
            bad3.hash = "ab".repeat(32);
            let o = put(tx, &bad3);
            assert_eq!(o.status, ItemStatus::Quarantined);
            assert!(o.reason.unwrap().contains("chain broken"));
            // A ticket whose signature check failed.
            let o =
                store_ticket(tx, "T001", "k", &t[2], "{}", Err("bad sig".into()), "now").unwrap();
            assert_eq!(o.reason.as_deref(), Some("bad sig"));
            // The real 3, checked good, then fits both neighbours.
            assert_eq!(put(tx, &t[2]).status, ItemStatus::Accepted);
        });
        let s = &db.ticket_state(None).unwrap()[0];
        assert_eq!(s.quarantined, 3);
        assert_eq!(s.verified, 4);
        assert!(s.missing.is_empty(), "{s:?}");
        assert_eq!(s.links_pending, 0);
        let list = db.ticket_list(Some("T001")).unwrap();
        assert_eq!(list.iter().filter(|l| l.status == "quarantined").count(), 3);
        assert_eq!(list[0].time.as_deref(), Some("2026-01-01T00:00:00Z"));
    }

    #[test]
    fn first_ticket_must_name_genesis_and_numbers_must_fit() {
        let (_d, mut db) = db();
        let t = chain(2);
        with_tx(&mut db, |tx| {
            let mut first = t[1].clone();
            first.number = 1;
            let o = put(tx, &first);
            assert_eq!(o.status, ItemStatus::Quarantined);
            let mut huge = t[0].clone();
            huge.number = u64::MAX;
            assert!(put(tx, &huge).reason.unwrap().contains("out of range"));
            let mut corrects = t[0].clone();
            corrects.corrects = Some(u64::MAX);
            assert!(put(tx, &corrects).reason.unwrap().contains("out of range"));
        });
        let s = &db.ticket_state(None).unwrap()[0];
        assert_eq!((s.verified, s.quarantined), (0, 3));
        // The one without a usable number is listed, not counted as received.
        assert_eq!(s.tickets_received, 1);
        let list = db.ticket_list(None).unwrap();
        assert_eq!(list.last().unwrap().number, None);
    }

    #[test]
    fn received_keeps_the_first_answer_and_till_tables_are_replaced() {
        let (_d, mut db) = db();
        with_tx(&mut db, |tx| {
            let o = Outcome {
                status: ItemStatus::Rejected,
                reason: Some("why".into()),
            };
            record_received(tx, "T001", "k", &o, "f", "now").unwrap();
            record_received(tx, "T001", "k", &Outcome::accepted(), "g", "now").unwrap();
            let r = received(tx, "T001", "k").unwrap().unwrap();
            assert_eq!(r.resend_outcome(), o);
            assert_eq!(r.fingerprint.as_deref(), Some("f"));
            assert!(received(tx, "T002", "k").unwrap().is_none());
        });
        let tt = |v| TillTable {
            table: "ART".into(),
            version: v,
            layout_hash: None,
        };
        db.record_till_tables("T001", &[tt(Some(3))]).unwrap();
        db.record_till_tables("T001", &[tt(Some(4))]).unwrap();
        let r = db.till_tables().unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].version, Some(4));
    }
}
