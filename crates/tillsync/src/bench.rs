//! `tillsync bench …`: measured runs, figures as ratios against a baseline
//! measured in the same run.
//!
//! `bench down` runs the down path on real SQLite files in a temp folder,
//! without the network: the export publishes into the share folder (copy
//! mode), and the till's packages are read from there, verified and applied
//! with [`TillDb::apply`], so only the library's own work is timed. With
//! `--experiments` it also times local, experimental copies of the apply
//! loop (other pragmas, other table shapes) for analysis; those never feed
//! the main figures.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde::Serialize;
use tillsync_core::{ServerConfig, TillConfig};
use tillsync_server::down::export::{ExportOptions, export};
use tillsync_server::down::report::ExportReport;
use tillsync_server::verify::compare_with_till;
use tillsync_server::{DataDir, deploy};
use tillsync_store::TillDb;
use tillsync_store::sql::{q, q_list, to_sql};
use tillsync_store::till::{Expect, create_table_sql};
use tillsync_till::{DB_FILE, install};
use tillsync_wire::layout::Layout;
use tillsync_wire::package::{Op, Package, PackageKind, peek_header};

use crate::ui::Out;

#[derive(Subcommand)]
pub enum BenchCmd {
    /// The down path: export, package size, full import against SQLite's own copy, incrementals.
    Down(DownArgs),
    /// The up path: tickets/s pushed by many tills, against a no-op endpoint.
    Up(crate::bench_up::UpArgs),
    /// A fleet of light tills polling a server process: latency, errors, server RSS and CPU.
    Fleet(crate::bench_fleet::FleetArgs),
}

#[derive(Args)]
pub struct DownArgs {
    /// Items in the big table.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: usize,
    /// Items in the small setup the incremental apply is compared with.
    #[arg(long, default_value_t = 10_000)]
    pub small_rows: usize,
    /// Incremental rounds on each setup (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Full imports and SQLite copies of the big table, interleaved (the
    /// median is reported).
    #[arg(long, default_value_t = 3)]
    pub full_runs: usize,
    /// Folder to make the temporary bench folder in (default: the system
    /// temp folder). Put it on the disk you mean to measure: the figures
    /// include fsync.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Also time local, experimental variants of the apply loop (pragmas,
    /// table shapes), for analysis. They are not the library's code path.
    #[arg(long)]
    pub experiments: bool,
    /// Run the down path on PostgreSQL, with SQLite in the same run as the
    /// baseline: a PostgreSQL server and a role that may create databases
    /// (a fresh database is made for the run and dropped at the end). Only
    /// `--rows`, `--rounds` and `--dir` apply then.
    #[arg(long, value_name = "URL")]
    pub db_url: Option<String>,
}

pub fn run(cmd: BenchCmd, out: &Out) -> Result<ExitCode> {
    match cmd {
        BenchCmd::Down(args) => match args.db_url.clone() {
            Some(url) => crate::bench_down_pg::run(args, &url, out),
            None => down(args, out),
        },
        BenchCmd::Up(args) => crate::bench_up::run(args, out),
        BenchCmd::Fleet(args) => crate::bench_fleet::run(args, out),
    }
}

/// The big table of the demo data.
const TABLE: &str = "ART";
/// The till installed on each setup (store S01).
const TILL: &str = "T001";
/// Rows changed per incremental round.
const CHANGED_ROWS: usize = 1_000;
/// Package size / table size in SQLite.
const TARGET_SIZE_RATIO: f64 = 0.25;
/// Full import / SQLite's own copy.
const TARGET_IMPORT_VS_COPY: f64 = 2.0;
/// Incremental apply on the big table / on the small one.
const TARGET_INCREMENTAL_RATIO: f64 = 1.2;

// ---- the report ----

#[derive(Serialize)]
struct DownReport {
    rows: usize,
    small_rows: usize,
    changed_rows: usize,
    rounds: usize,
    full_runs: usize,
    sqlite_version: String,
    cpus: usize,
    arch: String,
    dir: PathBuf,
    /// `server init` with the demo data (not compared with anything).
    setup_ms: f64,
    export: ExportFigures,
    size: SizeFigures,
    full_import: FullImportFigures,
    incremental: IncrementalFigures,
    targets: Vec<Target>,
    all_targets_met: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    experiments: Option<Experiments>,
    total_ms: f64,
}

#[derive(Serialize)]
struct ExportFigures {
    /// The whole first export (every down table, index, bookkeeping).
    total_ms: f64,
    /// ART: reading the rows in key order and encoding them.
    art_read_ms: f64,
    /// ART: compressing, signing and writing the package file.
    art_publish_ms: f64,
    /// `art_read_ms + art_publish_ms`.
    art_ms: f64,
    /// The rest: other (tiny) tables, index, bookkeeping.
    other_ms: f64,
    art_rows: u64,
    /// Bytes of every package published.
    bytes: u64,
}

#[derive(Serialize)]
struct SizeFigures {
    art_package_file: String,
    /// Size of ART's full package file.
    art_package_bytes: u64,
    /// Its payload before zstd.
    art_payload_raw_bytes: u64,
    /// ART (table b-tree and key index) in the server database.
    art_table_bytes: u64,
    /// ART in the till database, after the full import.
    art_till_table_bytes: u64,
    /// How `art_table_bytes` was measured.
    method: String,
    /// `art_package_bytes / art_table_bytes`.
    ratio: f64,
}

