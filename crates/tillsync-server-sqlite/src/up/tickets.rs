//! Server tables of the up path: tickets as an ERP reads them (`TICKET`,
//! `TICKET_LINE`, `TICKET_PAYMENT`, `TICKET_VAT`), the quarantine of tickets
//! that failed verification, the idempotency record of received outbox
//! items, the gaps of each till's numbering and the table versions tills
//! report.
//!
//! # How a received ticket is filed
//! The web service checks a ticket's hash and signature before it takes the
//! database; `tillsync_server_db::up::tickets::store_ticket` then files it
//! inside the batch's transaction, by the rule of `tillsync_core::chain`,
//! over the SQL steps of [`TicketSql`] (the PostgreSQL backend's
//! `up/tickets.rs` has the same steps in its SQL).
//!
//! Rows of `TICKET` and its detail tables are never updated nor deleted.
//! Gaps count every number received, verified or quarantined: a quarantined
//! ticket did arrive, and is reported apart.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tillsync_core::ticket::Ticket;
use tillsync_wire::api::TillTable;

use crate::db::ServerDb;
use tillsync_db::StoreError;
use tillsync_db::ticket_rows::insert_ticket_details;
use tillsync_server_db::tickets::Gap;
use tillsync_server_db::tickets::Outcome;
use tillsync_server_db::tickets::Received;
use tillsync_server_db::tickets::TicketListing;
use tillsync_server_db::tickets::TillTickets;
use tillsync_server_db::tickets::parse_status;
use tillsync_server_db::tickets::status_word;
use tillsync_server_db::tills::ReportedTable;
use tillsync_server_db::tills::TillOverview;
use tillsync_server_db::up::tickets::{ChainTables, FISCAL_CHAIN, TicketSteps};

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

/// The SQL steps of filing a ticket ([`tillsync_server_db::up::tickets`])
/// on a SQLite connection inside the caller's transaction, over the tables
/// of one chain (fiscal or training).
pub struct TicketSql<'c> {
    /// The connection (in a transaction).
    pub conn: &'c Connection,
    chain: &'static ChainTables,
}

impl<'c> TicketSql<'c> {
    /// The steps over `conn`, on the fiscal chain until told otherwise.
    pub fn new(conn: &'c Connection) -> Self {
        TicketSql {
            conn,
            chain: &FISCAL_CHAIN,
        }
    }
}

