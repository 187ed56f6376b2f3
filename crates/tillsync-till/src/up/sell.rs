//! Selling on the till, offline included: a sale is priced from the local
//! `ART`, numbered (gap-free per till), chained to the previous ticket,
//! signed with the till's key, stored in `TICKET` and queued in the outbox —
//! all in one transaction, or nothing at all.
//!
//! [`sell`] is the one-shot entry (`till sell`); a cashier front end keeps a
//! [`Register`] open and calls [`Register::sell`] for each sale.

use std::path::Path;

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use tillsync_core::TillConfig;
use tillsync_core::ticket::{Payment, PricedItem, Sale, Ticket};
use tillsync_till_db::TillDb;
use tillsync_till_db::up as till_up;

use crate::error::TillError;
use crate::files::DB_FILE;

/// One line asked for: an item code and a quantity (negative on a correction).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleLine {
    /// Item code (`ART.code`).
    pub item: String,
    /// Quantity.
    pub quantity: i64,
}

/// One payment asked for; without an amount it takes what is left to pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalePayment {
    /// Method (`cash`, `card`…).
    pub method: String,
    /// Amount in cents; `None`: the rest of the total (at most one payment).
    #[serde(default)]
    pub amount_cents: Option<i64>,
}

/// A sale as a cashier rings it up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleRequest {
    /// Lines, in the order rung up.
    pub lines: Vec<SaleLine>,
    /// Payments.
    #[serde(default)]
    pub payments: Vec<SalePayment>,
    /// Customer code (must be in the till's `CLI`).
    #[serde(default)]
    pub customer: Option<String>,
    /// Number of the ticket this sale corrects: its lines are negative and
    /// priced as on that ticket.
    #[serde(default)]
    pub corrects: Option<u64>,
}

/// Record one sale for the till in `dir` (opens its configuration and
/// database). No network is used.
pub fn sell(dir: &Path, req: &SaleRequest) -> Result<Ticket, TillError> {
    Register::open(dir)?.sell(req)
}

/// Record one sale with an open configuration and database.
pub fn sell_with(
    cfg: &TillConfig,
    db: &mut TillDb,
    req: &SaleRequest,
) -> Result<Ticket, TillError> {
    let key = cfg.auth.signing_key()?;
    sell_in(&cfg.till.id, &key, db, req)
}

/// A till ready to sell: its identity, ticket key and open database, for a
/// cashier front end that records many sales.
pub struct Register {
    till: String,
    key: SigningKey,
    db: TillDb,
}

impl Register {
    /// Open the till in `dir`.
    pub fn open(dir: &Path) -> Result<Self, TillError> {
        let cfg = TillConfig::load(dir)?;
        let db = TillDb::open(&dir.join(DB_FILE))?;
        Self::new(&cfg, db)
    }

    /// A register over an open database.
    pub fn new(cfg: &TillConfig, db: TillDb) -> Result<Self, TillError> {
        Ok(Register {
            till: cfg.till.id.clone(),
            key: cfg.auth.signing_key()?,
            db,
        })
    }

    /// Record one sale (see [`SaleRequest`]); on any error nothing is recorded.
    pub fn sell(&mut self, req: &SaleRequest) -> Result<Ticket, TillError> {
        sell_in(&self.till, &self.key, &mut self.db, req)
    }

    /// The till database.
    pub fn db(&self) -> &TillDb {
        &self.db
    }
}

fn refuse(msg: impl Into<String>) -> TillError {
    TillError::Sale(msg.into())
}

fn sell_in(
    till: &str,
    key: &SigningKey,
    db: &mut TillDb,
    req: &SaleRequest,
) -> Result<Ticket, TillError> {
    check_shape(req)?;
    // A clock behind the newest record is said in the event log; the sale goes on.
    db.note_clock(till, key, &tillsync_db::now_rfc3339())?;
    let ticket = db.record_sale(till, |tx, number, prev| {
        let lines = match req.corrects {
            None => price_from_art(tx, req)?,
            Some(n) => price_from_original(tx, till, n, req)?,
        };
        if let Some(c) = &req.customer
            && !till_up::row_exists(tx, "CLI", "code", c)?
        {
            return Err(refuse(format!(
                "unknown customer {c}: it is not in the till's CLI table"
            )));
        }
        let mut total: i64 = 0;
        for (item, qty) in &lines {
            total = item
                .price_cents
                .checked_mul(*qty)
                .and_then(|t| t.checked_add(total))
                .ok_or_else(|| refuse("amounts are too large"))?;
        }
        let payments = resolve_payments(&req.payments, total)?;
        let sale = Sale {
            lines,
            payments,
            customer: req.customer.clone(),
            corrects: req.corrects,
        };
        sale.seal(till, number, &tillsync_db::now_rfc3339(), prev, key)
            .map_err(|e| refuse(e.to_string()))
    })?;
    tracing::debug!(
        till,
        number = ticket.number,
        total_cents = ticket.total_cents,
        "sale recorded"
    );
    Ok(ticket)
}

