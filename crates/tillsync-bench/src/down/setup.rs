//! One server and its till for `bench down`: a server data folder with demo
//! data, till T001 installed beside it, the export timed by its own progress
//! lines, price changes as the ERP makes them, packages verified and applied.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tillsync_core::{ServerConfig, TillConfig};
use tillsync_server::down::export::{ExportOptions, export};
use tillsync_server::down::report::ExportReport;
use tillsync_server::verify::compare_with_till;
use tillsync_server::{DataDir, deploy};
use tillsync_till::{DB_FILE, install};
use tillsync_till_db::TillDb;
use tillsync_till_db::db::Expect;
use tillsync_wire::package::{Package, PackageKind, peek_header};

use crate::rng::SplitMix64;

/// The big table of the demo data.
pub(crate) const TABLE: &str = "ART";
/// The till installed on each setup (store S01).
pub(crate) const TILL: &str = "T001";
/// Rows changed per incremental round.
pub(crate) const CHANGED_ROWS: usize = 1_000;

/// An installed till.
pub(crate) struct Till {
    pub(crate) cfg: TillConfig,
    pub(crate) db: TillDb,
}

/// One package verified and applied.
pub(crate) struct Applied {
    pub(crate) verify: Duration,
    pub(crate) apply: Duration,
    pub(crate) upserts: u64,
}

impl Till {
    pub(crate) fn install(dir: &Path, deploy_pkg: &Path) -> Result<Till> {
        // No server runs during the down benchmark: the till is installed
        // not enrolled, and reads its packages with the package's FTP access.
        let cfg = install::init(dir, deploy_pkg)?.config;
        let db = TillDb::open(&dir.join(DB_FILE))?;
        Ok(Till { cfg, db })
    }

    /// Verify `bytes` (timed) and apply them with `TillDb::apply` (timed).
    pub(crate) fn apply(&mut self, file: &str, bytes: &[u8]) -> Result<Applied> {
        let key = self.cfg.verifying_key()?;
        let expect = Expect {
            folder: &self.cfg.folder.name,
            store: &self.cfg.till.store,
            force_full: false,
        };
        let t = Instant::now();
        let pkg = Package::verify(bytes, &key).with_context(|| format!("verifying {file}"))?;
        let verify = t.elapsed();
        let t = Instant::now();
        let r = self.db.apply(file, &pkg, &expect)?;
        let apply = t.elapsed();
        Ok(Applied {
            verify,
            apply,
            upserts: r.upserts,
        })
    }
}

/// A server data folder with demo data and till T001 installed beside it.
pub(crate) struct Setup {
    pub(crate) rows: usize,
    pub(crate) root: PathBuf,
    pub(crate) data: DataDir,
    pub(crate) cfg: ServerConfig,
    pub(crate) deploy_pkg: PathBuf,
    pub(crate) till: Till,
    pub(crate) init: Duration,
}

/// One export, with ART's part of it.
pub(crate) struct Exported {
    pub(crate) report: ExportReport,
    pub(crate) total: Duration,
    pub(crate) art_read: Duration,
    pub(crate) art_publish: Duration,
    /// ART's package file, if one was published.
    pub(crate) art_file: Option<String>,
}

impl Setup {
    pub(crate) fn create(root: &Path, rows: usize, retention: u32) -> Result<Setup> {
        Setup::create_on(root, rows, retention, None)
    }

    /// [`Setup::create`] with the server database at `db_url` (default: a
    /// SQLite file in the data folder).
    pub(crate) fn create_on(
        root: &Path,
        rows: usize,
        retention: u32,
        db_url: Option<&str>,
    ) -> Result<Setup> {
        let t = Instant::now();
        let (data, _) = DataDir::init_with_db(&root.join("server"), "BENCH", Some(rows), db_url)
            .context("creating the bench server")?;
        let init = t.elapsed();
        let mut cfg = data.config()?;
        if cfg.export.retention < retention {
            cfg.set("export.retention", &retention.to_string())?;
            cfg.save(data.path())?;
        }
        let deploy_pkg = root.join(format!("{TILL}.deploy.json"));
        deploy::write(&deploy::build(&data, TILL)?, &deploy_pkg)?;
        let till = Till::install(&root.join(TILL), &deploy_pkg)?;
        Ok(Setup {
            rows,
            root: root.to_path_buf(),
            data,
            cfg,
            deploy_pkg,
            till,
            init,
        })
    }

    /// Run one export into the share folder, timing ART's part from the
    /// export's own progress lines ("reading ART", "publishing ART…").
    pub(crate) fn export(&self) -> Result<Exported> {
        let mut store = self.data.package_store(&self.cfg)?;
        let mut marks: Vec<(String, Instant)> = Vec::new();
        let t = Instant::now();
        let report = export(
            &self.data,
            store.as_mut(),
            ExportOptions::default(),
            &mut |m| marks.push((m.to_string(), Instant::now())),
        )?;
        let total = t.elapsed();
        let end = Instant::now();
        let art_file = report
            .tables
            .iter()
            .find(|t| t.table == TABLE)
            .and_then(|t| t.published.first().cloned());
        let span = |label: &str| -> Duration {
            match marks.iter().position(|(m, _)| m == label) {
                Some(i) => {
                    let next = marks.get(i + 1).map(|(_, at)| *at).unwrap_or(end);
                    next - marks[i].1
                }
                None => Duration::ZERO,
            }
        };
        let art_read = span(&format!("reading {TABLE}"));
        let art_publish = art_file
            .as_ref()
            .map(|f| span(&format!("publishing {f}")))
            .unwrap_or_default();
        Ok(Exported {
            report,
            total,
            art_read,
            art_publish,
            art_file,
        })
    }

