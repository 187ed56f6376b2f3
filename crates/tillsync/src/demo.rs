//! `tillsync demo`: a server with demo data, its web service and embedded FTP
//! server on loopback, tills T001 and T002 installed from deployment
//! packages, a full load, changes made straight in the server database (as the
//! ERP would), an incremental load, and a summary. Exits 0 only if every till
//! matches the server.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;
use tillsync_core::{ServerConfig, TillConfig};
use tillsync_server::export::{ExportOptions, export};
use tillsync_server::run::{RunOptions, start};
use tillsync_server::verify::compare_with_till;
use tillsync_server::{DataDir, deploy};
use tillsync_store::{ServerDb, TillDb};
use tillsync_till::import::{PullOptions, pull};
use tillsync_till::{DB_FILE, install};

use crate::ui::Out;

#[derive(Args)]
pub struct DemoArgs {
    /// Folder for the demo (default: a new folder under the temp directory, kept).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Items in ART.
    #[arg(long, default_value_t = 10_000)]
    pub rows: usize,
}

const TILLS: [&str; 2] = ["T001", "T002"];

#[derive(Serialize)]
struct Step {
    step: String,
    millis: u64,
}

#[derive(Serialize)]
struct TableLine {
    table: String,
    server_version: u64,
    server_rows: u64,
    tills: Vec<TillTable>,
}

#[derive(Serialize)]
struct TillTable {
    till: String,
    rows: u64,
    version: Option<u64>,
    matches: bool,
}

#[derive(Serialize)]
struct Summary {
    dir: PathBuf,
    web_service: String,
    ftp: String,
    steps: Vec<Step>,
    tables: Vec<TableLine>,
    all_match: bool,
    total_millis: u64,
}