impl TicketSteps for TicketSql<'_> {
    fn use_chain(&mut self, chain: &'static ChainTables) {
        self.chain = chain;
    }
    fn lock_till(&mut self, _till: &str) -> Result<(), StoreError> {
        // SQLite's write transactions are already one at a time.
        Ok(())
    }
    fn verified(
        &mut self,
        till: &str,
        n: i64,
    ) -> Result<(Option<String>, Option<String>), StoreError> {
        let (mut this, mut before) = (None, None);
        let mut stmt = self.conn.prepare_cached(&format!(
            r#"SELECT "number", "hash" FROM "{}"
               WHERE "till_id" = ?1 AND "number" BETWEEN ?2 AND ?3"#,
            self.chain.rows.ticket
        ))?;
        let mut rows = stmt.query(params![till, n - 1, n])?;
        while let Some(r) = rows.next()? {
            let (num, hash): (i64, String) = (r.get(0)?, r.get(1)?);
            if num == n {
                this = Some(hash);
            } else {
                before = Some(hash);
            }
        }
        Ok((this, before))
    }
    fn quarantined(
        &mut self,
        till: &str,
        number: i64,
        hash: &str,
    ) -> Result<(bool, bool), StoreError> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT COUNT(*) > 0, COALESCE(SUM(hash = ?3), 0) > 0
                 FROM {} WHERE till_id = ?1 AND number = ?2",
                self.chain.quarantine
            ))?
            .query_row(params![till, number, hash], |r| Ok((r.get(0)?, r.get(1)?)))?)
    }
    fn pending_link(&mut self, till: &str, number: i64) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT prev_hash FROM {} WHERE till_id = ?1 AND number = ?2",
                self.chain.pending
            ))?
            .query_row(params![till, number], |r| r.get(0))
            .optional()?)
    }
    fn quarantine_reason(
        &mut self,
        till: &str,
        number: i64,
        hash: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT reason FROM {}
                 WHERE till_id = ?1 AND number = ?2 AND hash = ?3 ORDER BY id LIMIT 1",
                self.chain.quarantine
            ))?
            .query_row(params![till, number, hash], |r| r.get(0))
            .optional()?)
    }
    fn unreadable_reason(
        &mut self,
        till: &str,
        key: &str,
        payload: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT reason FROM {}
                 WHERE till_id = ?1 AND item_key = ?2 AND number IS NULL AND payload = ?3
                 ORDER BY id LIMIT 1",
                self.chain.quarantine
            ))?
            .query_row(params![till, key, payload], |r| r.get(0))
            .optional()?)
    }
    fn insert_quarantine(
        &mut self,
        till: &str,
        number: Option<i64>,
        key: &str,
        hash: Option<&str>,
        reason: &str,
        payload: &str,
        at: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(&format!(
                "INSERT INTO {}(till_id, number, item_key, hash, reason, payload, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                self.chain.quarantine
            ))?
            .execute(params![till, number, key, hash, reason, payload, at])?;
        Ok(())
    }
    fn drop_pending(
        &mut self,
        till: &str,
        number: i64,
        prev_hash: Option<&str>,
    ) -> Result<(), StoreError> {
        let table = self.chain.pending;
        match prev_hash {
            Some(h) => self
                .conn
                .prepare_cached(&format!(
                    "DELETE FROM {table} WHERE till_id = ?1 AND number = ?2 AND prev_hash = ?3"
                ))?
                .execute(params![till, number, h])?,
            None => self
                .conn
                .prepare_cached(&format!(
                    "DELETE FROM {table} WHERE till_id = ?1 AND number = ?2"
                ))?
                .execute(params![till, number])?,
        };
        Ok(())
    }
    fn insert_ticket(
        &mut self,
        till: &str,
        n: i64,
        corrects: Option<i64>,
        t: &Ticket,
        at: &str,
    ) -> Result<bool, StoreError> {
        // One writer at a time: the number read as absent is still absent.
        self.conn
            .prepare_cached(&format!(
                r#"INSERT INTO "{}"("till_id", "number", "time", "total_cents", "customer",
                     "corrects", "prev_hash", "hash", "signature", "received_at", "version",
                     "cashier", "discount_cents", "change_cents")
                   VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"#,
                self.chain.rows.ticket
            ))?
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
                at,
                t.version,
                t.cashier,
                t.discount_cents,
                t.change_cents
            ])?;
        insert_ticket_details(self.conn, self.chain.rows, till, n, t)?;
        Ok(true)
    }
    fn insert_pending(&mut self, till: &str, n: i64, prev_hash: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(&format!(
                "INSERT INTO {}(till_id, number, prev_hash) VALUES (?1, ?2, ?3)",
                self.chain.pending
            ))?
            .execute(params![till, n, prev_hash])?;
        Ok(())
    }
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
        let counts: [(&str, Setter); 6] = [
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
            (
                r#"SELECT "till_id", COUNT(*) FROM "TRAINING_TICKET" WHERE ?1 IS NULL OR "till_id" = ?1 GROUP BY 1"#,
                |e, n| e.training = n,
            ),
            (
                "SELECT till_id, COUNT(*) FROM tillsync_training_quarantine
                 WHERE ?1 IS NULL OR till_id = ?1 GROUP BY 1",
                |e, n| e.training_quarantined = n,
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
    use tillsync_core::ticket::GENESIS_HASH;

    /// The rule written once, over this backend's steps.
    fn store_ticket(
        conn: &Connection,
        till: &str,
        key: &str,
        ticket: &Ticket,
        payload: &str,
        check: Result<(), String>,
        at: &str,
    ) -> Result<Outcome, StoreError> {
        tillsync_server_db::up::tickets::store_ticket(
            &mut TicketSql::new(conn),
            till,
            key,
            ticket,
            payload,
            check,
            at,
        )
    }
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
                    version: 2,
                    training: false,
                    cashier: None,
                    discount_cents: 0,
                    change_cents: 0,
                    till: "T001".into(),
                    number: i,
                    time: "2026-01-01T00:00:00Z".into(),
                    lines: vec![TicketLine {
                        item: "A".into(),
                        label: "a".into(),
                        quantity_milli: 2000,
                        unit_price_cents: 100,
                        vat_rate_bp: 2000,
                        discount_cents: 0,
                        voided: false,
                        total_excl_cents: 167,
                        total_incl_cents: 200,
                    }],
                    vat_totals: vec![VatTotal {
                        rate_bp: 2000,
                        discount_cents: 0,
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

    /// `t` made a training ticket of the same number (stand-in hashes of
    /// their own), chained on `prev`.
    fn training(t: &Ticket, prev: &str) -> Ticket {
        Ticket {
            training: true,
            prev_hash: prev.to_string(),
            hash: format!("{:064x}", 0x7000 + t.number),
            ..t.clone()
        }
    }

    fn put_training(tx: &Transaction<'_>, t: &Ticket) -> Outcome {
        let payload = serde_json::to_string(t).unwrap();
        store_ticket(
            tx,
            "T001",
            &format!("training:{}", t.number),
            t,
            &payload,
            Ok(()),
            "now",
        )
        .unwrap()
    }

    #[test]
    fn training_tickets_are_filed_in_their_own_chain_and_counts() {
        let (_d, mut db) = db();
        let f = chain(2);
        let t1 = training(&f[0], GENESIS_HASH);
        let t2 = training(&f[1], &t1.hash);
        with_tx(&mut db, |tx| {
            assert_eq!(put(tx, &f[0]).status, ItemStatus::Accepted);
            assert_eq!(put_training(tx, &t1).status, ItemStatus::Accepted);
            assert_eq!(put_training(tx, &t2).status, ItemStatus::Accepted);
            assert_eq!(put_training(tx, &t2).status, ItemStatus::Duplicate);
            assert_eq!(put(tx, &f[1]).status, ItemStatus::Accepted);
            // A training ticket chained on a fiscal hash: broken, in the
            // training quarantine.
            let mut bad = training(&f[1], &f[1].hash);
            bad.number = 3;
            bad.hash = "ee".repeat(32);
            let o = put_training(tx, &bad);
            assert!(o.reason.unwrap().contains("chain broken"));
        });
        let s = &db.ticket_state(None).unwrap()[0];
        assert_eq!((s.verified, s.quarantined, s.tickets_received), (2, 0, 2));
        assert_eq!((s.training, s.training_quarantined), (2, 1));
        assert!(s.missing.is_empty() && s.links_pending == 0, "{s:?}");
        // server tickets lists the fiscal tickets only.
        let list = db.ticket_list(None).unwrap();
        assert_eq!(list.len(), 2);
        assert!(
            list.iter()
                .all(|l| l.hash.as_deref() != Some(t1.hash.as_str()))
        );
        let n: i64 = db
            .conn()
            .query_row(r#"SELECT COUNT(*) FROM "TRAINING_TICKET_LINE""#, [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(n, 2);
    }

    #[test]
    fn version_2_fields_are_stored() {
        let (_d, mut db) = db();
        let mut t = chain(1).remove(0);
        t.cashier = Some("Marie".into());
        t.change_cents = 50;
        t.discount_cents = 10;
        t.lines[0].quantity_milli = 1485;
        t.lines[0].discount_cents = 7;
        t.lines[0].voided = true;
        t.vat_totals[0].discount_cents = 10;
        with_tx(&mut db, |tx| {
            assert_eq!(put(tx, &t).status, ItemStatus::Accepted);
        });
        let head: (i64, Option<String>, i64, i64) = db
            .conn()
            .query_row(
                r#"SELECT "version", "cashier", "discount_cents", "change_cents" FROM "TICKET""#,
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(head, (2, Some("Marie".into()), 10, 50));
        let line: (i64, i64, i64, bool) = db
            .conn()
            .query_row(
                r#"SELECT "quantity", "quantity_milli", "discount_cents", "voided" FROM "TICKET_LINE""#,
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(line, (1, 1485, 7, true));
        let vat: i64 = db
            .conn()
            .query_row(r#"SELECT "discount_cents" FROM "TICKET_VAT""#, [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(vat, 10);
    }
}
