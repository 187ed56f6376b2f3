//! Recording a sale: the next number and the previous hash of its chain
//! (fiscal or training), the sealed ticket inserted with its lines,
//! payments and VAT totals, its idempotency key, and queued in the outbox,
//! all in one transaction.

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use tillsync_core::ticket::{GENESIS_HASH, Ticket};
use tillsync_db::StoreError;
use tillsync_db::ticket_rows::{TicketTables, insert_ticket_details};
use tillsync_wire::api::OutboxKind;

use crate::db::TillDb;
use crate::up::outbox::{ticket_key, training_ticket_key};
use crate::up::tickets::{last_ticket_of, load_ticket_of};

/// The idempotency key a cashier front end gave a sale, and the
/// fingerprint of the sale it asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaleKey<'a> {
    /// The key.
    pub key: &'a str,
    /// SHA-256 (hex) of the sale asked.
    pub fingerprint: &'a str,
}

/// What [`TillDb::record_sale`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// A new ticket.
    New(Ticket),
    /// The key was given before for the same sale: the ticket recorded then.
    Again(Ticket),
    /// The key was given before for another sale (ticket `number`):
    /// nothing recorded.
    KeyUsed {
        /// The ticket recorded under the key.
        number: u64,
        /// Whether it is a training ticket.
        training: bool,
    },
}

/// Insert a sealed ticket (head, lines, payments, VAT totals) in its
/// chain's tables and queue it in the outbox (key `ticket:<number>`, or
/// `training:<number>` for a training ticket; kind `ticket`, payload the
/// ticket JSON), inside the caller's transaction.
pub fn insert_ticket(conn: &Connection, t: &Ticket) -> Result<(), StoreError> {
    let number = t.number as i64;
    let tables = TicketTables::of(t.training);
    conn.prepare_cached(&format!(
        r#"INSERT INTO "{}"("till_id", "number", "time", "total_cents", "customer",
             "corrects", "prev_hash", "hash", "signature", "version", "cashier",
             "discount_cents", "change_cents")
           VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"#,
        tables.ticket
    ))?
    .execute(params![
        t.till,
        number,
        t.time,
        t.total_cents,
        t.customer,
        t.corrects.map(|n| n as i64),
        t.prev_hash,
        t.hash,
        t.signature,
        t.version,
        t.cashier,
        t.discount_cents,
        t.change_cents
    ])?;
    insert_ticket_details(conn, tables, &t.till, number, t)?;
    let key = if t.training {
        training_ticket_key(t.number)
    } else {
        ticket_key(t.number)
    };
    TillDb::enqueue(conn, &key, OutboxKind::Ticket, t)
}

/// The sale recorded under idempotency key `key`: (training, number, fingerprint).
fn sale_key(conn: &Connection, key: &str) -> Result<Option<(bool, u64, String)>, StoreError> {
    Ok(conn
        .prepare_cached(
            r#"SELECT "training", "number", "fingerprint" FROM "tillsync_sale_keys"
               WHERE "key" = ?1"#,
        )?
        .query_row([key], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as u64, r.get(2)?))
        })
        .optional()?)
}

