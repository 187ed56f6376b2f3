//! The demo's store identities (`STORE`: what a receipt prints of its store)
//! and cashiers (`CASHIER`: who logs in on the cashier page, with the
//! argon2id hash of a PIN, never the PIN).

use rusqlite::{Connection, params};

/// One demo store as `STORE` holds it.
pub struct DemoStore {
    /// Store code (`STORE.code`, the filter of the table).
    pub code: &'static str,
    /// Trade name.
    pub name: &'static str,
    /// Address lines.
    pub address1: &'static str,
    /// Second address line.
    pub address2: Option<&'static str>,
    /// Postcode.
    pub postcode: &'static str,
    /// Town.
    pub town: &'static str,
    /// SIRET of the establishment (14 digits, Luhn-valid, fictitious).
    pub siret: &'static str,
    /// Intra-community VAT number.
    pub vat_number: &'static str,
    /// Phone.
    pub phone: &'static str,
}

/// The demo stores' identities (one company, SIREN 904 128 733, fictitious).
pub const STORE_IDENTITIES: &[DemoStore] = &[
    DemoStore {
        code: "S01",
        name: "Lyon Part-Dieu",
        address1: "17 rue du Docteur Bouchut",
        address2: Some("Centre commercial Part-Dieu"),
        postcode: "69003",
        town: "Lyon",
        siret: "90412873300014",
        vat_number: "FR43904128733",
        phone: "04 78 00 12 34",
    },
    DemoStore {
        code: "S02",
        name: "Grenoble Victor-Hugo",
        address1: "8 place Victor-Hugo",
        address2: None,
        postcode: "38000",
        town: "Grenoble",
        siret: "90412873300022",
        vat_number: "FR43904128733",
        phone: "04 76 00 56 78",
    },
];

/// The demo cashiers: `(code, name, store (None: every store), PIN)`. The
/// PINs are the demo's only (docs/receipts.md); the table keeps their hash.
pub const CASHIERS: &[(&str, &str, Option<&str>, &str)] = &[
    ("CAI01", "Marie Martin", Some("S01"), "1234"),
    ("CAI02", "Julien Bernard", Some("S01"), "2580"),
    ("CAI03", "Sophie Petit", Some("S02"), "1357"),
    ("CAI09", "Responsable réseau", None, "9090"),
];

/// The SQL of the two tables.
pub(crate) const SCHEMA: &str = "
CREATE TABLE STORE (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    address1 TEXT,
    address2 TEXT,
    postcode TEXT,
    town TEXT,
    siret TEXT,
    vat_number TEXT,
    phone TEXT,
    timezone TEXT
);
CREATE TABLE CASHIER (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    store TEXT,
    pin_hash TEXT NOT NULL
);
";

/// Fill `STORE` and `CASHIER` (the tables exist); the salts come from
/// `seed`, so the same seed writes the same rows. Returns (stores, cashiers).
pub(crate) fn insert_stores(conn: &Connection, seed: u64) -> rusqlite::Result<(usize, usize)> {
    let mut stmt = conn.prepare(
        "INSERT INTO STORE (code, name, address1, address2, postcode, town, siret, vat_number, phone, timezone)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL)",
    )?;
    for s in STORE_IDENTITIES {
        stmt.execute(params![
            s.code,
            s.name,
            s.address1,
            s.address2,
            s.postcode,
            s.town,
            s.siret,
            s.vat_number,
            s.phone
        ])?;
    }
    let mut stmt =
        conn.prepare("INSERT INTO CASHIER (code, name, store, pin_hash) VALUES (?1, ?2, ?3, ?4)")?;
    for (i, (code, name, store, pin)) in CASHIERS.iter().enumerate() {
        let mut salt = [0u8; 16];
        salt[..8].copy_from_slice(&seed.to_be_bytes());
        salt[8..].copy_from_slice(&(i as u64).to_be_bytes());
        let hash = tillsync_core::pin::hash_with_salt(pin, &salt)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        stmt.execute(params![code, name, store, hash])?;
    }
    Ok((STORE_IDENTITIES.len(), CASHIERS.len()))
}
