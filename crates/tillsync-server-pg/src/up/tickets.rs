//! Tickets on PostgreSQL: the idempotency record of received outbox items,
//! the SQL steps of filing a ticket ([`TicketSql`], the same steps as the
//! SQLite backend's `up/tickets.rs`; the rule is written once in
//! `tillsync_server_db::up::tickets`), journal lines, each till's ticket state with its
//! gaps, the ticket listing, the till overview and the table versions tills
//! report.

use postgres::Transaction;
use tillsync_core::ticket::Ticket;

use tillsync_db::StoreError;
use tillsync_db::ticket_rows::{FISCAL_TABLES, TRAINING_TABLES, TicketTables, whole_quantity};
use tillsync_server_db::tickets::{Outcome, Received, parse_status, status_word};
use tillsync_server_db::up::tickets::{ChainTables, FISCAL_CHAIN, TicketSteps};

/// The item received from `till` under `key`, if any. Takes the till's
/// lock first ([`super::lock_till`]): a batch that another server process
/// is filing for the same till is committed before this looks, so a batch
/// received twice at once is filed once and answered as a resend the
/// second time (whatever its items: tickets, customer changes, rows).
pub fn received(
    tx: &mut Transaction<'_>,
    till: &str,
    key: &str,
) -> Result<Option<Received>, StoreError> {
    super::lock_till(tx, till)?;
    let row = tx.query_opt(
        "SELECT status, reason, fingerprint FROM tillsync_received
         WHERE till_id = $1 AND key = $2",
        &[&till, &key],
    )?;
    row.map(|r| {
        Ok(Received {
            status: parse_status(r.get(0))?,
            reason: r.get(1),
            fingerprint: r.get(2),
        })
    })
    .transpose()
}

/// Record what was answered for `key` (the first answer stays, also when
/// another server process recorded it first).
pub fn record_received(
    tx: &mut Transaction<'_>,
    till: &str,
    key: &str,
    outcome: &Outcome,
    fingerprint: &str,
    at: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO tillsync_received(till_id, key, status, reason, at, fingerprint)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (till_id, key) DO NOTHING",
        &[
            &till,
            &key,
            &status_word(outcome.status),
            &outcome.reason,
            &at,
            &fingerprint,
        ],
    )?;
    Ok(())
}

/// A journal line written inside the caller's transaction.
pub fn journal_in(
    tx: &mut Transaction<'_>,
    kind: &str,
    till: Option<&str>,
    result: &str,
    detail: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO tillsync_journal(at, kind, till, result, detail) VALUES ($1, $2, $3, $4, $5)",
        &[&tillsync_db::now_rfc3339(), &kind, &till, &result, &detail],
    )?;
    Ok(())
}

/// The SQL steps of filing a ticket ([`tillsync_server_db::up::tickets`])
/// on PostgreSQL inside the caller's transaction, over the tables of one
/// chain (fiscal or training).
pub struct TicketSql<'a, 't> {
    /// The transaction.
    pub tx: &'a mut Transaction<'t>,
    chain: &'static ChainTables,
}

impl<'a, 't> TicketSql<'a, 't> {
    /// The steps inside `tx`, on the fiscal chain until told otherwise.
    pub fn new(tx: &'a mut Transaction<'t>) -> Self {
        TicketSql {
            tx,
            chain: &FISCAL_CHAIN,
        }
    }
}

/// The statement inserting a ticket and its rows in `tables`, as one
/// statement ([`TicketRows::ctes`]), counting the `TICKET` rows inserted.
fn insert_statement(tables: &TicketTables) -> String {
    format!("WITH {} SELECT count(*) FROM t", TicketRows::ctes(tables))
}

