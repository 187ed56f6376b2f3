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

    server.erp(
        "UPDATE ART SET price_cents = price_cents * 2 WHERE code <= 'ART0000050';
         DELETE FROM ART WHERE code = 'ART0000100';
         INSERT INTO ART(code, label, price_cents, vat_rate_bp) VALUES ('ZZ1', 'Nouveau', 100, 2000);",
    );
    server.export();
    let r = pull(&t1).unwrap();
    let art = r.tables.iter().find(|t| t.table == "ART").unwrap();
    assert_eq!(art.action, "incremental", "{r:#?}");
    pull(&t3).unwrap();
    server.assert_till_matches(&t1);
    server.assert_till_matches(&t3);
}

/// Change capture does not depend on tillsync's code: the `sqlite3` shell
/// (another program, another SQLite library) writes, the till gets it.
#[test]
fn changes_made_with_the_sqlite3_shell_reach_the_till() {
    let Ok(shell) = which_sqlite3() else {
        assert!(
            std::env::var_os("TILLSYNC_CI").is_none(),
            "CI must have the sqlite3 shell installed"
        );
        eprintln!("SKIPPED: no sqlite3 shell on this machine");
        return;
    };
    let server = TestServer::start(300);
    if server.is_postgres() {
        eprintln!("SKIPPED on PostgreSQL: the sqlite3 shell writes a SQLite file");
        return;
    }
    server.export();
    let till = server.install_till("T002");
    pull(&till).unwrap();
    let db = server.dir().join("server.db");
    let out = std::process::Command::new(shell)
        .arg(&db)
        .arg(
            "PRAGMA busy_timeout=5000;
             UPDATE ART SET label = 'Changé par sqlite3' WHERE code = 'ART0000001';
             UPDATE ART SET code = 'ART9999999' WHERE code = 'ART0000002';
             DELETE FROM ART WHERE code = 'ART0000003';
             INSERT INTO ART(code, label, price_cents, vat_rate_bp) VALUES ('SHELL1', 'Ajout shell', 250, 550);",
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sqlite3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.export();
    let r = pull(&till).unwrap();
    let art = r.tables.iter().find(|t| t.table == "ART").unwrap();
    assert_eq!(art.action, "incremental");
    let applied = r.applied.iter().find(|a| a.table == "ART").unwrap();
    // ART0000001 and ART9999999 and SHELL1 upserted; ART0000002 and ART0000003 deleted.
    assert_eq!((applied.upserts, applied.deletes), (3, 2), "{applied:?}");
    server.assert_till_matches(&till);
}

fn which_sqlite3() -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("sqlite3"))
                .find(|f| f.is_file())
        })
        .ok_or(())
}
