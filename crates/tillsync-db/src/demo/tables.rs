//! The demo tables (`ART`, `CLI`, `T012`, `STORE_TILL`, `STORE`,
//! `CASHIER`): their SQL, and [`create_demo_tables`], which creates and
//! fills them in one transaction.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rusqlite::{Connection, params};

use crate::demo::customers::insert_customers;
use crate::demo::items::insert_items;
use crate::demo::reference::{TILLS, VAT_RATES};
use crate::demo::stores::{SCHEMA as STORE_SCHEMA, insert_stores};

/// The demo tables, in the order they are created.
pub const DEMO_TABLES: &[&str] = &["ART", "CLI", "T012", "STORE_TILL", "STORE", "CASHIER"];

/// How many rows [`create_demo_tables`] wrote in each table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemoCounts {
    /// Rows in `ART`.
    pub items: usize,
    /// Rows in `CLI`, the template customer included.
    pub customers: usize,
    /// Rows in `T012`.
    pub vat_rates: usize,
    /// Rows in `STORE_TILL`.
    pub tills: usize,
    /// Rows in `STORE` (store identities for receipts).
    pub stores: usize,
    /// Rows in `CASHIER`.
    pub cashiers: usize,
}

const SCHEMA: &str = "
CREATE TABLE ART (
    code TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    price_cents INTEGER NOT NULL,
    vat_rate_bp INTEGER NOT NULL,
    barcode TEXT,
    family TEXT,
    unit TEXT
);
CREATE TABLE CLI (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT,
    city TEXT,
    store TEXT,
    phone TEXT,
    loyalty_points INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE T012 (
    code TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    rate_bp INTEGER NOT NULL
);
CREATE TABLE STORE_TILL (
    till_id TEXT PRIMARY KEY,
    store TEXT NOT NULL,
    label TEXT
);
";

/// Creates the [`DEMO_TABLES`] and fills them, all in one
/// transaction: `items` items, [`CUSTOMER_COUNT`](crate::demo::customers::CUSTOMER_COUNT) customers (the template
/// customer [`TEMPLATE_CUSTOMER`](crate::demo::customers::TEMPLATE_CUSTOMER) included), the French VAT rates, three
/// tills in two stores, the two stores' identities and four cashiers.
///
/// The same `seed` gives the same rows; customers do not depend on `items`.
/// Fails (and writes nothing) if one of the tables already exists or a
/// transaction is already open on `conn`.
pub fn create_demo_tables(
    conn: &Connection,
    items: usize,
    seed: u64,
) -> rusqlite::Result<DemoCounts> {
    let tx = conn.unchecked_transaction()?;
    tx.execute_batch(SCHEMA)?;
    tx.execute_batch(STORE_SCHEMA)?;

    let mut counts = DemoCounts::default();
    {
        let mut stmt = tx.prepare("INSERT INTO T012 (code, label, rate_bp) VALUES (?1, ?2, ?3)")?;
        for (code, label, rate) in VAT_RATES {
            stmt.execute(params![code, label, rate])?;
            counts.vat_rates += 1;
        }
    }
    {
        let mut stmt =
            tx.prepare("INSERT INTO STORE_TILL (till_id, store, label) VALUES (?1, ?2, ?3)")?;
        for (till, store, label) in TILLS {
            stmt.execute(params![till, store, label])?;
            counts.tills += 1;
        }
    }
    (counts.stores, counts.cashiers) = insert_stores(&tx, seed)?;
    counts.items = insert_items(&tx, items, &mut StdRng::seed_from_u64(seed))?;
    counts.customers = insert_customers(
        &tx,
        &mut StdRng::seed_from_u64(seed ^ 0x9E37_79B9_7F4A_7C15),
    )?;
    tx.commit()?;
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::demo::customers::{CUSTOMER_COUNT, TEMPLATE_CUSTOMER};
    use crate::demo::ean::is_valid_ean13;

    fn dump(conn: &Connection) -> Vec<String> {
        let mut rows = Vec::new();
        for table in DEMO_TABLES {
            let mut stmt = conn
                .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY 1"))
                .unwrap();
            let n = stmt.column_count();
            let mut q = stmt.query([]).unwrap();
            while let Some(r) = q.next().unwrap() {
                let cells: Vec<String> = (0..n)
                    .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                    .collect();
                rows.push(format!("{table}|{}", cells.join("|")));
            }
        }
        rows
    }

    fn count(conn: &Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn counts_and_content() {
        let conn = Connection::open_in_memory().unwrap();
        let c = create_demo_tables(&conn, 2000, 42).unwrap();
        assert_eq!(
            c,
            DemoCounts {
                items: 2000,
                customers: CUSTOMER_COUNT,
                vat_rates: 4,
                tills: 3,
                stores: 2,
                cashiers: 4,
            }
        );
        assert_eq!(count(&conn, "SELECT count(*) FROM ART"), 2000);
        assert_eq!(count(&conn, "SELECT count(*) FROM CLI"), 200);
        assert_eq!(count(&conn, "SELECT count(*) FROM T012"), 4);
        assert_eq!(count(&conn, "SELECT count(*) FROM STORE_TILL"), 3);
        // Every store of a till has its identity; PINs are hashed, never in clear.
        assert_eq!(
            count(
                &conn,
                "SELECT count(DISTINCT store) FROM STORE_TILL WHERE store NOT IN (SELECT code FROM STORE)"
            ),
            0
        );
        let hash: String = conn
            .query_row(
                "SELECT pin_hash FROM CASHIER WHERE code = 'CAI01'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(
            hash.starts_with("$argon2id$") && !hash.contains("1234"),
            "{hash}"
        );
        assert!(tillsync_core::pin::verify("CAI01", "1234", &hash).unwrap());

        let first: String = conn
            .query_row("SELECT code FROM ART ORDER BY code LIMIT 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(first, "ART0000001");

        // Barcodes: valid EAN-13, French prefix, unique.
        let mut stmt = conn
            .prepare("SELECT barcode FROM ART WHERE barcode IS NOT NULL")
            .unwrap();
        let codes: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(codes.len() > 1500);
        let unique: HashSet<&String> = codes.iter().collect();
        assert_eq!(unique.len(), codes.len());
        for code in &codes {
            assert!(is_valid_ean13(code), "{code}");
            let prefix: u32 = code[..3].parse().unwrap();
            assert!((300..=379).contains(&prefix), "{code}");
        }

        // One VAT rate per family, consistent with the kind of goods.
        for (family, vat) in [
            ("CREMERIE", 550),
            ("CAVE", 2000),
            ("DROGUERIE", 2000),
            ("RESTAURATION", 1000),
        ] {
            let rates = count(
                &conn,
                &format!(
                    "SELECT count(*) FROM ART WHERE family = '{family}' AND vat_rate_bp <> {vat}"
                ),
            );
            assert_eq!(rates, 0, "{family}");
        }
        assert_eq!(
            count(&conn, "SELECT count(*) FROM ART WHERE price_cents <= 0"),
            0
        );
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM ART WHERE vat_rate_bp NOT IN (SELECT rate_bp FROM T012)"
            ),
            0
        );

        // The template customer, all-store customers, unique e-mails.
        let (name, store): (String, Option<String>) = conn
            .query_row(
                "SELECT name, store FROM CLI WHERE code = ?1",
                [TEMPLATE_CUSTOMER],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(name, "Client modèle");
        assert_eq!(store, None);
        assert!(count(&conn, "SELECT count(*) FROM CLI WHERE store IS NULL") > 1);
        assert!(count(&conn, "SELECT count(*) FROM CLI WHERE store = 'S01'") > 50);
        assert!(count(&conn, "SELECT count(*) FROM CLI WHERE store = 'S02'") > 50);
        assert_eq!(
            count(
                &conn,
                "SELECT count(email) - count(DISTINCT email) FROM CLI"
            ),
            0
        );
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM CLI WHERE store IS NOT NULL AND store NOT IN (SELECT store FROM STORE_TILL)"
            ),
            0
        );
    }

    #[test]
    fn same_seed_same_rows() {
        let a = Connection::open_in_memory().unwrap();
        let b = Connection::open_in_memory().unwrap();
        create_demo_tables(&a, 500, 7).unwrap();
        create_demo_tables(&b, 500, 7).unwrap();
        assert_eq!(dump(&a), dump(&b));

        let c = Connection::open_in_memory().unwrap();
        create_demo_tables(&c, 500, 8).unwrap();
        assert_ne!(dump(&a), dump(&c));
    }

    #[test]
    fn second_run_fails_and_writes_nothing() {
        let conn = Connection::open_in_memory().unwrap();
        create_demo_tables(&conn, 10, 1).unwrap();
        assert!(create_demo_tables(&conn, 10, 1).is_err());
        assert_eq!(count(&conn, "SELECT count(*) FROM ART"), 10);
        assert!(conn.is_autocommit());
    }
}