impl TicketSteps for TicketSql<'_, '_> {
    fn use_chain(&mut self, chain: &'static ChainTables) {
        self.chain = chain;
    }
    fn lock_till(&mut self, till: &str) -> Result<(), StoreError> {
        super::lock_till(self.tx, till)
    }
    fn verified(
        &mut self,
        till: &str,
        n: i64,
    ) -> Result<(Option<String>, Option<String>), StoreError> {
        let (mut this, mut before) = (None, None);
        for r in self.tx.query(
            &format!(
                r#"SELECT "number", "hash" FROM "{}"
                   WHERE "till_id" = $1 AND "number" BETWEEN $2 AND $3"#,
                self.chain.rows.ticket
            ),
            &[&till, &(n - 1), &n],
        )? {
            let (num, hash): (i64, String) = (r.get(0), r.get(1));
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
        let r = self.tx.query_one(
            &format!(
                "SELECT COUNT(*) > 0, COALESCE(bool_or(hash = $3), false)
                 FROM {} WHERE till_id = $1 AND number = $2",
                self.chain.quarantine
            ),
            &[&till, &number, &hash],
        )?;
        Ok((r.get(0), r.get(1)))
    }
    fn pending_link(&mut self, till: &str, number: i64) -> Result<Option<String>, StoreError> {
        Ok(self
            .tx
            .query_opt(
                &format!(
                    "SELECT prev_hash FROM {} WHERE till_id = $1 AND number = $2",
                    self.chain.pending
                ),
                &[&till, &number],
            )?
            .map(|r| r.get(0)))
    }
    fn quarantine_reason(
        &mut self,
        till: &str,
        number: i64,
        hash: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .tx
            .query_opt(
                &format!(
                    "SELECT reason FROM {}
                     WHERE till_id = $1 AND number = $2 AND hash = $3 ORDER BY id LIMIT 1",
                    self.chain.quarantine
                ),
                &[&till, &number, &hash],
            )?
            .map(|r| r.get(0)))
    }
    fn unreadable_reason(
        &mut self,
        till: &str,
        key: &str,
        payload: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .tx
            .query_opt(
                &format!(
                    "SELECT reason FROM {}
                     WHERE till_id = $1 AND item_key = $2 AND number IS NULL AND payload = $3
                     ORDER BY id LIMIT 1",
                    self.chain.quarantine
                ),
                &[&till, &key, &payload],
            )?
            .map(|r| r.get(0)))
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
        self.tx.execute(
            &format!(
                "INSERT INTO {}(till_id, number, item_key, hash, reason, payload, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                self.chain.quarantine
            ),
            &[&till, &number, &key, &hash, &reason, &payload, &at],
        )?;
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
            Some(h) => self.tx.execute(
                &format!(
                    "DELETE FROM {table} WHERE till_id = $1 AND number = $2 AND prev_hash = $3"
                ),
                &[&till, &number, &h],
            )?,
            None => self.tx.execute(
                &format!("DELETE FROM {table} WHERE till_id = $1 AND number = $2"),
                &[&till, &number],
            )?,
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
        static FISCAL: std::sync::LazyLock<String> =
            std::sync::LazyLock::new(|| insert_statement(&FISCAL_TABLES));
        static TRAINING: std::sync::LazyLock<String> =
            std::sync::LazyLock::new(|| insert_statement(&TRAINING_TABLES));
        let sql = if self.chain.rows == &TRAINING_TABLES {
            TRAINING.as_str()
        } else {
            FISCAL.as_str()
        };
        let rows = TicketRows::new(&[(till, n, corrects, t)]);
        let inserted: i64 = self.tx.query_one(sql, &rows.params(&at))?.get(0);
        Ok(inserted == 1)
    }
    fn insert_pending(&mut self, till: &str, n: i64, prev_hash: &str) -> Result<(), StoreError> {
        self.tx.execute(
            &format!(
                "INSERT INTO {}(till_id, number, prev_hash) VALUES ($1, $2, $3)",
                self.chain.pending
            ),
            &[&till, &n, &prev_hash],
        )?;
        Ok(())
    }
}