/// Checks that need no database: lines present, quantities non-zero and of
/// the right sign, one payment at most without an amount.
fn check_shape(req: &SaleRequest) -> Result<(), TillError> {
    if req.lines.is_empty() {
        return Err(refuse("a ticket needs at least one line"));
    }
    for l in &req.lines {
        if l.item.trim().is_empty() {
            return Err(refuse("an item code is empty"));
        }
        let bad = |why: &str| {
            refuse(format!(
                "quantity {} for item {} is not allowed: {why}",
                l.quantity, l.item
            ))
        };
        if l.quantity == 0 {
            return Err(bad("it is zero"));
        }
        match req.corrects {
            None if l.quantity < 0 => {
                return Err(bad(
                    "negative quantities belong on a correction ticket (--corrects N)",
                ));
            }
            Some(_) if l.quantity > 0 => {
                return Err(bad("a correction ticket holds negative quantities"));
            }
            _ => {}
        }
    }
    if let Some(c) = &req.customer
        && c.trim().is_empty()
    {
        return Err(refuse("the customer code is empty"));
    }
    if req
        .payments
        .iter()
        .filter(|p| p.amount_cents.is_none())
        .count()
        > 1
    {
        return Err(refuse(
            "only one payment may leave its amount out (it takes what is left to pay)",
        ));
    }
    Ok(())
}

fn price_from_art(
    tx: &rusqlite::Connection,
    req: &SaleRequest,
) -> Result<Vec<(PricedItem, i64)>, TillError> {
    if !till_up::has_table(tx, "ART")? {
        return Err(refuse(
            "the till has no items yet (table ART was never loaded): run `tillsync till sync` first",
        ));
    }
    let mut lines = Vec::with_capacity(req.lines.len());
    for l in &req.lines {
        let item = till_up::priced_item(tx, &l.item)?.ok_or_else(|| {
            refuse(format!(
                "unknown item {}: it is not in the till's ART table",
                l.item
            ))
        })?;
        lines.push((item, l.quantity));
    }
    Ok(lines)
}

/// A correction takes back items of ticket `n` at the price they were sold,
/// never more than was sold (earlier corrections included).
fn price_from_original(
    tx: &rusqlite::Connection,
    till: &str,
    n: u64,
    req: &SaleRequest,
) -> Result<Vec<(PricedItem, i64)>, TillError> {
    match till_up::ticket_corrects(tx, till, n)? {
        None => {
            return Err(refuse(format!(
                "ticket {n} does not exist on till {till}: there is nothing to correct"
            )));
        }
        Some(Some(m)) => {
            return Err(refuse(format!(
                "ticket {n} is itself a correction (of ticket {m}): correct the original ticket"
            )));
        }
        Some(None) => {}
    }
    let mut lines = Vec::with_capacity(req.lines.len());
    let mut taken: std::collections::BTreeMap<&str, i64> = Default::default();
    for l in &req.lines {
        let sold = till_up::sold_line(tx, till, n, &l.item)?.ok_or_else(|| {
            refuse(format!(
                "item {} is not on ticket {n}: a correction only takes back what was sold",
                l.item
            ))
        })?;
        let t = taken.entry(l.item.as_str()).or_default();
        *t += l.quantity;
        let before = till_up::corrected_quantity(tx, till, n, &l.item)?;
        if sold.quantity + before + *t < 0 {
            return Err(refuse(format!(
                "taking back {} of item {} exceeds what ticket {n} sold ({}, of which {} already taken back)",
                -*t, l.item, sold.quantity, -before
            )));
        }
        lines.push((sold.item, l.quantity));
    }
    Ok(lines)
}