#[derive(Serialize)]
struct FullImportFigures {
    rows: u64,
    /// `Package::verify` (signature, SHA-256 of the payload), median.
    verify_ms: f64,
    /// `TillDb::apply` of the full package into a fresh till database, per run.
    apply_runs_ms: Vec<f64>,
    apply_ms: f64,
    /// Sub-step measured apart (not inside `apply_ms`): zstd decompression.
    decompress_ms: f64,
    /// Sub-step measured apart: decoding every record of the payload.
    decode_ms: f64,
    /// SQLite alone: `INSERT INTO main.ART_copy SELECT * FROM src.ART` into
    /// a fresh file with the till's pragmas, one transaction, per run.
    sqlite_copy_runs_ms: Vec<f64>,
    sqlite_copy_ms: f64,
    /// The same with `WHERE 1`, which turns off SQLite's transfer
    /// optimisation (rows decoded and inserted one by one). For information.
    sqlite_copy_row_by_row_runs_ms: Vec<f64>,
    sqlite_copy_row_by_row_ms: f64,
    /// `apply_ms / sqlite_copy_ms` (medians).
    ratio: f64,
}

#[derive(Serialize)]
struct IncrementalFigures {
    changed_rows: usize,
    big: IncrementalSide,
    small: IncrementalSide,
    /// `big.apply_median_ms / small.apply_median_ms`.
    ratio: f64,
    /// The same with 1,000 consecutive items (a product family): apply per
    /// round, big and small, and the ratio of the medians.
    clustered_big_apply_ms: Vec<f64>,
    clustered_small_apply_ms: Vec<f64>,
    clustered_ratio: f64,
}

#[derive(Serialize)]
struct IncrementalSide {
    rows: usize,
    /// `TillDb::apply` of the ART incremental package, per round.
    apply_ms: Vec<f64>,
    apply_median_ms: f64,
    /// The incremental export, per round.
    export_ms: Vec<f64>,
    export_median_ms: f64,
    /// Size of the ART incremental package (last round).
    package_bytes: u64,
    /// Leaf pages of ART's table b-tree in the till (`dbstat`): the changed
    /// rows are spread over them, and every page holding one is rewritten.
    table_leaf_pages: u64,
}

#[derive(Serialize)]
struct Target {
    name: String,
    value: f64,
    limit: f64,
    met: bool,
}

