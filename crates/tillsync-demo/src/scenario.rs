//! The demo scenario's fixed parts: its two tills, the export it runs between
//! loads, and the changes an ERP makes in the server database during a day.

use anyhow::{Context, Result};
use tillsync_core::ServerConfig;
use tillsync_server::DataDir;
use tillsync_server::down::export::{ExportOptions, export};
use tillsync_server_sqlite::ServerDb;

/// The tills the demo installs, loads and sells on.
pub(crate) const TILLS: [&str; 2] = ["T001", "T002"];

/// One export into the package store, its progress dropped.
pub(crate) fn run_export(data: &DataDir, cfg: &ServerConfig) -> Result<()> {
    let mut store = data.package_store(cfg)?;
    export(data, store.as_mut(), ExportOptions::default(), &mut |_| {})?;
    Ok(())
}

/// What an ERP does during a day: price changes, new items, withdrawn items,
/// a customer moving store, a VAT rate label change. Plain SQL, no tillsync API.
pub(crate) fn erp_changes(db: &ServerDb) -> Result<()> {
    db.conn().execute_batch(
        "BEGIN;
         UPDATE ART SET price_cents = price_cents + 10
           WHERE code IN (SELECT code FROM ART ORDER BY code LIMIT 100);
         INSERT INTO ART(code, label, price_cents, vat_rate_bp, barcode, family, unit)
           SELECT 'NEW' || printf('%04d', value), 'Nouveauté ' || value, 199 + value, 550, NULL, 'EPICERIE', 'PCE'
           FROM generate_series(1, 20);
         DELETE FROM ART WHERE code IN (SELECT code FROM ART WHERE code LIKE 'ART%' ORDER BY code DESC LIMIT 10);
         UPDATE CLI SET store = 'S02', city = 'Grenoble'
           WHERE code = (SELECT code FROM CLI WHERE store = 'S01' ORDER BY code LIMIT 1);
         UPDATE T012 SET label = label || ' (2027)' WHERE rowid = (SELECT MIN(rowid) FROM T012);
         COMMIT;",
    )
    .or_else(|_| {
        // generate_series is missing from some SQLite builds: a recursive CTE does the same.
        db.conn().execute_batch("ROLLBACK;")?;
        db.conn().execute_batch(
            "BEGIN;
             UPDATE ART SET price_cents = price_cents + 10
               WHERE code IN (SELECT code FROM ART ORDER BY code LIMIT 100);
             WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < 20)
             INSERT INTO ART(code, label, price_cents, vat_rate_bp, barcode, family, unit)
               SELECT 'NEW' || printf('%04d', value), 'Nouveauté ' || value, 199 + value, 550, NULL, 'EPICERIE', 'PCE'
               FROM n;
             DELETE FROM ART WHERE code IN (SELECT code FROM ART WHERE code LIKE 'ART%' ORDER BY code DESC LIMIT 10);
             UPDATE CLI SET store = 'S02', city = 'Grenoble'
               WHERE code = (SELECT code FROM CLI WHERE store = 'S01' ORDER BY code LIMIT 1);
             UPDATE T012 SET label = label || ' (2027)' WHERE rowid = (SELECT MIN(rowid) FROM T012);
             COMMIT;",
        )
    })
    .context("applying the ERP changes")?;
    Ok(())
}