impl TillDb {
    /// Record a sale in one IMMEDIATE transaction. With an idempotency
    /// `key` already used, nothing is sealed: the ticket recorded under it
    /// comes back ([`Recorded::Again`], same sale) or the sale is refused
    /// ([`Recorded::KeyUsed`], another sale). Otherwise `seal` gets the
    /// transaction (to read prices), the next number of the chain
    /// (`training` or fiscal; last + 1, from 1) and the chain's previous
    /// hash ([`GENESIS_HASH`] for the first), and returns the sealed
    /// ticket; it is inserted with its rows and its key, and queued in the
    /// outbox. On any error nothing is recorded.
    pub fn record_sale<E: From<StoreError>>(
        &mut self,
        till: &str,
        training: bool,
        key: Option<SaleKey<'_>>,
        seal: impl FnOnce(&Transaction<'_>, u64, &str) -> Result<Ticket, E>,
    ) -> Result<Recorded, E> {
        let tx = self
            .conn_mut()
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        if let Some(k) = key
            && let Some((was_training, number, fingerprint)) = sale_key(&tx, k.key)?
        {
            if fingerprint != k.fingerprint {
                return Ok(Recorded::KeyUsed {
                    number,
                    training: was_training,
                });
            }
            let t = load_ticket_of(&tx, TicketTables::of(was_training), till, number)?
                .ok_or_else(|| {
                    StoreError::Inconsistent(format!(
                        "idempotency key {} names ticket {number}, which is not in the till's tables",
                        k.key
                    ))
                })?;
            return Ok(Recorded::Again(t));
        }
        let tables = TicketTables::of(training);
        let last = last_ticket_of(&tx, tables, till)?;
        let number = last.as_ref().map_or(1, |l| l.number + 1);
        let prev = last.map_or_else(|| GENESIS_HASH.to_string(), |l| l.hash);
        let ticket = seal(&tx, number, &prev)?;
        if ticket.till != till
            || ticket.number != number
            || ticket.prev_hash != prev
            || ticket.training != training
        {
            return Err(StoreError::Inconsistent(format!(
                "sealed ticket {}/{} does not follow ticket {}/{} of this till's {} chain",
                ticket.till,
                ticket.number,
                till,
                number - 1,
                if training { "training" } else { "fiscal" }
            ))
            .into());
        }
        insert_ticket(&tx, &ticket)?;
        if let Some(k) = key {
            tx.prepare_cached(
                r#"INSERT INTO "tillsync_sale_keys"("key", "training", "number", "fingerprint", "at")
                   VALUES (?1, ?2, ?3, ?4, ?5)"#,
            )
            .map_err(StoreError::from)?
            .execute(params![
                k.key,
                training,
                number as i64,
                k.fingerprint,
                tillsync_db::now_rfc3339()
            ])
            .map_err(StoreError::from)?;
        }
        tx.commit().map_err(StoreError::from)?;
        Ok(Recorded::New(ticket))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::up::test_support::{count, db, sell};
    use crate::up::tickets::load_ticket;
    use ed25519_dalek::SigningKey;
    use tillsync_db::ticket_rows::TRAINING_TABLES;

    #[test]
    fn sales_are_numbered_chained_and_queued() {
        let (_d, mut db) = db();
        let t1 = sell(&mut db, "A", 2).unwrap();
        let t2 = sell(&mut db, "B", 1).unwrap();
        assert_eq!((t1.number, t2.number), (1, 2));
        assert_eq!(t1.prev_hash, GENESIS_HASH);
        assert_eq!(t2.prev_hash, t1.hash);
        let key = SigningKey::from_bytes(&[3u8; 32]).verifying_key();
        t2.verify(&key, &t1.hash).unwrap();
        assert_eq!(count(&db, "TICKET_LINE"), 2);
        assert_eq!(count(&db, "TICKET_PAYMENT"), 2);
        let batch = db.outbox_batch(10).unwrap();
        assert_eq!(
            batch.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
            ["ticket:1", "ticket:2"]
        );
        assert_eq!(batch[0].kind, "ticket");
        let back: Ticket = serde_json::from_str(&batch[1].payload).unwrap();
        assert_eq!(back, t2);
        // The tables hold the whole ticket: read back, it is the same and verifies.
        let stored = load_ticket(db.conn(), "T001", 2).unwrap().unwrap();
        assert_eq!(stored, t2);
        assert_eq!(hex::encode(stored.digest()), t2.hash);
        assert_eq!(load_ticket(db.conn(), "T001", 3).unwrap(), None);
        let (n, last) = db.ticket_summary("T001").unwrap();
        assert_eq!((n, last.unwrap().number), (2, 2));
    }

    #[test]
    fn a_failed_sale_records_nothing() {
        let (_d, mut db) = db();
        sell(&mut db, "A", 1).unwrap();
        assert!(sell(&mut db, "NOPE", 1).is_err());
        assert!(sell(&mut db, "A", 0).is_err());
        assert_eq!(count(&db, "TICKET"), 1);
        assert_eq!(count(&db, "tillsync_outbox"), 1);
        // The next sale still gets number 2.
        assert_eq!(sell(&mut db, "B", 1).unwrap().number, 2);
    }

    #[test]
    fn tickets_are_inalterable() {
        let (_d, mut db) = db();
        sell(&mut db, "A", 1).unwrap();
        for sql in [
            r#"UPDATE "TICKET" SET "total_cents" = 1"#,
            r#"DELETE FROM "TICKET""#,
            r#"UPDATE "TICKET_LINE" SET "quantity" = 5"#,
            r#"DELETE FROM "TICKET_LINE""#,
            r#"UPDATE "TICKET_PAYMENT" SET "amount_cents" = 5"#,
            r#"DELETE FROM "TICKET_PAYMENT""#,
            r#"UPDATE "TICKET_VAT" SET "vat_cents" = 5"#,
            r#"DELETE FROM "TICKET_VAT""#,
        ] {
            let e = db.conn().execute(sql, []).unwrap_err().to_string();
            assert!(e.contains("tickets are inalterable"), "{sql}: {e}");
        }
        assert_eq!(count(&db, "TICKET"), 1);
        assert_eq!(count(&db, "TICKET_LINE"), 1);
    }

    /// A version-2 sale (weight, discounts, a voided line, change, a
    /// cashier), in the training chain when `training`, under `key`.
    fn sell_v2(
        db: &mut TillDb,
        training: bool,
        key: Option<SaleKey<'_>>,
    ) -> Result<Recorded, StoreError> {
        use tillsync_core::ticket::{Payment, PricedItem, Sale, SaleItem};
        let signing = SigningKey::from_bytes(&[3u8; 32]);
        db.record_sale("T001", training, key, |_tx, number, prev| {
            let item = |code: &str, price, rate| PricedItem {
                code: code.into(),
                label: code.into(),
                price_cents: price,
                vat_rate_bp: rate,
            };
            Sale {
                lines: vec![
                    SaleItem {
                        quantity_milli: 485,
                        discount_cents: 9,
                        ..SaleItem::units(item("POMME", 349, 550), 1)
                    },
                    SaleItem {
                        voided: true,
                        ..SaleItem::units(item("VIN", 900, 2000), 1)
                    },
                    SaleItem::units(item("VIN", 900, 2000), 1),
                ],
                discount_cents: 60,
                payments: vec![Payment {
                    method: "cash".into(),
                    amount_cents: 2000,
                }],
                cashier: Some("Marie".into()),
                training,
                ..Sale::default()
            }
            .seal("T001", number, "2026-12-04T09:30:00Z", prev, &signing)
            .map_err(|e| StoreError::Inconsistent(e.to_string()))
        })
    }

    fn new(r: Result<Recorded, StoreError>) -> Ticket {
        match r.unwrap() {
            Recorded::New(t) => t,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn version_2_tickets_read_back_whole_and_verify() {
        let (_d, mut db) = db();
        let v1 = sell(&mut db, "A", 2).unwrap();
        let t = new(sell_v2(&mut db, false, None));
        assert_eq!(
            (t.version, t.number, t.change_cents),
            (2, 2, 2000 - t.total_cents)
        );
        let stored = load_ticket(db.conn(), "T001", 2).unwrap().unwrap();
        assert_eq!(stored, t);
        let key = SigningKey::from_bytes(&[3u8; 32]).verifying_key();
        stored.verify(&key, &v1.hash).unwrap();
        // The plain columns an ERP reads.
        let (q, qm, voided): (i64, i64, bool) = db
            .conn()
            .query_row(
                r#"SELECT "quantity", "quantity_milli", "voided" FROM "TICKET_LINE"
                   WHERE "number" = 2 AND "line_no" = 1"#,
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((q, qm, voided), (0, 485, false));
    }

    #[test]
    fn training_tickets_have_their_own_numbers_and_chain() {
        let (_d, mut db) = db();
        let f1 = sell(&mut db, "A", 1).unwrap();
        let t1 = new(sell_v2(&mut db, true, None));
        let t2 = new(sell_v2(&mut db, true, None));
        let f2 = new(sell_v2(&mut db, false, None));
        assert_eq!((t1.number, t2.number, f2.number), (1, 2, 2));
        assert!(t1.training && t2.training && !f2.training);
        assert_eq!(t1.prev_hash, GENESIS_HASH);
        assert_eq!(t2.prev_hash, t1.hash);
        assert_eq!(f2.prev_hash, f1.hash);
        assert_eq!(count(&db, "TICKET"), 2);
        assert_eq!(count(&db, "TRAINING_TICKET"), 2);
        let back = load_ticket_of(db.conn(), &TRAINING_TABLES, "T001", 2)
            .unwrap()
            .unwrap();
        assert_eq!(back, t2);
        let key = SigningKey::from_bytes(&[3u8; 32]).verifying_key();
        back.verify(&key, &t1.hash).unwrap();
        assert_eq!(load_ticket(db.conn(), "T001", 3).unwrap(), None);
        let keys: Vec<String> = db
            .outbox_batch(10)
            .unwrap()
            .into_iter()
            .map(|e| e.key)
            .collect();
        assert_eq!(keys, ["ticket:1", "training:1", "training:2", "ticket:2"]);
        let (n, last) = db.ticket_summary_of(&TRAINING_TABLES, "T001").unwrap();
        assert_eq!((n, last.unwrap().number), (2, 2));
        assert_eq!(db.ticket_summary("T001").unwrap().0, 2);
    }

    #[test]
    fn an_idempotency_key_gives_the_same_ticket_back() {
        let (_d, mut db) = db();
        let k = SaleKey {
            key: "pos-7:42",
            fingerprint: "f1",
        };
        let first = new(sell_v2(&mut db, false, Some(k)));
        match sell_v2(&mut db, false, Some(k)).unwrap() {
            Recorded::Again(t) => assert_eq!(t, first),
            other => panic!("{other:?}"),
        }
        // The same key for a training sale still names the first ticket.
        match sell_v2(&mut db, true, Some(k)).unwrap() {
            Recorded::Again(t) => assert_eq!(t, first),
            other => panic!("{other:?}"),
        }
        let other = SaleKey {
            key: "pos-7:42",
            fingerprint: "f2",
        };
        assert_eq!(
            sell_v2(&mut db, false, Some(other)).unwrap(),
            Recorded::KeyUsed {
                number: 1,
                training: false
            }
        );
        assert_eq!(count(&db, "TICKET"), 1);
        assert_eq!(count(&db, "TRAINING_TICKET"), 0);
        assert_eq!(count(&db, "tillsync_outbox"), 1);
        // A failed sale under a new key leaves no key behind.
        let k3 = SaleKey {
            key: "k3",
            fingerprint: "f3",
        };
        let failed = db.record_sale("T001", false, Some(k3), |_, _, _| {
            Err::<Ticket, _>(StoreError::Inconsistent("refused".into()))
        });
        assert!(failed.is_err());
        assert_eq!(count(&db, "tillsync_sale_keys"), 1);
        assert_eq!(new(sell_v2(&mut db, false, Some(k3))).number, 2);
    }

    #[test]
    fn the_new_tables_are_inalterable() {
        let (_d, mut db) = db();
        new(sell_v2(
            &mut db,
            true,
            Some(SaleKey {
                key: "k",
                fingerprint: "f",
            }),
        ));
        for sql in [
            r#"UPDATE "TRAINING_TICKET" SET "total_cents" = 1"#,
            r#"DELETE FROM "TRAINING_TICKET""#,
            r#"INSERT OR REPLACE INTO "TRAINING_TICKET" SELECT * FROM "TRAINING_TICKET""#,
            r#"UPDATE "TRAINING_TICKET_LINE" SET "quantity_milli" = 5"#,
            r#"DELETE FROM "TRAINING_TICKET_LINE""#,
            r#"INSERT OR REPLACE INTO "TRAINING_TICKET_LINE" SELECT * FROM "TRAINING_TICKET_LINE""#,
            r#"UPDATE "TRAINING_TICKET_PAYMENT" SET "amount_cents" = 5"#,
            r#"DELETE FROM "TRAINING_TICKET_PAYMENT""#,
            r#"INSERT OR REPLACE INTO "TRAINING_TICKET_PAYMENT" SELECT * FROM "TRAINING_TICKET_PAYMENT""#,
            r#"UPDATE "TRAINING_TICKET_VAT" SET "discount_cents" = 5"#,
            r#"DELETE FROM "TRAINING_TICKET_VAT""#,
            r#"INSERT OR REPLACE INTO "TRAINING_TICKET_VAT" SELECT * FROM "TRAINING_TICKET_VAT""#,
        ] {
            let e = db.conn().execute(sql, []).unwrap_err().to_string();
            assert!(e.contains("tickets are inalterable"), "{sql}: {e}");
        }
        for sql in [
            r#"UPDATE "tillsync_sale_keys" SET "number" = 9"#,
            r#"DELETE FROM "tillsync_sale_keys""#,
            r#"INSERT OR REPLACE INTO "tillsync_sale_keys" SELECT * FROM "tillsync_sale_keys""#,
        ] {
            let e = db.conn().execute(sql, []).unwrap_err().to_string();
            assert!(e.contains("sale keys are inalterable"), "{sql}: {e}");
        }
        assert_eq!(count(&db, "TRAINING_TICKET_LINE"), 3);
        // The version-2 columns of the fiscal tables are under the old triggers.
        sell(&mut db, "A", 1).unwrap();
        for sql in [
            r#"UPDATE "TICKET" SET "change_cents" = 1"#,
            r#"UPDATE "TICKET_LINE" SET "voided" = 1"#,
            r#"UPDATE "TICKET_VAT" SET "discount_cents" = 1"#,
        ] {
            let e = db.conn().execute(sql, []).unwrap_err().to_string();
            assert!(e.contains("tickets are inalterable"), "{sql}: {e}");
        }
    }

    #[test]
    fn version_1_tickets_of_a_till_made_before_version_2_still_verify() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("till.db");
        // A till database at step 3, holding a version-1 ticket as it was
        // written then (no version-2 columns).
        let key = SigningKey::from_bytes(&[3u8; 32]);
        let v1 = tillsync_core::ticket::Sale {
            version: 1,
            lines: vec![tillsync_core::ticket::SaleItem::units(
                tillsync_core::ticket::PricedItem {
                    code: "A".into(),
                    label: "Pain".into(),
                    price_cents: 120,
                    vat_rate_bp: 550,
                },
                3,
            )],
            payments: vec![tillsync_core::ticket::Payment {
                method: "cash".into(),
                amount_cents: 360,
            }],
            ..Default::default()
        }
        .seal("T001", 1, "2026-01-01T00:00:00Z", GENESIS_HASH, &key)
        .unwrap();
        {
            let mut conn = tillsync_db::sqlite::open_sqlite(&path).unwrap();
            tillsync_db::sqlite::migrate(&mut conn, &crate::schema::MIGRATIONS[..3]).unwrap();
            conn.execute(
                r#"INSERT INTO "TICKET" VALUES ('T001', 1, ?1, 360, NULL, NULL, ?2, ?3, ?4)"#,
                params![v1.time, v1.prev_hash, v1.hash, v1.signature],
            )
            .unwrap();
            conn.execute_batch(
                r#"INSERT INTO "TICKET_LINE" VALUES ('T001', 1, 1, 'A', 'Pain', 3, 120, 550, 341, 360);
                   INSERT INTO "TICKET_PAYMENT" VALUES ('T001', 1, 1, 'cash', 360);
                   INSERT INTO "TICKET_VAT" VALUES ('T001', 1, 550, 341, 19, 360);"#,
            )
            .unwrap();
        }
        let mut db = TillDb::open(&path).unwrap();
        let back = load_ticket(db.conn(), "T001", 1).unwrap().unwrap();
        assert_eq!(back, v1);
        back.verify(&key.verifying_key(), GENESIS_HASH).unwrap();
        // The next sale is version 2 and follows it.
        let t = new(sell_v2(&mut db, false, None));
        assert_eq!((t.number, t.prev_hash.as_str()), (2, v1.hash.as_str()));
    }
}