/// Tickets to insert, column by column: ticket rows (till, number, number
/// corrected, ticket) and their lines, payments and VAT totals (the rows
/// of `tillsync_db::ticket_rows::insert_ticket_details` on SQLite), bound
/// as arrays to [`TicketRows::ctes`]: one statement for all of them.
pub struct TicketRows<'a> {
    till: Vec<&'a str>,
    number: Vec<i64>,
    time: Vec<&'a str>,
    total: Vec<i64>,
    customer: Vec<Option<&'a str>>,
    corrects: Vec<Option<i64>>,
    prev: Vec<&'a str>,
    hash: Vec<&'a str>,
    signature: Vec<&'a str>,
    version: Vec<i64>,
    cashier: Vec<Option<&'a str>>,
    discount: Vec<i64>,
    change: Vec<i64>,
    l_till: Vec<&'a str>,
    l_n: Vec<i64>,
    l_no: Vec<i64>,
    l_item: Vec<&'a str>,
    l_label: Vec<&'a str>,
    l_qty: Vec<i64>,
    l_unit: Vec<i64>,
    l_vat: Vec<i64>,
    l_excl: Vec<i64>,
    l_incl: Vec<i64>,
    l_qty_milli: Vec<i64>,
    l_discount: Vec<i64>,
    l_voided: Vec<bool>,
    p_till: Vec<&'a str>,
    p_n: Vec<i64>,
    p_seq: Vec<i64>,
    p_method: Vec<&'a str>,
    p_amount: Vec<i64>,
    v_till: Vec<&'a str>,
    v_n: Vec<i64>,
    v_rate: Vec<i64>,
    v_base: Vec<i64>,
    v_vat: Vec<i64>,
    v_total: Vec<i64>,
    v_discount: Vec<i64>,
}