    /// The bytes of a published package, from the share folder.
    pub(crate) fn package(&self, file: &str) -> Result<Vec<u8>> {
        Ok(self.data.package_store(&self.cfg)?.get(file)?)
    }

    /// Apply the packages of an export for every table but ART (the till's
    /// store subset only), untimed: the till then holds every table.
    pub(crate) fn apply_others(&mut self, e: &Exported) -> Result<()> {
        for t in e.report.tables.iter().filter(|t| t.table != TABLE) {
            for f in &t.published {
                let bytes = self.package(f)?;
                let h = peek_header(&bytes)?;
                if h.subset
                    .as_ref()
                    .is_none_or(|s| *s == self.till.cfg.till.store)
                {
                    self.till.apply(f, &bytes)?;
                }
            }
        }
        Ok(())
    }

    /// The server database file.
    pub(crate) fn server_db(&self) -> Result<PathBuf> {
        self.cfg
            .db_path(self.data.path())
            .context("the bench server database is not a SQLite file")
    }

    /// Change the price of `n` items, in one transaction, as the ERP would:
    /// spread over the table (one random item in each of `n` equal slices of
    /// the rowids: the worst case, every change on its own page), or
    /// `clustered`, `n` consecutive items from a random start (a price change
    /// of a product family or a supplier's range).
    fn change_prices(&self, n: usize, seed: u64, clustered: bool) -> Result<usize> {
        let db = self.data.open_db()?;
        let c = db.conn();
        let mut rng = SplitMix64(seed);
        let n = n.min(self.rows);
        c.execute_batch("BEGIN IMMEDIATE")?;
        let mut changed = 0;
        {
            let mut stmt =
                c.prepare("UPDATE \"ART\" SET price_cents = price_cents + 1 WHERE rowid = ?1")?;
            let start = 1 + rng.below((self.rows - n + 1) as u64);
            for i in 0..n {
                let rowid = if clustered {
                    start + i as u64
                } else {
                    let lo = self.rows * i / n;
                    let hi = self.rows * (i + 1) / n;
                    lo as u64 + 1 + rng.below((hi - lo) as u64)
                };
                changed += stmt.execute([rowid as i64])?;
            }
        }
        c.execute_batch("COMMIT")?;
        Ok(changed)
    }

    /// Change prices and export: the ART incremental package, checked.
    /// Returns (export time, file, bytes, the export).
    pub(crate) fn changes_exported(
        &self,
        seed: u64,
        clustered: bool,
    ) -> Result<(Duration, String, Vec<u8>, Exported)> {
        let want = CHANGED_ROWS.min(self.rows);
        let changed = self.change_prices(CHANGED_ROWS, seed, clustered)?;
        if changed != want {
            bail!("{changed} items changed instead of {want}");
        }
        let e = self.export()?;
        let outcome = e
            .report
            .tables
            .iter()
            .find(|t| t.table == TABLE)
            .map(|t| t.outcome.as_str());
        if outcome != Some("incremental") {
            bail!("the export of {TABLE} was {outcome:?} where only an incremental was expected");
        }
        let file = e
            .art_file
            .clone()
            .context("the incremental export published no ART package")?;
        let bytes = self.package(&file)?;
        let h = peek_header(&bytes)?;
        if h.kind != PackageKind::Incremental || h.upserts != want as u64 {
            bail!("{file} is not an incremental package of {want} upserts");
        }
        Ok((e.total, file, bytes, e))
    }

    /// One incremental round through the library: change prices, export,
    /// `TillDb::apply` of ART's incremental package. Returns (export, apply,
    /// package bytes).
    pub(crate) fn incremental_round(
        &mut self,
        seed: u64,
        clustered: bool,
    ) -> Result<(Duration, Duration, u64)> {
        let (export_d, file, bytes, e) = self.changes_exported(seed, clustered)?;
        let a = self.till.apply(&file, &bytes)?;
        self.apply_others(&e)?;
        Ok((export_d, a.apply, bytes.len() as u64))
    }

    /// Every table of the till equals the server's.
    pub(crate) fn check_till(&self) -> Result<()> {
        let m = compare_with_till(&self.data, self.till.db.conn(), &self.till.cfg.till.store)?;
        if let Some(t) = m.iter().find(|t| !t.matches) {
            bail!(
                "after the bench, table {} of the till differs from the server ({} rows, server {})",
                t.table,
                t.till_rows,
                t.expected_rows
            );
        }
        Ok(())
    }
}
