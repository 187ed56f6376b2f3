//! `bench down --experiments`: local, experimental copies of the apply loop
//! (other pragmas, other table shapes), timed for analysis. They are not the
//! library's code path and never feed the main figures.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use tillsync_db::sql::{q, q_list, to_sql};
use tillsync_till::DB_FILE;
use tillsync_till_db::TillDb;
use tillsync_till_db::db::create_table_sql;
use tillsync_wire::layout::Layout;
use tillsync_wire::package::{Op, Package};

use crate::down::baseline::{TABLE_BYTES_SQL, remove_db};
use crate::down::setup::{Setup, TABLE, TILL};
use crate::measure::{median, ms, ratio};

#[derive(Serialize)]
pub(crate) struct Experiments {
    pub(crate) note: String,
    pub(crate) full_import: Vec<FullExperiment>,
    pub(crate) incremental: Vec<IncrementalExperiment>,
}

#[derive(Serialize)]
pub(crate) struct FullExperiment {
    pub(crate) variant: String,
    /// Decompression, staging table, inserts (and index build, if any).
    pub(crate) exec_ms: f64,
    /// `COMMIT`: WAL write, fsync, automatic checkpoint.
    pub(crate) commit_ms: f64,
    pub(crate) total_ms: f64,
    /// ART's bytes in the resulting file (`dbstat`).
    pub(crate) table_bytes: u64,
}

#[derive(Serialize)]
pub(crate) struct IncrementalExperiment {
    pub(crate) variant: String,
    pub(crate) big: IncrementalExperimentSide,
    pub(crate) small: IncrementalExperimentSide,
    /// big / small, `exec_ms + commit_ms` (medians).
    pub(crate) ratio_apply: f64,
    /// big / small, `exec_ms + commit_ms + checkpoint_ms` (medians).
    pub(crate) ratio_durable: f64,
}

#[derive(Serialize)]
pub(crate) struct IncrementalExperimentSide {
    /// Medians over the rounds.
    pub(crate) exec_ms: f64,
    pub(crate) commit_ms: f64,
    pub(crate) apply_ms: f64,
    /// An explicit checkpoint after the commit, timed apart (what the
    /// automatic checkpoint did not already do).
    pub(crate) checkpoint_ms: f64,
    /// Pages the transaction wrote to the WAL.
    pub(crate) wal_frames: f64,
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
        (&h.table, h.to_version as i64, &h.layout_hash, tillsync_db::now_rfc3339()),
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
            (h.to_version as i64, tillsync_db::now_rfc3339(), &h.table),
        )?;
        c.execute(
            "INSERT INTO tillsync_journal(at, kind, result, detail)
             VALUES (?1, 'apply', 'ok', 'bench experiment')",
            [tillsync_db::now_rfc3339()],
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
    let layout = tillsync_db::introspect::layout(s.till.db.conn(), TABLE)?;
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

pub(crate) fn run_experiments(
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