impl<'a> TicketRows<'a> {
    /// The common table expressions that insert the rows in `tables`,
    /// binding `$1` to `$39` ([`TicketRows::params`]); `t` returns one row
    /// per ticket row inserted (a number already there is skipped, and then
    /// its details fail on their keys).
    pub fn ctes(tables: &TicketTables) -> String {
        format!(
            r#"t AS (
          INSERT INTO "{t}"("till_id", "number", "time", "total_cents", "customer",
            "corrects", "prev_hash", "hash", "signature", "version", "cashier",
            "discount_cents", "change_cents", "received_at")
          SELECT u.*, $10 FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::bigint[],
            $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[], $11::bigint[],
            $12::text[], $13::bigint[], $14::bigint[]) AS u
          ON CONFLICT ("till_id", "number") DO NOTHING
          RETURNING 1),
        l AS (
          INSERT INTO "{l}"("till_id", "number", "line_no", "item", "label", "quantity",
            "unit_price_cents", "vat_rate_bp", "total_excl_cents", "total_incl_cents",
            "quantity_milli", "discount_cents", "voided")
          SELECT * FROM UNNEST($15::text[], $16::bigint[], $17::bigint[], $18::text[],
            $19::text[], $20::bigint[], $21::bigint[], $22::bigint[], $23::bigint[],
            $24::bigint[], $25::bigint[], $26::bigint[], $27::boolean[])),
        p AS (
          INSERT INTO "{p}"("till_id", "number", "seq", "method", "amount_cents")
          SELECT * FROM UNNEST($28::text[], $29::bigint[], $30::bigint[], $31::text[],
            $32::bigint[])),
        v AS (
          INSERT INTO "{v}"("till_id", "number", "rate_bp", "base_cents", "vat_cents",
            "total_cents", "discount_cents")
          SELECT * FROM UNNEST($33::text[], $34::bigint[], $35::bigint[], $36::bigint[],
            $37::bigint[], $38::bigint[], $39::bigint[]))"#,
            t = tables.ticket,
            l = tables.line,
            p = tables.payment,
            v = tables.vat
        )
    }

    /// The columns of `tickets` (till, number, number corrected, ticket).
    pub fn new(tickets: &[(&'a str, i64, Option<i64>, &'a Ticket)]) -> Self {
        let mut r = TicketRows {
            till: vec![],
            number: vec![],
            time: vec![],
            total: vec![],
            customer: vec![],
            corrects: vec![],
            prev: vec![],
            hash: vec![],
            signature: vec![],
            version: vec![],
            cashier: vec![],
            discount: vec![],
            change: vec![],
            l_till: vec![],
            l_n: vec![],
            l_no: vec![],
            l_item: vec![],
            l_label: vec![],
            l_qty: vec![],
            l_unit: vec![],
            l_vat: vec![],
            l_excl: vec![],
            l_incl: vec![],
            l_qty_milli: vec![],
            l_discount: vec![],
            l_voided: vec![],
            p_till: vec![],
            p_n: vec![],
            p_seq: vec![],
            p_method: vec![],
            p_amount: vec![],
            v_till: vec![],
            v_n: vec![],
            v_rate: vec![],
            v_base: vec![],
            v_vat: vec![],
            v_total: vec![],
            v_discount: vec![],
        };
        for &(till, n, corrects, t) in tickets {
            r.till.push(till);
            r.number.push(n);
            r.time.push(&t.time);
            r.total.push(t.total_cents);
            r.customer.push(t.customer.as_deref());
            r.corrects.push(corrects);
            r.prev.push(&t.prev_hash);
            r.hash.push(&t.hash);
            r.signature.push(&t.signature);
            r.version.push(i64::from(t.version));
            r.cashier.push(t.cashier.as_deref());
            r.discount.push(t.discount_cents);
            r.change.push(t.change_cents);
            for (i, x) in t.lines.iter().enumerate() {
                r.l_till.push(till);
                r.l_n.push(n);
                r.l_no.push(i as i64 + 1);
                r.l_item.push(&x.item);
                r.l_label.push(&x.label);
                r.l_qty.push(whole_quantity(x.quantity_milli));
                r.l_unit.push(x.unit_price_cents);
                r.l_vat.push(x.vat_rate_bp);
                r.l_excl.push(x.total_excl_cents);
                r.l_incl.push(x.total_incl_cents);
                r.l_qty_milli.push(x.quantity_milli);
                r.l_discount.push(x.discount_cents);
                r.l_voided.push(x.voided);
            }
            for (i, p) in t.payments.iter().enumerate() {
                r.p_till.push(till);
                r.p_n.push(n);
                r.p_seq.push(i as i64 + 1);
                r.p_method.push(&p.method);
                r.p_amount.push(p.amount_cents);
            }
            for v in &t.vat_totals {
                r.v_till.push(till);
                r.v_n.push(n);
                r.v_rate.push(v.rate_bp);
                r.v_base.push(v.base_cents);
                r.v_vat.push(v.vat_cents);
                r.v_total.push(v.total_cents);
                r.v_discount.push(v.discount_cents);
            }
        }
        r
    }

    /// `$1` to `$39` of [`TicketRows::ctes`], `at` the time received.
    pub fn params<'s>(&'s self, at: &'s &'s str) -> Vec<&'s (dyn postgres::types::ToSql + Sync)> {
        vec![
            &self.till,
            &self.number,
            &self.time,
            &self.total,
            &self.customer,
            &self.corrects,
            &self.prev,
            &self.hash,
            &self.signature,
            at,
            &self.version,
            &self.cashier,
            &self.discount,
            &self.change,
            &self.l_till,
            &self.l_n,
            &self.l_no,
            &self.l_item,
            &self.l_label,
            &self.l_qty,
            &self.l_unit,
            &self.l_vat,
            &self.l_excl,
            &self.l_incl,
            &self.l_qty_milli,
            &self.l_discount,
            &self.l_voided,
            &self.p_till,
            &self.p_n,
            &self.p_seq,
            &self.p_method,
            &self.p_amount,
            &self.v_till,
            &self.v_n,
            &self.v_rate,
            &self.v_base,
            &self.v_vat,
            &self.v_total,
            &self.v_discount,
        ]
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::up::listings::*;
    use tillsync_core::ticket::GENESIS_HASH;
    use tillsync_server_db::tickets::Gap;
    use tillsync_server_db::tills::TillRow;
    use tillsync_wire::api::TillTable;

    /// The rule written once, over this backend's steps.
    fn store_ticket(
        tx: &mut Transaction<'_>,
        till: &str,
        key: &str,
        ticket: &Ticket,
        payload: &str,
        check: Result<(), String>,
        at: &str,
    ) -> Result<Outcome, StoreError> {
        tillsync_server_db::up::tickets::store_ticket(
            &mut TicketSql::new(tx),
            till,
            key,
            ticket,
            payload,
            check,
            at,
        )
    }

    fn quarantine_unreadable(
        tx: &mut Transaction<'_>,
        till: &str,
        key: &str,
        payload: &str,
        reason: &str,
        at: &str,
    ) -> Result<Outcome, StoreError> {
        tillsync_server_db::up::tickets::quarantine_unreadable(
            &mut TicketSql::new(tx),
            till,
            key,
            payload,
            reason,
            at,
        )
    }
    use crate::up::testpg::TestDb;
    use postgres::Client;
    use tillsync_core::ticket::{Payment, TicketLine, VatTotal};
    use tillsync_wire::api::ItemStatus;

    /// Tickets 1..=n of T001, chained (hashes are stand-ins: the store
    /// relies on the web service for the hash and signature check).
    pub(crate) fn chain(n: usize) -> Vec<Ticket> {
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
                    lines: vec![
                        TicketLine {
                            item: "A".into(),
                            label: "a".into(),
                            quantity_milli: 2000,
                            unit_price_cents: 100,
                            vat_rate_bp: 2000,
                            discount_cents: 0,
                            voided: false,
                            total_excl_cents: 167,
                            total_incl_cents: 200,
                        },
                        TicketLine {
                            item: "B".into(),
                            label: "b".into(),
                            quantity_milli: 1000,
                            unit_price_cents: 50,
                            vat_rate_bp: 550,
                            discount_cents: 0,
                            voided: false,
                            total_excl_cents: 47,
                            total_incl_cents: 50,
                        },
                    ],
                    vat_totals: vec![
                        VatTotal {
                            rate_bp: 550,
                            discount_cents: 0,
                            base_cents: 47,
                            vat_cents: 3,
                            total_cents: 50,
                        },
                        VatTotal {
                            rate_bp: 2000,
                            discount_cents: 0,
                            base_cents: 167,
                            vat_cents: 33,
                            total_cents: 200,
                        },
                    ],
                    total_cents: 250,
                    payments: vec![Payment {
                        method: "cash".into(),
                        amount_cents: 250,
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

    fn put(tx: &mut Transaction<'_>, t: &Ticket) -> Outcome {
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

    fn with_tx<T>(c: &mut Client, f: impl FnOnce(&mut Transaction<'_>) -> T) -> T {
        let mut tx = c.transaction().unwrap();
        let r = f(&mut tx);
        tx.commit().unwrap();
        r
    }

    fn count(c: &mut Client, sql: &str) -> i64 {
        c.query_one(sql, &[]).unwrap().get(0)
    }

    #[test]
    fn gaps_pending_links_and_late_arrivals() {
        let Some(db) = TestDb::new() else { return };
        let mut c = db.client();
        let t = chain(6);
        with_tx(&mut c, |tx| {
            for i in [0, 1, 4, 5] {
                assert_eq!(put(tx, &t[i]).status, ItemStatus::Accepted);
            }
        });
        let s = &ticket_state(&mut c, None).unwrap()[0];
        assert_eq!(s.highest_contiguous, 2);
        assert_eq!(s.highest_received, 6);
        assert_eq!(s.tickets_received, 4);
        assert_eq!(s.missing, [Gap { first: 3, last: 4 }]);
        assert_eq!(s.links_pending, 1);
        with_tx(&mut c, |tx| {
            assert_eq!(put(tx, &t[3]).status, ItemStatus::Accepted);
            assert_eq!(put(tx, &t[2]).status, ItemStatus::Accepted);
            assert_eq!(put(tx, &t[2]).status, ItemStatus::Duplicate);
        });
        let s = &ticket_state(&mut c, Some("T001")).unwrap()[0];
        assert_eq!(
            (s.highest_contiguous, s.links_pending, s.verified),
            (6, 0, 6)
        );
        assert!(s.missing.is_empty());
        assert!(ticket_state(&mut c, Some("T002")).unwrap().is_empty());
        let list = ticket_list(&mut c, None).unwrap();
        assert_eq!(list.len(), 6);
        assert!(
            list.iter()
                .all(|l| l.status == "verified" && l.link == Some("verified"))
        );
        assert_eq!(list[0].total_cents, Some(250));
        // The details: two lines, one payment, two VAT totals per ticket.
        assert_eq!(count(&mut c, r#"SELECT COUNT(*) FROM "TICKET_LINE""#), 12);
        assert_eq!(count(&mut c, r#"SELECT COUNT(*) FROM "TICKET_PAYMENT""#), 6);
        assert_eq!(count(&mut c, r#"SELECT COUNT(*) FROM "TICKET_VAT""#), 12);
        let r = c
            .query_one(
                r#"SELECT "item", "quantity", "total_incl_cents" FROM "TICKET_LINE"
                   WHERE "till_id" = 'T001' AND "number" = 3 AND "line_no" = 2"#,
                &[],
            )
            .unwrap();
        assert_eq!(
            (
                r.get::<_, String>(0),
                r.get::<_, i64>(1),
                r.get::<_, i64>(2)
            ),
            ("B".into(), 1, 50)
        );
    }

    #[test]
    fn broken_links_reused_numbers_and_bad_checks_are_quarantined() {
        let Some(db) = TestDb::new() else { return };
        let mut c = db.client();
        let t = chain(4);
        let mut other = chain(4);
        other[1].hash = "ff".repeat(32); // other content
        with_tx(&mut c, |tx| {
            put(tx, &t[0]);
            put(tx, &t[1]);
            // Number 2 again with other content.
            let o = put(tx, &other[1]);
            assert_eq!(o.status, ItemStatus::Quarantined);
            assert!(o.reason.unwrap().contains("number reused"));
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
            // The same content again under another key: same answer, kept once.
            let o =
                store_ticket(tx, "T001", "k2", &t[2], "{}", Err("other".into()), "now").unwrap();
            assert_eq!(o.reason.as_deref(), Some("bad sig"));
            // The real 3, checked good, then fits both neighbours.
            assert_eq!(put(tx, &t[2]).status, ItemStatus::Accepted);
        });
        let s = &ticket_state(&mut c, None).unwrap()[0];
        assert_eq!(s.quarantined, 3);
        assert_eq!(s.verified, 4);
        assert!(s.missing.is_empty(), "{s:?}");
        assert_eq!(s.links_pending, 0);
        let list = ticket_list(&mut c, Some("T001")).unwrap();
        assert_eq!(list.iter().filter(|l| l.status == "quarantined").count(), 3);
        assert_eq!(list[0].time.as_deref(), Some("2026-01-01T00:00:00Z"));
        let q: Vec<_> = list.iter().filter(|l| l.status == "quarantined").collect();
        // Read from the kept payload; "{}" has no time.
        assert_eq!(q[0].number, Some(2));
        assert_eq!(q[0].time.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert!(
            q.iter()
                .any(|l| l.time.is_none() && l.key.as_deref() == Some("k"))
        );
    }

    #[test]
    fn first_ticket_must_name_genesis_and_numbers_must_fit() {
        let Some(db) = TestDb::new() else { return };
        let mut c = db.client();
        let t = chain(2);
        with_tx(&mut c, |tx| {
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
        let s = &ticket_state(&mut c, None).unwrap()[0];
        assert_eq!((s.verified, s.quarantined), (0, 3));
        // The one without a usable number is listed, not counted as received.
        assert_eq!(s.tickets_received, 1);
        let list = ticket_list(&mut c, None).unwrap();
        assert_eq!(list.last().unwrap().number, None);
    }

    #[test]
    fn received_keeps_the_first_answer_and_till_tables_are_replaced() {
        let Some(db) = TestDb::new() else { return };
        let mut c = db.client();
        with_tx(&mut c, |tx| {
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
            journal_in(tx, "push", Some("T001"), "ok", "1 item(s)").unwrap();
        });
        let s = &ticket_state(&mut c, None).unwrap()[0];
        assert_eq!(s.rejected, 1);
        assert!(s.last_push.is_some());
        let tt = |v| TillTable {
            table: "ART".into(),
            version: v,
            layout_hash: None,
        };
        record_till_tables(&mut c, "T001", &[tt(Some(3))]).unwrap();
        record_till_tables(&mut c, "T001", &[tt(Some(4))]).unwrap();
        let r = till_tables(&mut c).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].version, Some(4));
        let row = |id: &str| TillRow {
            till_id: id.into(),
            store: "S01".into(),
            issued_at: None,
            revoked_at: None,
            last_contact: None,
            key_id: None,
            enrolment_expires_at: None,
        };
        let o = till_overview(&mut c, vec![row("T001"), row("T002")]).unwrap();
        assert_eq!(o.len(), 2);
        assert_eq!((o[0].tickets.rejected, o[0].tables.len()), (1, 1));
        assert_eq!(
            (o[1].tickets.till_id.as_str(), o[1].tables.len()),
            ("T002", 0)
        );
    }

    /// Two server processes file the same batch at the same time: each
    /// ticket is stored once, every answer is accepted or duplicate, and
    /// the idempotency record keeps one answer per key.
    #[test]
    fn two_connections_racing_the_same_batch_store_each_ticket_once() {
        let Some(db) = TestDb::new() else { return };
        let t = chain(40);
        let unreadable = "{not a ticket";
        let run = |mut c: Client, barrier: &std::sync::Barrier| -> Vec<ItemStatus> {
            barrier.wait();
            let mut tx = c.transaction().unwrap();
            let mut out = Vec::new();
            for tk in &t {
                let key = format!("ticket:{}", tk.number);
                if let Some(r) = received(&mut tx, "T001", &key).unwrap() {
                    out.push(r.resend_outcome().status);
                    continue;
                }
                let o = put(&mut tx, tk);
                record_received(&mut tx, "T001", &key, &o, "f", "now").unwrap();
                out.push(o.status);
            }
            let o = quarantine_unreadable(&mut tx, "T001", "bad", unreadable, "unreadable", "now")
                .unwrap();
            out.push(o.status);
            journal_in(&mut tx, "push", Some("T001"), "ok", "batch").unwrap();
            tx.commit().unwrap();
            out
        };
        let barrier = std::sync::Barrier::new(2);
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| run(db.client(), &barrier));
            let b = s.spawn(|| run(db.client(), &barrier));
            (a.join().unwrap(), b.join().unwrap())
        });
        let mut c = db.client();
        assert_eq!(count(&mut c, r#"SELECT COUNT(*) FROM "TICKET""#), 40);
        assert_eq!(count(&mut c, r#"SELECT COUNT(*) FROM "TICKET_LINE""#), 80);
        assert_eq!(count(&mut c, r#"SELECT COUNT(*) FROM "TICKET_VAT""#), 80);
        assert_eq!(
            count(&mut c, r#"SELECT COUNT(*) FROM "TICKET_PAYMENT""#),
            40
        );
        assert_eq!(
            count(&mut c, "SELECT COUNT(*) FROM tillsync_ticket_quarantine"),
            1
        );
        assert_eq!(count(&mut c, "SELECT COUNT(*) FROM tillsync_received"), 40);
        for i in 0..40 {
            let pair = [a[i], b[i]];
            assert!(
                pair.contains(&ItemStatus::Accepted)
                    && pair
                        .iter()
                        .all(|s| matches!(s, ItemStatus::Accepted | ItemStatus::Duplicate)),
                "ticket {}: {pair:?}",
                i + 1
            );
        }
        // One of the two filed the whole batch; the other answered duplicates.
        assert!(
            a[..40].iter().all(|s| *s == ItemStatus::Accepted)
                || b[..40].iter().all(|s| *s == ItemStatus::Accepted)
        );
        let s = &ticket_state(&mut c, None).unwrap()[0];
        assert_eq!(
            (s.verified, s.highest_contiguous, s.links_pending),
            (40, 40, 0)
        );
    }

    /// What a PostgreSQL restart does to a batch in flight: the server
    /// ends the connection; the transaction is gone whole, the error says
    /// "retry", and the till's resend is filed once (a second resend, after
    /// an answer lost on the way back, is answered as duplicates).
    #[test]
    fn a_connection_cut_mid_batch_leaves_nothing_and_the_resend_files_each_once() {
        let Some(db) = TestDb::new() else { return };
        let t = chain(10);
        let file = |tx: &mut Transaction<'_>, tk: &Ticket| -> Result<ItemStatus, StoreError> {
            let key = format!("ticket:{}", tk.number);
            if let Some(r) = received(tx, "T001", &key)? {
                return Ok(r.resend_outcome().status);
            }
            let payload = serde_json::to_string(tk).unwrap();
            let o = store_ticket(tx, "T001", &key, tk, &payload, Ok(()), "now")?;
            record_received(tx, "T001", &key, &o, "f", "now")?;
            Ok(o.status)
        };
        let mut c = db.client();
        let pid: i32 = c.query_one("SELECT pg_backend_pid()", &[]).unwrap().get(0);
        let mut tx = c.transaction().unwrap();
        for tk in &t[..5] {
            assert_eq!(file(&mut tx, tk).unwrap(), ItemStatus::Accepted);
        }
        let mut admin = db.client();
        admin
            .execute("SELECT pg_terminate_backend($1)", &[&pid])
            .unwrap();
        let e = file(&mut tx, &t[5]).unwrap_err();
        assert!(super::super::is_retryable(&e), "{e}");
        assert!(tx.commit().is_err());
        drop(c);
        let mut c = db.client();
        assert_eq!(count(&mut c, r#"SELECT COUNT(*) FROM "TICKET""#), 0);
        assert_eq!(count(&mut c, "SELECT COUNT(*) FROM tillsync_received"), 0);
        for expected in [ItemStatus::Accepted, ItemStatus::Duplicate] {
            let mut tx = c.transaction().unwrap();
            for tk in &t {
                assert_eq!(file(&mut tx, tk).unwrap(), expected);
            }
            tx.commit().unwrap();
        }
        assert_eq!(count(&mut c, r#"SELECT COUNT(*) FROM "TICKET""#), 10);
        assert_eq!(count(&mut c, r#"SELECT COUNT(*) FROM "TICKET_LINE""#), 20);
        // Data errors are not worth a retry.
        let e = StoreError::Postgres(c.execute("SELECT 1 / 0", &[]).unwrap_err());
        assert!(!super::super::is_retryable(&e));
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

    fn put_training(tx: &mut Transaction<'_>, t: &Ticket) -> Outcome {
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
        let Some(db) = TestDb::new() else { return };
        let mut c = db.client();
        let f = chain(2);
        let t1 = training(&f[0], GENESIS_HASH);
        let t2 = training(&f[1], &t1.hash);
        with_tx(&mut c, |tx| {
            assert_eq!(put(tx, &f[0]).status, ItemStatus::Accepted);
            assert_eq!(put_training(tx, &t1).status, ItemStatus::Accepted);
            assert_eq!(put_training(tx, &t2).status, ItemStatus::Accepted);
            assert_eq!(put_training(tx, &t2).status, ItemStatus::Duplicate);
            assert_eq!(put(tx, &f[1]).status, ItemStatus::Accepted);
            let mut bad = training(&f[1], &f[1].hash);
            bad.number = 3;
            bad.hash = "ee".repeat(32);
            let o = put_training(tx, &bad);
            assert!(o.reason.unwrap().contains("chain broken"));
        });
        let s = &ticket_state(&mut c, None).unwrap()[0];
        assert_eq!((s.verified, s.quarantined, s.tickets_received), (2, 0, 2));
        assert_eq!((s.training, s.training_quarantined), (2, 1));
        assert!(s.missing.is_empty() && s.links_pending == 0, "{s:?}");
        assert_eq!(ticket_list(&mut c, None).unwrap().len(), 2);
        assert_eq!(
            count(&mut c, r#"SELECT COUNT(*) FROM "TRAINING_TICKET_LINE""#),
            4
        );
    }

    #[test]
    fn version_2_fields_are_stored() {
        let Some(db) = TestDb::new() else { return };
        let mut c = db.client();
        let mut t = chain(1).remove(0);
        t.cashier = Some("Marie".into());
        t.change_cents = 50;
        t.discount_cents = 10;
        t.lines[0].quantity_milli = 1485;
        t.lines[0].discount_cents = 7;
        t.lines[0].voided = true;
        t.vat_totals[0].discount_cents = 10;
        with_tx(&mut c, |tx| {
            assert_eq!(put(tx, &t).status, ItemStatus::Accepted);
        });
        let r = c
            .query_one(
                r#"SELECT "version", "cashier", "discount_cents", "change_cents" FROM "TICKET""#,
                &[],
            )
            .unwrap();
        assert_eq!(
            (
                r.get::<_, i64>(0),
                r.get::<_, Option<String>>(1),
                r.get::<_, i64>(2),
                r.get::<_, i64>(3)
            ),
            (2, Some("Marie".into()), 10, 50)
        );
        let r = c
            .query_one(
                r#"SELECT "quantity", "quantity_milli", "discount_cents", "voided" FROM "TICKET_LINE"
                   WHERE "line_no" = 1"#,
                &[],
            )
            .unwrap();
        assert_eq!(
            (
                r.get::<_, i64>(0),
                r.get::<_, i64>(1),
                r.get::<_, i64>(2),
                r.get::<_, bool>(3)
            ),
            (1, 1485, 7, true)
        );
        assert_eq!(
            count(
                &mut c,
                r#"SELECT "discount_cents" FROM "TICKET_VAT" WHERE "rate_bp" = 550"#
            ),
            10
        );
    }
}