pub fn run(args: DemoArgs, out: &Out) -> Result<ExitCode> {
    let started = Instant::now();
    let dir = match args.dir {
        Some(d) => {
            if d.exists() && d.read_dir()?.next().is_some() {
                bail!(
                    "{} is not empty; give an empty or new folder to --dir",
                    d.display()
                );
            }
            d
        }
        None => std::env::temp_dir().join(format!(
            "tillsync-demo-{}",
            chrono::Utc::now().format("%Y%m%d-%H%M%S-%3f")
        )),
    };
    let server_dir = dir.join("server");
    let mut steps = Vec::new();
    let mut step = |name: &str, t: Instant| {
        steps.push(Step {
            step: name.to_string(),
            millis: t.elapsed().as_millis() as u64,
        })
    };
    let pb = out.spinner("setting up the demo server");

    let t = Instant::now();
    let (data, _) = DataDir::init(&server_dir, "DEMO", Some(args.rows))?;
    step(&format!("server init with {} demo items", args.rows), t);

    let rt = tokio::runtime::Runtime::new()?;
    let server = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        anyhow::Ok(
            start(
                data.clone(),
                RunOptions {
                    web_listener: Some(listener),
                    ftp_listen: Some("127.0.0.1:0".parse().expect("address")),
                    scheduled_exports: false,
                },
            )
            .await?,
        )
    })?;
    let web = format!("http://{}/", server.web_addr);
    let ftp_addr = server
        .ftp_addr
        .context("the embedded FTP server did not start")?;
    let mut cfg = ServerConfig::load(&server_dir)?;
    cfg.set("till.webservice_url", &web)?;
    cfg.set("ftp.address", &format!("ftp://{ftp_addr}"))?;
    cfg.set("till.ws_timeout_ms", "10000")?;
    cfg.save(&server_dir)?;

    let result = (|| -> Result<Summary> {
        pb.set_message("first export (full packages)");
        let t = Instant::now();
        run_export(&data, &cfg)?;
        step("export: full packages", t);

        for till in TILLS {
            pb.set_message(format!("installing till {till}"));
            let t = Instant::now();
            let pkg_file = dir.join(format!("{till}.deploy.json"));
            deploy::write(&deploy::build(&data, till)?, &pkg_file)?;
            install::init(&dir.join(till), &pkg_file)?;
            pull(&dir.join(till), PullOptions::default(), &mut |m| {
                pb.set_message(m.to_string())
            })?;
            step(&format!("till {till}: install and full load"), t);
        }
        let first = compare(&data, &dir)?;
        if !first.iter().all(|l| l.tills.iter().all(|t| t.matches)) {
            bail!("after the full load, the tills do not match the server");
        }

        pb.set_message("changing prices, adding and deleting items on the server");
        let t = Instant::now();
        erp_changes(&data.open_db()?)?;
        step("ERP changes in the server database", t);

        pb.set_message("second export (incremental packages)");
        let t = Instant::now();
        run_export(&data, &cfg)?;
        step("export: incremental packages", t);

        for till in TILLS {
            pb.set_message(format!("till {till}: incremental load"));
            let t = Instant::now();
            let r = pull(&dir.join(till), PullOptions::default(), &mut |m| {
                pb.set_message(m.to_string())
            })?;
            if r.tables
                .iter()
                .any(|t| t.action == "full" && (t.table == "ART" || t.table == "CLI"))
            {
                bail!("till {till} needed a full load where an incremental was expected");
            }
            step(&format!("till {till}: incremental load"), t);
        }
        let tables = compare(&data, &dir)?;
        let all_match = tables.iter().all(|l| l.tills.iter().all(|t| t.matches));
        Ok(Summary {
            dir: dir.clone(),
            web_service: web.clone(),
            ftp: format!("ftp://{ftp_addr}"),
            steps: Vec::new(),
            tables,
            all_match,
            total_millis: 0,
        })
    })();
    rt.block_on(server.shutdown());
    pb.finish_and_clear();
    let mut summary = result?;
    summary.steps = steps;
    summary.total_millis = started.elapsed().as_millis() as u64;
    out.emit(&summary, || print_summary(&summary));
    Ok(if summary.all_match {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn run_export(data: &DataDir, cfg: &ServerConfig) -> Result<()> {
    let mut store = data.package_store(cfg)?;
    export(data, store.as_mut(), ExportOptions::default(), &mut |_| {})?;
    Ok(())
}

/// What an ERP does during a day: price changes, new items, withdrawn items,
/// a customer moving store, a VAT rate label change. Plain SQL, no tillsync API.
fn erp_changes(db: &ServerDb) -> Result<()> {
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

fn compare(data: &DataDir, dir: &Path) -> Result<Vec<TableLine>> {
    let mut lines: Vec<TableLine> = Vec::new();
    for till in TILLS {
        let tdir = dir.join(till);
        let tcfg = TillConfig::load(&tdir)?;
        let tdb = TillDb::open(&tdir.join(DB_FILE))?;
        for m in compare_with_till(data, tdb.conn(), &tcfg.till.store)? {
            let line = match lines.iter_mut().find(|l| l.table == m.table) {
                Some(l) => l,
                None => {
                    lines.push(TableLine {
                        table: m.table.clone(),
                        server_version: m.server_version,
                        server_rows: m.server_rows,
                        tills: Vec::new(),
                    });
                    lines.last_mut().expect("just pushed")
                }
            };
            line.tills.push(TillTable {
                till: till.to_string(),
                rows: m.till_rows,
                version: m.till_version,
                matches: m.matches,
            });
        }
    }
    Ok(lines)
}

fn print_summary(s: &Summary) {
    println!("tillsync demo — folder DEMO in {}", s.dir.display());
    println!("web service {}  ·  embedded FTP {}", s.web_service, s.ftp);
    println!();
    println!("{:<48} {:>8}", "step", "ms");
    for st in &s.steps {
        println!("{:<48} {:>8}", st.step, st.millis);
    }
    println!();
    print!("{:<12} {:>8} {:>10}", "table", "version", "server");
    for t in TILLS {
        print!(" {:>16}", t);
    }
    println!();
    for l in &s.tables {
        print!(
            "{:<12} {:>8} {:>10}",
            l.table, l.server_version, l.server_rows
        );
        for t in &l.tills {
            let mark = if t.matches { "ok" } else { "DIFFERS" };
            print!(" {:>8} v{:<2} {:>3}", t.rows, t.version.unwrap_or(0), mark);
        }
        println!();
    }
    println!();
    println!(
        "(CLI is filtered by store: each till holds its store's customers and the all-store ones)"
    );
    if s.all_match {
        println!(
            "every till matches the server at the exported versions ({} ms in all)",
            s.total_millis
        );
    } else {
        println!("MISMATCH: a till differs from the server");
    }
}
