//! The store's identity, cashiers and zone read from the demo's tables.

use super::*;
use tillsync_core::ServerConfig;
use tillsync_core::config::till::TillAuth;
use tillsync_core::secret::Secret;

use crate::up::test_support::db;

fn cfg(store: &str) -> TillConfig {
    let server = ServerConfig::new_default("DEMO").unwrap();
    TillConfig::from_server(
        &server,
        "T001",
        store,
        &"11".repeat(32),
        TillAuth {
            token: Some(Secret::new("tok")),
            ..TillAuth::new_install(
                &ed25519_dalek::SigningKey::from_bytes(&[0x22; 32]),
                "2026-12-04T09:00:00Z",
                &"ab".repeat(32),
            )
        },
    )
    .unwrap()
}

fn demo(db: &TillDb) {
    db.conn().execute_batch("DROP TABLE ART").unwrap();
    tillsync_db::demo::create_demo_tables(db.conn(), 5, 1).unwrap();
}

#[test]
fn nothing_loaded_yet_is_nothing_known() {
    let (_d, db) = db();
    assert_eq!(db.store_identity("S01").unwrap(), None);
    assert!(cashiers(db.conn(), "S01").unwrap().is_empty());
    assert_eq!(db.till_zone(&cfg("S01")).unwrap().name(), "Europe/Paris");
}

#[test]
fn the_stores_row_and_its_cashiers() {
    let (_d, db) = db();
    demo(&db);
    let s = db.store_identity("S01").unwrap().unwrap();
    assert_eq!(s.name.as_deref(), Some("Lyon Part-Dieu"));
    assert_eq!(
        s.address,
        ["17 rue du Docteur Bouchut", "Centre commercial Part-Dieu"]
    );
    assert_eq!(
        (s.postcode.as_deref(), s.town.as_deref()),
        (Some("69003"), Some("Lyon"))
    );
    assert_eq!(s.siret.as_deref(), Some("90412873300014"));
    assert_eq!(s.vat_number.as_deref(), Some("FR43904128733"));
    assert_eq!(s.timezone, None);
    let g = db.store_identity("S02").unwrap().unwrap();
    assert_eq!(g.address, ["8 place Victor-Hugo"]);
    assert_eq!(db.store_identity("S09").unwrap(), None);
    let codes: Vec<String> = cashiers(db.conn(), "S01")
        .unwrap()
        .into_iter()
        .map(|c| c.code)
        .collect();
    // The store's own and the one of every store.
    assert_eq!(codes, ["CAI01", "CAI02", "CAI09"]);
    let c = cashiers(db.conn(), "S02").unwrap();
    assert_eq!(c.len(), 2);
    assert!(c[0].pin_hash.starts_with("$argon2id$"));
}

#[test]
fn a_missing_mention_stays_missing() {
    let (_d, db) = db();
    demo(&db);
    db.conn()
        .execute_batch("UPDATE STORE SET siret = '  ', vat_number = NULL WHERE code = 'S01'")
        .unwrap();
    let s = db.store_identity("S01").unwrap().unwrap();
    assert_eq!((s.siret, s.vat_number), (None, None));
}

#[test]
fn the_stores_zone_wins_over_the_folders() {
    let (_d, db) = db();
    demo(&db);
    db.conn()
        .execute_batch("UPDATE STORE SET timezone = 'Indian/Reunion' WHERE code = 'S02'")
        .unwrap();
    assert_eq!(db.till_zone(&cfg("S01")).unwrap().name(), "Europe/Paris");
    assert_eq!(db.till_zone(&cfg("S02")).unwrap().name(), "Indian/Reunion");
    let mut mq = cfg("S01");
    mq.folder.timezone = "America/Martinique".into();
    assert_eq!(db.till_zone(&mq).unwrap().name(), "America/Martinique");
    db.conn()
        .execute_batch("UPDATE STORE SET timezone = 'Indian/Reunionn' WHERE code = 'S02'")
        .unwrap();
    let e = db.till_zone(&cfg("S02")).unwrap_err().to_string();
    assert!(
        e.contains("store S02") && e.contains("Indian/Reunionn") && e.contains("STORE.timezone"),
        "{e}"
    );
}

#[test]
fn a_cashier_table_without_its_columns_is_named() {
    let (_d, db) = db();
    db.conn()
        .execute_batch("CREATE TABLE CASHIER(code TEXT PRIMARY KEY, name TEXT)")
        .unwrap();
    let e = cashiers(db.conn(), "S01").unwrap_err().to_string();
    assert!(e.contains("no column store"), "{e}");
}

#[test]
fn an_invoices_customer() {
    let (_d, db) = db();
    assert_eq!(customer_address(db.conn(), "CLI000001").unwrap(), None);
    demo(&db);
    let (code, name, city): (String, String, String) = db
        .conn()
        .query_row(
            "SELECT code, name, city FROM CLI WHERE city IS NOT NULL AND code <> 'CLI000000' LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let c = customer_address(db.conn(), &code).unwrap().unwrap();
    assert_eq!(c.name.as_deref(), Some(name.as_str()));
    assert_eq!(c.address, [city]);
    assert_eq!(customer_address(db.conn(), "NOPE").unwrap(), None);
}
