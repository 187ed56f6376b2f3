//! The down path end to end: full load, ERP changes, incremental load.

use tillsync_testkit::{TestServer, pull};

#[test]
fn full_then_incremental_load_matches_the_server() {
    let server = TestServer::start(2_000);
    server.export();
    let t1 = server.install_till("T001");
    let t3 = server.install_till("T003");
    pull(&t1).unwrap();
    pull(&t3).unwrap();
    server.assert_till_matches(&t1);
    server.assert_till_matches(&t3);

    server
        .db()
        .conn()
        .execute_batch(
            "UPDATE ART SET price_cents = price_cents * 2 WHERE code <= 'ART0000050';
             DELETE FROM ART WHERE code = 'ART0000100';
             INSERT INTO ART(code, label, price_cents, vat_rate_bp) VALUES ('ZZ1', 'Nouveau', 100, 2000);",
        )
        .unwrap();
    server.export();
    let r = pull(&t1).unwrap();
    let art = r.tables.iter().find(|t| t.table == "ART").unwrap();
    assert_eq!(art.action, "incremental", "{r:#?}");
    pull(&t3).unwrap();
    server.assert_till_matches(&t1);
    server.assert_till_matches(&t3);
}