// ---- one server and its till ----

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
    fn install(dir: &Path, deploy_pkg: &Path) -> Result<Till> {
        let cfg = install::init(dir, deploy_pkg)?;
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
    fn create(root: &Path, rows: usize, retention: u32) -> Result<Setup> {
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
    fn server_db(&self) -> Result<PathBuf> {
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
    fn changes_exported(
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
    fn incremental_round(
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

/// A small reproducible generator (SplitMix64), enough to pick rows.
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (the modulo bias is negligible here).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

// ---- SQLite measurements ----

/// Bytes of a table: its b-tree and every index on it (`dbstat`).
const TABLE_BYTES_SQL: &str = "SELECT SUM(pgsize) FROM dbstat
     WHERE name IN (SELECT name FROM sqlite_schema WHERE tbl_name = ?1)";

/// Logical size of the main database of a connection.
const DB_BYTES_SQL: &str =
    "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()";

/// SQLite copying ART by itself.
struct Copy {
    elapsed: Duration,
    rows: i64,
    /// How much the copy's file grew.
    bytes: u64,
}

/// Remove a SQLite file and its WAL and shared-memory files.
fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// SQLite's own copy of `src`'s ART into an empty table of a fresh file
/// opened like a till database (WAL, synchronous FULL), in one transaction
/// that also creates the table (as the import creates its staging table).
/// `transfer: false` adds `WHERE 1`, which turns off SQLite's transfer
/// optimisation (raw record copy) and makes it insert row by row. The file
/// is removed afterwards.
fn sqlite_copy(path: &Path, src: &Path, layout: &Layout, transfer: bool) -> Result<Copy> {
    let db = TillDb::open(path)?;
    let c = db.conn();
    let before: i64 = c.query_row(DB_BYTES_SQL, [], |r| r.get(0))?;
    let src = src
        .to_str()
        .context("the server database path is not UTF-8")?;
    c.execute("ATTACH DATABASE ?1 AS src", [src])?;
    let create = create_table_sql("main.\"ART_copy\"", layout);
    let filter = if transfer { "" } else { " WHERE 1" };
    let t = Instant::now();
    c.execute_batch(&format!(
        "BEGIN IMMEDIATE; {create}
         INSERT INTO main.\"ART_copy\" SELECT * FROM src.\"{TABLE}\"{filter};
         COMMIT;"
    ))?;
    let elapsed = t.elapsed();
    let rows: i64 = c.query_row("SELECT COUNT(*) FROM main.\"ART_copy\"", [], |r| r.get(0))?;
    c.execute_batch("DETACH DATABASE src")?;
    let after: i64 = c.query_row(DB_BYTES_SQL, [], |r| r.get(0))?;
    drop(db);
    remove_db(path);
    Ok(Copy {
        elapsed,
        rows,
        bytes: (after - before).max(0) as u64,
    })
}

/// Sub-steps of a full apply, measured apart with the library's own reader:
/// zstd decompression, then decoding every record.
fn decode_breakdown(bytes: &[u8], till_cfg: &TillConfig) -> Result<(Duration, Duration)> {
    let pkg = Package::verify(bytes, &till_cfg.verifying_key()?)?;
    let t = Instant::now();
    let payload = pkg.decompress()?;
    let decompress = t.elapsed();
    let t = Instant::now();
    let mut vals = Vec::new();
    let mut records = payload.records();
    let mut n = 0u64;
    while records.next_into(&mut vals)?.is_some() {
        n += std::hint::black_box(vals.len()) as u64;
    }
    let decode = t.elapsed();
    std::hint::black_box(n);
    Ok((decompress, decode))
}

pub(crate) fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

pub(crate) fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => 0.0,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        (a / b * 1e4).round() / 1e4
    } else {
        f64::INFINITY
    }
}

/// The last line of every bench's text output: whether every target was
/// met, and how long the whole run took.
pub(crate) fn print_verdict(all_targets_met: bool, total_ms: f64) {
    println!(
        "{} ({:.1} s in all)",
        if all_targets_met {
            "every target met"
        } else {
            "some targets NOT met"
        },
        total_ms / 1e3
    );
}

/// A fresh temporary folder for a bench run, in `dir` (or the system temp
/// folder): put it on the disk you mean to measure, fsync is in the figures.
pub(crate) fn bench_dir(dir: Option<&Path>, prefix: &str) -> Result<tempfile::TempDir> {
    let parent = dir
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(&parent)
        .with_context(|| format!("cannot make a temp folder in {}", parent.display()))
}

// ---- bench down ----

fn down(args: DownArgs, out: &Out) -> Result<ExitCode> {
    if args.rows == 0 || args.small_rows == 0 || args.rounds == 0 || args.full_runs == 0 {
        bail!("--rows, --small-rows, --rounds and --full-runs must be at least 1");
    }
    let started = Instant::now();
    let tmp = bench_dir(args.dir.as_deref(), "tillsync-bench-")?;
    let root = tmp.path();
    // Every round (experiments included) must stay incremental: no full
    // package forced by the retention.
    let retention = u32::try_from(16 * args.rounds + 2).unwrap_or(u32::MAX);

    let pb = out.spinner("starting");
    const STEPS: usize = 7;
    let step = |i: usize, msg: String| pb.set_message(format!("[{i}/{STEPS}] {msg}"));

    step(1, format!("creating a server with {} items", args.rows));
    let mut big = Setup::create(&root.join("big"), args.rows, retention)?;

    step(2, "full export".into());
    let e = big.export()?;
    let art_file = e
        .art_file
        .clone()
        .context("the first export published no ART package")?;
    let art_rows = e
        .report
        .tables
        .iter()
        .find(|t| t.table == TABLE)
        .map(|t| t.rows)
        .unwrap_or(0);
    let art_bytes = big.package(&art_file)?;
    let header = peek_header(&art_bytes)?;

    // Full import and SQLite's copies, interleaved, each into a fresh file.
    let server_db_path = big.server_db()?;
    let (mut verifies, mut applies, mut copies, mut row_copies) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut copy_bytes = 0;
    let mut imported_rows = 0;
    for run in 0..args.full_runs {
        let of = format!("{}/{}", run + 1, args.full_runs);
        step(3, format!("full import {of}: TillDb::apply of {art_file}"));
        let a = if run == 0 {
            big.till.apply(&art_file, &art_bytes)?
        } else {
            let dir = big.root.join(format!("till-run{run}"));
            let mut till = Till::install(&dir, &big.deploy_pkg)?;
            let a = till.apply(&art_file, &art_bytes)?;
            drop(till);
            let _ = std::fs::remove_dir_all(&dir);
            a
        };
        imported_rows = a.upserts;
        verifies.push(ms(a.verify));
        applies.push(ms(a.apply));
        step(4, format!("SQLite's own copy of ART {of}"));
        let copy_path = big.root.join("copy.db");
        for transfer in [true, false] {
            let c = sqlite_copy(&copy_path, &server_db_path, &header.layout, transfer)?;
            if c.rows as u64 != art_rows {
                bail!("SQLite's copy holds {} rows, ART {art_rows}", c.rows);
            }
            if transfer {
                copy_bytes = c.bytes;
                copies.push(ms(c.elapsed));
            } else {
                row_copies.push(ms(c.elapsed));
            }
        }
    }
    big.apply_others(&e)?;
    let (decompress, decode) = decode_breakdown(&art_bytes, &big.till.cfg)?;
    let server_db = big.data.open_db()?;
    let (table_bytes, method) = match server_db
        .conn()
        .query_row(TABLE_BYTES_SQL, [TABLE], |r| r.get::<_, Option<i64>>(0))
    {
        Ok(n) => (
            n.unwrap_or(0) as u64,
            "dbstat: pages of ART and its key index in the server database".to_string(),
        ),
        Err(_) => (
            copy_bytes,
            "growth of a fresh database file holding only a copy of ART (no dbstat)".to_string(),
        ),
    };
    let sqlite_version = server_db.engine_version();
    drop(server_db);
    let till_table_bytes = big
        .till
        .db
        .conn()
        .query_row(TABLE_BYTES_SQL, [TABLE], |r| r.get::<_, Option<i64>>(0))
        .ok()
        .flatten()
        .unwrap_or(0) as u64;

    step(
        5,
        format!("creating a server with {} items", args.small_rows),
    );
    let mut small = Setup::create(&root.join("small"), args.small_rows, retention)?;
    let se = small.export()?;
    let small_art = se
        .art_file
        .clone()
        .context("the first export published no ART package")?;
    small.till.apply(&small_art, &small.package(&small_art)?)?;
    small.apply_others(&se)?;

    let mut big_side = (Vec::new(), Vec::new(), 0u64);
    let mut small_side = (Vec::new(), Vec::new(), 0u64);
    for r in 0..args.rounds {
        step(
            6,
            format!(
                "incremental round {}/{}: {CHANGED_ROWS} changed items",
                r + 1,
                args.rounds
            ),
        );
        // Interleaved, so a slow moment of the machine hits both sides.
        let seed = 0x5EED_0000 + r as u64;
        for (s, side) in [(&mut big, &mut big_side), (&mut small, &mut small_side)] {
            let (export_d, apply_d, bytes) = s.incremental_round(seed, false)?;
            side.0.push(ms(export_d));
            side.1.push(ms(apply_d));
            side.2 = bytes;
        }
    }
    let (mut clustered_big, mut clustered_small) = (Vec::new(), Vec::new());
    for r in 0..args.rounds {
        step(
            6,
            format!(
                "incremental round {}/{}: {CHANGED_ROWS} consecutive items",
                r + 1,
                args.rounds
            ),
        );
        let seed = 0xC1A5_0000 + r as u64;
        clustered_big.push(ms(big.incremental_round(seed, true)?.1));
        clustered_small.push(ms(small.incremental_round(seed, true)?.1));
    }

    let experiments = if args.experiments {
        Some(run_experiments(
            &mut big,
            &mut small,
            &art_bytes,
            args.rounds,
            &|m| step(6, m),
        )?)
    } else {
        None
    };

    step(7, "checking the tills against the servers".into());
    big.check_till()?;
    small.check_till()?;
    pb.finish_and_clear();

    let leaves = |s: &Setup| -> u64 {
        s.till
            .db
            .conn()
            .query_row(
                "SELECT COUNT(*) FROM dbstat WHERE name = ?1 AND pagetype = 'leaf'",
                [TABLE],
                |r| r.get::<_, i64>(0),
            )
            .unwrap_or(0) as u64
    };
    let (big_leaves, small_leaves) = (leaves(&big), leaves(&small));
    let side = |rows: usize, s: (Vec<f64>, Vec<f64>, u64), table_leaf_pages| IncrementalSide {
        rows,
        apply_median_ms: median(&s.1),
        apply_ms: s.1,
        export_median_ms: median(&s.0),
        export_ms: s.0,
        package_bytes: s.2,
        table_leaf_pages,
    };
    let big_inc = side(args.rows, big_side, big_leaves);
    let small_inc = side(args.small_rows, small_side, small_leaves);

    let size_ratio = ratio(art_bytes.len() as f64, table_bytes as f64);
    let import_ratio = ratio(median(&applies), median(&copies));
    let inc_ratio = ratio(big_inc.apply_median_ms, small_inc.apply_median_ms);
    let clustered_ratio = ratio(median(&clustered_big), median(&clustered_small));
    let target = |name: &str, value: f64, limit: f64| Target {
        name: name.to_string(),
        value,
        limit,
        met: value <= limit,
    };
    let targets = vec![
        target(
            "ART full package / ART in SQLite",
            size_ratio,
            TARGET_SIZE_RATIO,
        ),
        target(
            "full import / SQLite copy",
            import_ratio,
            TARGET_IMPORT_VS_COPY,
        ),
        target(
            "incremental apply, big / small (spread items)",
            inc_ratio,
            TARGET_INCREMENTAL_RATIO,
        ),
        target(
            "incremental apply, big / small (consecutive items)",
            clustered_ratio,
            TARGET_INCREMENTAL_RATIO,
        ),
    ];
    let art_ms = ms(e.art_read) + ms(e.art_publish);
    let report = DownReport {
        rows: args.rows,
        small_rows: args.small_rows,
        changed_rows: CHANGED_ROWS,
        rounds: args.rounds,
        full_runs: args.full_runs,
        sqlite_version,
        cpus: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        arch: std::env::consts::ARCH.to_string(),
        dir: root.to_path_buf(),
        setup_ms: ms(big.init),
        export: ExportFigures {
            total_ms: ms(e.total),
            art_read_ms: ms(e.art_read),
            art_publish_ms: ms(e.art_publish),
            art_ms,
            other_ms: ((ms(e.total) - art_ms) * 1e3).round() / 1e3,
            art_rows,
            bytes: e.report.bytes,
        },
        size: SizeFigures {
            art_package_file: art_file,
            art_package_bytes: art_bytes.len() as u64,
            art_payload_raw_bytes: header.payload_raw_len,
            art_table_bytes: table_bytes,
            art_till_table_bytes: till_table_bytes,
            method,
            ratio: size_ratio,
        },
        full_import: FullImportFigures {
            rows: imported_rows,
            verify_ms: median(&verifies),
            apply_ms: median(&applies),
            apply_runs_ms: applies,
            decompress_ms: ms(decompress),
            decode_ms: ms(decode),
            sqlite_copy_ms: median(&copies),
            sqlite_copy_runs_ms: copies,
            sqlite_copy_row_by_row_ms: median(&row_copies),
            sqlite_copy_row_by_row_runs_ms: row_copies,
            ratio: import_ratio,
        },
        incremental: IncrementalFigures {
            changed_rows: CHANGED_ROWS,
            ratio: inc_ratio,
            clustered_ratio,
            clustered_big_apply_ms: clustered_big,
            clustered_small_apply_ms: clustered_small,
            big: big_inc,
            small: small_inc,
        },
        all_targets_met: targets.iter().all(|t| t.met),
        targets,
        experiments,
        total_ms: ms(started.elapsed()),
    };
    drop(big);
    drop(small);
    drop(tmp);
    out.emit(&report, || print_report(&report));
    Ok(ExitCode::SUCCESS)
}

// ---- experiments: local copies of the apply loop ----

#[derive(Serialize)]
struct Experiments {
    note: String,
    full_import: Vec<FullExperiment>,
    incremental: Vec<IncrementalExperiment>,
}

#[derive(Serialize)]
struct FullExperiment {
    variant: String,
    /// Decompression, staging table, inserts (and index build, if any).
    exec_ms: f64,
    /// `COMMIT`: WAL write, fsync, automatic checkpoint.
    commit_ms: f64,
    total_ms: f64,
    /// ART's bytes in the resulting file (`dbstat`).
    table_bytes: u64,
}

#[derive(Serialize)]
struct IncrementalExperiment {
    variant: String,
    big: IncrementalExperimentSide,
    small: IncrementalExperimentSide,
    /// big / small, `exec_ms + commit_ms` (medians).
    ratio_apply: f64,
    /// big / small, `exec_ms + commit_ms + checkpoint_ms` (medians).
    ratio_durable: f64,
}

#[derive(Serialize)]
struct IncrementalExperimentSide {
    /// Medians over the rounds.
    exec_ms: f64,
    commit_ms: f64,
    apply_ms: f64,
    /// An explicit checkpoint after the commit, timed apart (what the
    /// automatic checkpoint did not already do).
    checkpoint_ms: f64,
    /// Pages the transaction wrote to the WAL.
    wal_frames: f64,
}

/// How the experimental full load shapes its staging table.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// As the library: `PRIMARY KEY (…)` (rowid table + key index).
    Library,
    /// No key while loading, `CREATE UNIQUE INDEX` after the rows.
    IndexAfter,
    /// `PRIMARY KEY (…)` and `WITHOUT ROWID`: one b-tree ordered by the key.
    WithoutRowid,
}

fn staging_sql(name: &str, layout: &Layout, shape: Shape) -> String {
    match shape {
        Shape::Library => create_table_sql(name, layout),
        Shape::WithoutRowid => format!(
            "{} WITHOUT ROWID;",
            create_table_sql(name, layout).trim_end_matches(';')
        ),
        Shape::IndexAfter => {
            let cols = layout
                .columns
                .iter()
                .map(|c| {
                    let nn = if c.not_null { " NOT NULL" } else { "" };
                    format!("{} {}{nn}", q(&c.name), c.decl_type)
                })
                .collect::<Vec<_>>()
                .join(", ");
            format!("CREATE TABLE {name} ({cols});")
        }
    }
}

/// A local copy of the full branch of `TillDb::apply` (decompress, staging
/// table, inserts, rename, version row, one transaction) into a fresh file,
/// with extra `pragmas` and a table `shape`.
fn experiment_full(
    path: &Path,
    pkg: &Package<'_>,
    pragmas: &str,
    shape: Shape,
) -> Result<FullExperiment> {
    let db = TillDb::open(path)?;
    let c = db.conn();
    c.execute_batch(pragmas)?;
    let h = &pkg.header;
    let staging = q(&format!("tillsync_load_{}", h.table));
    let table = q(&h.table);
    let t = Instant::now();
    let payload = pkg.decompress()?;
    c.execute_batch("BEGIN IMMEDIATE")?;
    c.execute_batch(&staging_sql(&staging, &h.layout, shape))?;
    {
        let placeholders = vec!["?"; h.layout.columns.len()].join(", ");
        let mut ins = c.prepare(&format!("INSERT INTO {staging} VALUES ({placeholders})"))?;
        let mut vals = Vec::new();
        let mut records = payload.records();
        while let Some(op) = records.next_into(&mut vals)? {
            if op != Op::Upsert {
                bail!("a full package holds a deletion");
            }
            for (i, v) in vals.iter().enumerate() {
                ins.raw_bind_parameter(i + 1, to_sql(v))?;
            }
            ins.raw_execute()?;
        }
    }
    if shape == Shape::IndexAfter {
        let keys = q_list(h.layout.key.iter().map(String::as_str));
        let index = q(&format!("tillsync_key_{}", h.table));
        c.execute_batch(&format!(
            "CREATE UNIQUE INDEX {index} ON {staging} ({keys});"
        ))?;
    }
    c.execute_batch(&format!("ALTER TABLE {staging} RENAME TO {table};"))?;
    c.execute(
        "INSERT INTO tillsync_table_version(tbl, version, layout_hash, layout, subset, kind, loaded_at)
         VALUES (?1, ?2, ?3, '{}', NULL, 'full', ?4)",
        (&h.table, h.to_version as i64, &h.layout_hash, tillsync_store::now_rfc3339()),
    )?;
    let exec = t.elapsed();
    let tc = Instant::now();
    c.execute_batch("COMMIT")?;
    let commit = tc.elapsed();
    let total = t.elapsed();
    let table_bytes: Option<i64> = c.query_row(TABLE_BYTES_SQL, [&h.table], |r| r.get(0))?;
    drop(db);
    remove_db(path);
    Ok(FullExperiment {
        variant: String::new(),
        exec_ms: ms(exec),
        commit_ms: ms(commit),
        total_ms: ms(total),
        table_bytes: table_bytes.unwrap_or(0) as u64,
    })
}

/// One timed experimental incremental apply.
struct IncTiming {
    exec: Duration,
    commit: Duration,
    checkpoint: Duration,
    frames: i64,
}

/// A local copy of the incremental branch of `TillDb::apply` (same
/// statements, one transaction with the version row), run with extra
/// `pragmas` on the till's own connection (restored afterwards). The WAL is
/// emptied first (untimed) so every round starts alike and the frames the
/// transaction wrote can be counted; a passive checkpoint after the commit
/// is timed apart.
fn experiment_incremental(db: &TillDb, pkg: &Package<'_>, pragmas: &str) -> Result<IncTiming> {
    let c = db.conn();
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    c.execute_batch(pragmas)?;
    let h = &pkg.header;
    let table = q(&h.table);
    let t = Instant::now();
    let payload = pkg.decompress()?;
    c.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| -> Result<()> {
        let cols = q_list(h.layout.columns.iter().map(|c| c.name.as_str()));
        let keys = q_list(h.layout.key.iter().map(String::as_str));
        let placeholders = vec!["?"; h.layout.columns.len()].join(", ");
        let sets: Vec<String> = h
            .layout
            .columns
            .iter()
            .filter(|c| !h.layout.key.contains(&c.name))
            .map(|c| format!("{0} = excluded.{0}", q(&c.name)))
            .collect();
        let mut up = c.prepare(&format!(
            "INSERT INTO {table} ({cols}) VALUES ({placeholders}) ON CONFLICT ({keys}) DO UPDATE SET {}",
            sets.join(", ")
        ))?;
        let where_key = h
            .layout
            .key
            .iter()
            .enumerate()
            .map(|(i, k)| format!("{} = ?{}", q(k), i + 1))
            .collect::<Vec<_>>()
            .join(" AND ");
        let mut del = c.prepare(&format!("DELETE FROM {table} WHERE {where_key}"))?;
        let mut vals = Vec::new();
        let mut records = payload.records();
        while let Some(op) = records.next_into(&mut vals)? {
            let stmt = match op {
                Op::Upsert => &mut up,
                Op::Delete => &mut del,
            };
            for (i, v) in vals.iter().enumerate() {
                stmt.raw_bind_parameter(i + 1, to_sql(v))?;
            }
            stmt.raw_execute()?;
        }
        c.execute(
            "UPDATE tillsync_table_version SET version = ?1, kind = 'incremental', loaded_at = ?2
             WHERE tbl = ?3",
            (h.to_version as i64, tillsync_store::now_rfc3339(), &h.table),
        )?;
        c.execute(
            "INSERT INTO tillsync_journal(at, kind, result, detail)
             VALUES (?1, 'apply', 'ok', 'bench experiment')",
            [tillsync_store::now_rfc3339()],
        )?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = c.execute_batch("ROLLBACK");
        return Err(e);
    }
    let exec = t.elapsed();
    let tc = Instant::now();
    c.execute_batch("COMMIT")?;
    let commit = tc.elapsed();
    let tp = Instant::now();
    let frames: i64 = c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))?;
    let checkpoint = tp.elapsed();
    c.execute_batch(
        "PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 1000; PRAGMA mmap_size = 0;
         PRAGMA cache_size = -2000;",
    )?;
    Ok(IncTiming {
        exec,
        commit,
        checkpoint,
        frames,
    })
}