/// The payments with amounts: one without an amount takes the rest.
fn resolve_payments(asked: &[SalePayment], total: i64) -> Result<Vec<Payment>, TillError> {
    let mut given: i64 = 0;
    for p in asked {
        if let Some(a) = p.amount_cents {
            given = given
                .checked_add(a)
                .ok_or_else(|| refuse("amounts are too large"))?;
        }
    }
    let rest = total
        .checked_sub(given)
        .ok_or_else(|| refuse("amounts are too large"))?;
    asked
        .iter()
        .map(|p| {
            let amount_cents = match p.amount_cents {
                Some(a) => a,
                None if (total >= 0 && rest <= 0) || (total < 0 && rest >= 0) => {
                    return Err(refuse(format!(
                        "payment {:?} without an amount has nothing left to pay: the other payments already cover the total of {total} cents",
                        p.method
                    )));
                }
                None => rest,
            };
            Ok(Payment {
                method: p.method.clone(),
                amount_cents,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tillsync_core::ticket::GENESIS_HASH;

    fn register() -> (tempfile::TempDir, Register) {
        let dir = tempfile::tempdir().unwrap();
        let db = TillDb::open(&dir.path().join(DB_FILE)).unwrap();
        db.conn()
            .execute_batch(
                "CREATE TABLE ART(code TEXT PRIMARY KEY, label TEXT NOT NULL,
                   price_cents INTEGER NOT NULL, vat_rate_bp INTEGER NOT NULL, family TEXT);
                 INSERT INTO ART VALUES ('A', 'Baguette', 120, 550, NULL),
                   ('B', 'Vin rouge', 900, 2000, NULL);
                 CREATE TABLE CLI(code TEXT PRIMARY KEY, name TEXT NOT NULL);
                 INSERT INTO CLI VALUES ('C0001', 'Dupont');",
            )
            .unwrap();
        let reg = Register {
            till: "T001".into(),
            key: SigningKey::from_bytes(&[5u8; 32]),
            db,
        };
        (dir, reg)
    }

    fn req(lines: &[(&str, i64)], payments: &[(&str, Option<i64>)]) -> SaleRequest {
        SaleRequest {
            lines: lines
                .iter()
                .map(|(i, q)| SaleLine {
                    item: i.to_string(),
                    quantity: *q,
                })
                .collect(),
            payments: payments
                .iter()
                .map(|(m, a)| SalePayment {
                    method: m.to_string(),
                    amount_cents: *a,
                })
                .collect(),
            customer: None,
            corrects: None,
        }
    }

    /// (tickets, outbox items, lines, payments)
    fn counts(reg: &Register) -> (i64, i64, i64, i64) {
        let c = |t: &str| -> i64 {
            reg.db
                .conn()
                .query_row(&format!("SELECT COUNT(*) FROM \"{t}\""), [], |r| r.get(0))
                .unwrap()
        };
        (
            c("TICKET"),
            c("tillsync_outbox"),
            c("TICKET_LINE"),
            c("TICKET_PAYMENT"),
        )
    }

    #[test]
    fn a_sale_is_priced_numbered_signed_and_queued() {
        let (_d, mut reg) = register();
        let t = reg
            .sell(&req(
                &[("A", 3), ("B", 1)],
                &[("cash", Some(500)), ("card", None)],
            ))
            .unwrap();
        assert_eq!(t.number, 1);
        assert_eq!(t.till, "T001");
        assert_eq!(t.prev_hash, GENESIS_HASH);
        assert_eq!(t.total_cents, 360 + 900);
        assert_eq!(t.lines[0].label, "Baguette");
        assert_eq!(t.payments[1].amount_cents, 1260 - 500);
        t.verify(&reg.key.verifying_key(), GENESIS_HASH).unwrap();
        let t2 = reg.sell(&req(&[("A", 1)], &[("cash", None)])).unwrap();
        assert_eq!(t2.number, 2);
        t2.verify(&reg.key.verifying_key(), &t.hash).unwrap();
        assert_eq!(counts(&reg), (2, 2, 3, 3));
        let outbox = reg.db.outbox_batch(10).unwrap();
        assert_eq!(outbox[1].key, "ticket:2");
        assert_eq!(
            serde_json::from_str::<Ticket>(&outbox[1].payload).unwrap(),
            t2
        );
    }

    #[test]
    fn refusals_record_nothing() {
        let (_d, mut reg) = register();
        reg.sell(&req(&[("A", 1)], &[("cash", None)])).unwrap();
        let before = counts(&reg);
        let with_customer = |c: &str| SaleRequest {
            customer: Some(c.into()),
            ..req(&[("A", 1)], &[("cash", None)])
        };
        for (r, needle) in [
            (req(&[], &[("cash", None)]), "at least one line"),
            (req(&[("NOPE", 1)], &[("cash", None)]), "unknown item NOPE"),
            (req(&[("A", 0)], &[("cash", None)]), "is zero"),
            (req(&[("A", -1)], &[("cash", None)]), "correction"),
            (req(&[("A", 2)], &[("cash", Some(200))]), "do not cover"),
            (req(&[("A", 2)], &[]), "do not cover"),
            (
                req(&[("A", 1)], &[("cash", None), ("card", None)]),
                "only one payment",
            ),
            (
                req(&[("A", 1)], &[("cash", Some(120)), ("card", None)]),
                "nothing left to pay",
            ),
            (req(&[("A", 1)], &[("", None)]), "method is empty"),
            (with_customer("C9999"), "unknown customer C9999"),
            (
                SaleRequest {
                    corrects: Some(7),
                    ..req(&[("A", -1)], &[("cash", None)])
                },
                "ticket 7 does not exist",
            ),
        ] {
            let e = reg.sell(&r).unwrap_err();
            assert!(matches!(e, TillError::Sale(_)), "{r:?}: {e:?}");
            let msg = e.to_string();
            assert!(
                msg.contains(needle) && msg.contains("nothing recorded"),
                "{r:?}: {msg}"
            );
            assert_eq!(counts(&reg), before, "{r:?}");
        }
        // Gap-free: the next good sale is number 2.
        let t = reg.sell(&with_customer("C0001")).unwrap();
        assert_eq!((t.number, t.customer.as_deref()), (2, Some("C0001")));
    }

    #[test]
    fn no_items_loaded_yet() {
        let (_d, mut reg) = register();
        reg.db.conn().execute_batch("DROP TABLE ART").unwrap();
        let e = reg
            .sell(&req(&[("A", 1)], &[("cash", None)]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("never loaded") && e.contains("till sync"), "{e}");
    }

    #[test]
    fn corrections_take_back_at_the_original_price() {
        let (_d, mut reg) = register();
        let orig = reg
            .sell(&req(&[("A", 3), ("B", 1)], &[("card", None)]))
            .unwrap();
        // The price changes after the sale.
        reg.db
            .conn()
            .execute("UPDATE ART SET price_cents = 999 WHERE code = 'A'", [])
            .unwrap();
        let fix = |lines: &[(&str, i64)]| SaleRequest {
            corrects: Some(orig.number),
            ..req(lines, &[("cash", None)])
        };
        let c = reg.sell(&fix(&[("A", -2)])).unwrap();
        assert_eq!(c.corrects, Some(1));
        assert_eq!(c.total_cents, -240);
        assert_eq!(c.payments[0].amount_cents, -240);
        assert_eq!(c.prev_hash, orig.hash);
        let before = counts(&reg);
        for (lines, needle) in [
            (
                &[("A", -2)][..],
                "exceeds what ticket 1 sold (3, of which 2",
            ),
            (&[("A", -1), ("A", -1)][..], "exceeds"),
            (&[("C", -1)][..], "item C is not on ticket 1"),
            (&[("A", 1)][..], "negative quantities"),
        ] {
            let e = reg.sell(&fix(lines)).unwrap_err().to_string();
            assert!(e.contains(needle), "{lines:?}: {e}");
            assert_eq!(counts(&reg), before);
        }
        let e = reg
            .sell(&SaleRequest {
                corrects: Some(c.number),
                ..req(&[("A", -1)], &[("cash", None)])
            })
            .unwrap_err()
            .to_string();
        assert!(e.contains("is itself a correction"), "{e}");
        let last = reg.sell(&fix(&[("A", -1), ("B", -1)])).unwrap();
        assert_eq!(last.total_cents, -120 - 900);
    }

    #[test]
    fn request_json_for_a_front_end() {
        let r: SaleRequest = serde_json::from_str(
            r#"{"lines": [{"item": "A", "quantity": 2}], "payments": [{"method": "cash"}]}"#,
        )
        .unwrap();
        assert_eq!(r, req(&[("A", 2)], &[("cash", None)]));
    }
}
