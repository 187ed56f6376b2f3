//! Test fixtures of the up path: a till database with a small `ART`, a
//! sale of one item sealed with a fixed key, a row count.

use ed25519_dalek::SigningKey;
use tillsync_core::ticket::{Payment, Sale, SaleItem, Ticket};

use crate::db::TillDb;
use crate::up::lookup::priced_item;
use crate::up::sale::Recorded;
use tillsync_db::StoreError;
use tillsync_db::sql::q;

/// A till database in a new temporary folder, its `ART` holding items `A` and `B`.
pub(crate) fn db() -> (tempfile::TempDir, TillDb) {
    let dir = tempfile::tempdir().unwrap();
    let db = TillDb::open(&dir.path().join("till.db")).unwrap();
    db.conn()
        .execute_batch(
            "CREATE TABLE ART(code TEXT PRIMARY KEY, label TEXT NOT NULL,
               price_cents INTEGER NOT NULL, vat_rate_bp INTEGER NOT NULL);
             INSERT INTO ART VALUES ('A', 'Pain', 120, 550), ('B', 'Vin', 900, 2000);",
        )
        .unwrap();
    (dir, db)
}

/// Sell `qty` of `item` on till `T001`, sealed with a fixed key.
pub(crate) fn sell(db: &mut TillDb, item: &str, qty: i64) -> Result<Ticket, StoreError> {
    sell_at(db, item, qty, "2026-01-01T00:00:00Z")
}

/// [`sell`] at `time`.
pub(crate) fn sell_at(
    db: &mut TillDb,
    item: &str,
    qty: i64,
    time: &str,
) -> Result<Ticket, StoreError> {
    let key = SigningKey::from_bytes(&[3u8; 32]);
    let recorded = db.record_sale("T001", false, None, |tx, number, prev| {
        let it = priced_item(tx, item)?
            .ok_or_else(|| StoreError::Inconsistent(format!("no item {item}")))?;
        let sale = Sale {
            lines: vec![SaleItem::units(it.clone(), qty)],
            payments: vec![Payment {
                method: "cash".into(),
                amount_cents: it.price_cents * qty,
            }],
            ..Sale::default()
        };
        sale.seal("T001", number, time, prev, &key)
            .map_err(|e| StoreError::Inconsistent(e.to_string()))
    })?;
    match recorded {
        Recorded::New(t) => Ok(t),
        other => Err(StoreError::Inconsistent(format!("{other:?}"))),
    }
}

/// The number of rows of `table`.
pub(crate) fn count(db: &TillDb, table: &str) -> i64 {
    db.conn()
        .query_row(&format!("SELECT COUNT(*) FROM {}", q(table)), [], |r| {
            r.get(0)
        })
        .unwrap()
}