/// A copy of the till's ART as a `WITHOUT ROWID` table (and its version
/// row) in a fresh file opened like a till database.
fn without_rowid_copy(s: &Setup, path: &Path) -> Result<TillDb> {
    let layout = tillsync_store::introspect::layout(s.till.db.conn(), TABLE)?;
    let db = TillDb::open(path)?;
    let src = s.root.join(TILL).join(DB_FILE);
    let src = src
        .to_str()
        .context("the till database path is not UTF-8")?;
    let c = db.conn();
    c.execute("ATTACH DATABASE ?1 AS src", [src])?;
    c.execute_batch(&format!(
        "BEGIN IMMEDIATE; {}
         INSERT INTO main.\"{TABLE}\" SELECT * FROM src.\"{TABLE}\";
         INSERT INTO main.tillsync_table_version SELECT * FROM src.tillsync_table_version
           WHERE tbl = '{TABLE}';
         COMMIT; DETACH DATABASE src;",
        staging_sql(&format!("main.\"{TABLE}\""), &layout, Shape::WithoutRowid)
    ))?;
    Ok(db)
}

fn run_experiments(
    big: &mut Setup,
    small: &mut Setup,
    art_bytes: &[u8],
    rounds: usize,
    progress: &dyn Fn(String),
) -> Result<Experiments> {
    let key = big.till.cfg.verifying_key()?;
    let pkg = Package::verify(art_bytes, &key)?;
    let full_variants: &[(&str, &str, Shape)] = &[
        (
            "library statements and pragmas (local copy)",
            "",
            Shape::Library,
        ),
        (
            "cache_size = 256 MiB",
            "PRAGMA cache_size = -262144;",
            Shape::Library,
        ),
        (
            "synchronous = NORMAL",
            "PRAGMA synchronous = NORMAL;",
            Shape::Library,
        ),
        ("key index built after the rows", "", Shape::IndexAfter),
        ("WITHOUT ROWID table", "", Shape::WithoutRowid),
        (
            "WITHOUT ROWID + synchronous = NORMAL",
            "PRAGMA synchronous = NORMAL;",
            Shape::WithoutRowid,
        ),
    ];
    let mut full_import = Vec::new();
    for (name, pragmas, shape) in full_variants {
        progress(format!("experiment: full import, {name}"));
        let mut r = experiment_full(&big.root.join("experiment.db"), &pkg, pragmas, *shape)?;
        r.variant = name.to_string();
        full_import.push(r);
    }

    // WITHOUT ROWID copies of each till's ART, made when first needed, which
    // then follow the same incremental packages (the real tills get them
    // too, through the library).
    let wr_paths = [
        big.root.join("without-rowid.db"),
        small.root.join("without-rowid.db"),
    ];
    let mut wr_dbs: Option<[TillDb; 2]> = None;
    let inc_variants: &[(&str, &str, bool)] = &[
        ("library statements and pragmas (local copy)", "", false),
        (
            "synchronous = NORMAL",
            "PRAGMA synchronous = NORMAL;",
            false,
        ),
        (
            "wal_autocheckpoint = 0 (checkpoint left to later)",
            "PRAGMA wal_autocheckpoint = 0;",
            false,
        ),
        (
            "synchronous = NORMAL + wal_autocheckpoint = 0",
            "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0;",
            false,
        ),
        (
            "cache_size = 64 MiB + wal_autocheckpoint = 0",
            "PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 0;",
            false,
        ),
        (
            "mmap_size = 256 MiB + wal_autocheckpoint = 0",
            "PRAGMA mmap_size = 268435456; PRAGMA wal_autocheckpoint = 0;",
            false,
        ),
        ("WITHOUT ROWID table", "", true),
        (
            "WITHOUT ROWID + wal_autocheckpoint = 0",
            "PRAGMA wal_autocheckpoint = 0;",
            true,
        ),
    ];
    let mut incremental = Vec::new();
    let mut seed = 0xE4_0000;
    for (name, pragmas, without_rowid) in inc_variants {
        let mut sides: Vec<Vec<IncTiming>> = vec![Vec::new(), Vec::new()];
        if *without_rowid && wr_dbs.is_none() {
            progress("experiment: WITHOUT ROWID copies of the tills' ART".into());
            wr_dbs = Some([
                without_rowid_copy(big, &wr_paths[0])?,
                without_rowid_copy(small, &wr_paths[1])?,
            ]);
        }
        for r in 0..rounds {
            progress(format!(
                "experiment: incremental, {name}, round {}/{rounds}",
                r + 1
            ));
            seed += 1;
            for (i, s) in [&mut *big, &mut *small].into_iter().enumerate() {
                let (_, file, bytes, e) = s.changes_exported(seed, false)?;
                let pkg = Package::verify(&bytes, &s.till.cfg.verifying_key()?)?;
                if *without_rowid {
                    let dbs = wr_dbs.as_ref().expect("made before the round");
                    sides[i].push(experiment_incremental(&dbs[i], &pkg, pragmas)?);
                    s.till.apply(&file, &bytes)?;
                } else {
                    sides[i].push(experiment_incremental(&s.till.db, &pkg, pragmas)?);
                }
                s.apply_others(&e)?;
            }
        }
        let summarize = |v: &[IncTiming]| {
            let m = |f: &dyn Fn(&IncTiming) -> f64| median(&v.iter().map(f).collect::<Vec<_>>());
            IncrementalExperimentSide {
                exec_ms: m(&|t| ms(t.exec)),
                commit_ms: m(&|t| ms(t.commit)),
                apply_ms: m(&|t| ms(t.exec + t.commit)),
                checkpoint_ms: m(&|t| ms(t.checkpoint)),
                wal_frames: m(&|t| t.frames as f64),
            }
        };
        let durable = |v: &[IncTiming]| {
            median(
                &v.iter()
                    .map(|t| ms(t.exec + t.commit + t.checkpoint))
                    .collect::<Vec<_>>(),
            )
        };
        let (b, s) = (summarize(&sides[0]), summarize(&sides[1]));
        incremental.push(IncrementalExperiment {
            variant: name.to_string(),
            ratio_apply: ratio(b.apply_ms, s.apply_ms),
            ratio_durable: ratio(durable(&sides[0]), durable(&sides[1])),
            big: b,
            small: s,
        });
    }
    drop(wr_dbs);
    for p in &wr_paths {
        remove_db(p);
    }
    Ok(Experiments {
        note: "local copies of the apply loop, not the library's code path; each incremental \
               round starts with an emptied WAL"
            .into(),
        full_import,
        incremental,
    })
}

// ---- text output ----

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn fmt_list(v: &[f64]) -> String {
    v.iter()
        .map(|x| format!("{x:.1}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn print_report(r: &DownReport) {
    let line = |label: &str, value: String| println!("  {label:<54} {value:>12}");
    let both = |label: &str, a: String, b: String| println!("  {label:<40} {a:>16} {b:>16}");
    println!(
        "tillsync bench down — {} items (small setup {}), {} rounds of {} changed items",
        r.rows, r.small_rows, r.rounds, r.changed_rows
    );
    println!(
        "SQLite {} · {} CPUs {} · temp folder {} (removed)",
        r.sqlite_version,
        r.cpus,
        r.arch,
        r.dir.display()
    );
    println!();
    println!("setup");
    line(
        &format!("server init with {} demo items", r.rows),
        format!("{:.1} ms", r.setup_ms),
    );
    println!();
    println!("1. full export");
    line(
        "whole export (4 tables, index, bookkeeping)",
        format!("{:.1} ms", r.export.total_ms),
    );
    line(
        &format!("ART: read {} rows in key order, encode", r.export.art_rows),
        format!("{:.1} ms", r.export.art_read_ms),
    );
    line(
        "ART: compress, sign, write the package",
        format!("{:.1} ms", r.export.art_publish_ms),
    );
    line("ART in all", format!("{:.1} ms", r.export.art_ms));
    line(
        "the rest (tiny tables, index, bookkeeping)",
        format!("{:.1} ms", r.export.other_ms),
    );
    println!();
    println!("2. package size");
    line(
        &format!("ART full package ({})", r.size.art_package_file),
        mb(r.size.art_package_bytes),
    );
    line(
        "  its payload before zstd",
        mb(r.size.art_payload_raw_bytes),
    );
    line(
        "ART in SQLite, server (table + key index)",
        mb(r.size.art_table_bytes),
    );
    line(
        "ART in SQLite, till after the import",
        mb(r.size.art_till_table_bytes),
    );
    println!();
    println!(
        "3./4. full import of ART into a fresh till (median of {} runs)",
        r.full_runs
    );
    let f = &r.full_import;
    line(
        "Package::verify (signature, SHA-256)",
        format!("{:.1} ms", f.verify_ms),
    );
    line(
        "TillDb::apply (the import)",
        format!("{:.1} ms", f.apply_ms),
    );
    line("  every run", fmt_list(&f.apply_runs_ms));
    line(
        "  apart: zstd decompression",
        format!("{:.1} ms", f.decompress_ms),
    );
    line(
        "  apart: decoding the records",
        format!("{:.1} ms", f.decode_ms),
    );
    line(
        "SQLite copy INSERT … SELECT (baseline)",
        format!("{:.1} ms", f.sqlite_copy_ms),
    );
    line("  every run", fmt_list(&f.sqlite_copy_runs_ms));
    line(
        "SQLite copy, row by row (WHERE 1, for information)",
        format!("{:.1} ms", f.sqlite_copy_row_by_row_ms),
    );
    println!();
    println!(
        "5. incremental: {} changed items, median of {} rounds",
        r.incremental.changed_rows, r.rounds
    );
    let (b, s) = (&r.incremental.big, &r.incremental.small);
    both("", format!("{} items", b.rows), format!("{} items", s.rows));
    both(
        "TillDb::apply",
        format!("{:.2} ms", b.apply_median_ms),
        format!("{:.2} ms", s.apply_median_ms),
    );
    println!("  {:<40} {}", "  every round, big", fmt_list(&b.apply_ms));
    println!("  {:<40} {}", "  every round, small", fmt_list(&s.apply_ms));
    both(
        "incremental export",
        format!("{:.1} ms", b.export_median_ms),
        format!("{:.1} ms", s.export_median_ms),
    );
    both(
        "ART leaf pages in the till",
        b.table_leaf_pages.to_string(),
        s.table_leaf_pages.to_string(),
    );
    both(
        "ART incremental package",
        format!("{} B", b.package_bytes),
        format!("{} B", s.package_bytes),
    );
    let inc = &r.incremental;
    both(
        "TillDb::apply, consecutive items",
        format!("{:.2} ms", median(&inc.clustered_big_apply_ms)),
        format!("{:.2} ms", median(&inc.clustered_small_apply_ms)),
    );
    println!(
        "  {:<40} {}",
        "  every round, big",
        fmt_list(&inc.clustered_big_apply_ms)
    );
    println!(
        "  {:<40} {}",
        "  every round, small",
        fmt_list(&inc.clustered_small_apply_ms)
    );
    println!();
    println!("targets");
    for t in &r.targets {
        let value = if t.name.contains("package") {
            format!("{:.1} % (≤ {:.0} %)", t.value * 100.0, t.limit * 100.0)
        } else {
            format!("{:.2}× (≤ {:.1}×)", t.value, t.limit)
        };
        let verdict = if t.met { "met" } else { "NOT MET" };
        println!("  {:<52} {:>20}  {verdict}", t.name, value);
    }
    if let Some(x) = &r.experiments {
        println!();
        println!("experiments ({})", x.note);
        println!(
            "  {:<48} {:>9} {:>9} {:>9} {:>9}",
            "full import of ART", "exec ms", "commit", "total", "MB"
        );
        for e in &x.full_import {
            println!(
                "  {:<48} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
                e.variant,
                e.exec_ms,
                e.commit_ms,
                e.total_ms,
                e.table_bytes as f64 / 1e6
            );
        }
        println!(
            "  {:<48} {:>26} {:>26} {:>7} {:>7}",
            "incremental (big | small)", "exec+commit ms", "checkpoint ms", "ratio", "+ckpt"
        );
        for e in &x.incremental {
            println!(
                "  {:<48} {:>12.2} | {:>11.2} {:>12.2} | {:>11.2} {:>7.2} {:>7.2}",
                e.variant,
                e.big.apply_ms,
                e.small.apply_ms,
                e.big.checkpoint_ms,
                e.small.checkpoint_ms,
                e.ratio_apply,
                e.ratio_durable
            );
            println!(
                "  {:<48} {:>12.0} | {:>11.0} frames written to the WAL",
                "", e.big.wal_frames, e.small.wal_frames
            );
        }
    }
    println!();
    print_verdict(r.all_targets_met, r.total_ms);
}
