//! `tillsync demo`: a server with demo data, its web service and embedded FTP
//! server on loopback, tills T001 and T002 installed from deployment
//! packages, a full load, changes made straight in the server database (as the
//! ERP would), an incremental load, and a summary. Exits 0 only if every till
//! matches the server.
//!
//! With `--serve`, after the summary the server (web service, admin pages,
//! embedded FTP) and both tills' synchronisers with their cashier pages keep
//! running until Ctrl-C or SIGTERM; the admin pages get a generated password,
//! printed once with the URLs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;
use tillsync_core::{ServerConfig, TillConfig};
use tillsync_server::down::export::{ExportOptions, export};
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
    /// After the summary, keep the server and the tills (with their cashier
    /// pages) running and print the admin URL, login and cashier URLs, until
    /// Ctrl-C.
    #[arg(long)]
    pub serve: bool,
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
    up: UpSummary,
    total_millis: u64,
}

#[derive(Serialize)]
struct TillTickets {
    till: String,
    sold: u64,
    sold_offline: u64,
    on_server: u64,
    verified: u64,
    quarantined: u64,
    highest_contiguous: u64,
    missing: Vec<String>,
    exactly_once: bool,
}

#[derive(Serialize)]
struct UpSummary {
    tickets: Vec<TillTickets>,
    offline_creation_refused: bool,
    created_customer: String,
    edited_offline: String,
    edit_applied_on_server: bool,
    abandoned: String,
    abandon_applied_on_server: bool,
    ok: bool,
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
    let mut steps_up: Vec<Step> = Vec::new();
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
    let start_server = |web: SocketAddr, ftp: SocketAddr| {
        let data = data.clone();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind(web).await?;
            anyhow::Ok(
                start(
                    data,
                    RunOptions {
                        web_listener: Some(listener),
                        ftp_listen: Some(ftp),
                        scheduled_exports: false,
                    },
                )
                .await?,
            )
        })
    };
    let any: SocketAddr = "127.0.0.1:0".parse().expect("address");
    let mut server = Some(start_server(any, any)?);
    let web_addr = server.as_ref().expect("running").web_addr;
    let web = format!("http://{web_addr}/");
    let ftp_addr = server
        .as_ref()
        .and_then(|s| s.ftp_addr)
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
        let up = up_path(
            &data,
            &dir,
            &mut server,
            &mut steps_up,
            &|web, ftp| start_server(web, ftp),
            web_addr,
            ftp_addr,
            &pb,
        )?;
        let tables = compare(&data, &dir)?;
        let all_match = tables.iter().all(|l| l.tills.iter().all(|t| t.matches));
        Ok(Summary {
            up,
            dir: dir.clone(),
            web_service: web.clone(),
            ftp: format!("ftp://{ftp_addr}"),
            steps: Vec::new(),
            tables,
            all_match,
            total_millis: 0,
        })
    })();
    let serving = args.serve && result.is_ok();
    if !serving && let Some(server) = server.take() {
        rt.block_on(server.shutdown());
    }
    pb.finish_and_clear();
    let mut summary = result?;
    steps.append(&mut steps_up);
    summary.steps = steps;
    summary.total_millis = started.elapsed().as_millis() as u64;
    out.emit(&summary, || print_summary(&summary));
    if serving {
        let server = server.take().context("the demo server is not running")?;
        serve(&data, &dir, &rt, server, out)?;
    }
    Ok(if summary.all_match && summary.up.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// What `demo --serve` prints once everything runs.
#[derive(Serialize)]
struct Serving {
    admin_url: String,
    admin_user: String,
    /// Generated for this demo, printed this once, stored only as a hash.
    admin_password: String,
    cashier_urls: Vec<CashierUrl>,
}

#[derive(Serialize)]
struct CashierUrl {
    till: String,
    url: String,
}

/// `demo --serve`: an admin password, the tills' synchronisers with their
/// cashier pages on free loopback ports, the URLs printed; then wait for
/// Ctrl-C or SIGTERM and stop the tills, then the server.
fn serve(
    data: &DataDir,
    dir: &Path,
    rt: &tokio::runtime::Runtime,
    server: tillsync_server::run::RunningServer,
    out: &Out,
) -> Result<()> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tillsync_till::agent::{AgentOptions, run_with};
    use tillsync_till::cashier::CashierOptions;
    use tokio::signal::unix::{SignalKind, signal};

    // Handlers first: a Ctrl-C from now on stops the demo cleanly.
    let (mut int, mut term) = {
        let _guard = rt.enter();
        (
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        )
    };
    let web_addr = server.web_addr;
    let password = demo_password();
    tillsync_server::admin::auth::set_password(data.path(), &password)?;
    let admin_user = data.config()?.folder.admin;

    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    let mut agents = Vec::new();
    for till in TILLS {
        let tdir = dir.join(till);
        let (stop, tx) = (stop.clone(), tx.clone());
        let opts = AgentOptions {
            // Pulls are what the server counts as contact when there is
            // nothing to push: often enough to stay "online" in the
            // supervisor (2 × ping timeout + sync interval + the contact write
            // interval + 1 s, 23 s by default).
            pull_interval: std::time::Duration::from_secs(5),
            cashier: Some(CashierOptions {
                listen: Some("127.0.0.1:0".parse().expect("address")),
                allow_remote: false,
            }),
            ..AgentOptions::default()
        };
        agents.push((
            till,
            std::thread::spawn(move || {
                run_with(&tdir, &opts, &stop, |s| {
                    let _ = tx.send((till, s.cashier_url.clone()));
                })
            }),
        ));
    }
    drop(tx);
    let mut cashier_urls = Vec::new();
    let mut failed = None;
    for _ in TILLS {
        match rx.recv_timeout(std::time::Duration::from_secs(30)) {
            Ok((till, Some(url))) => cashier_urls.push(CashierUrl {
                till: till.to_string(),
                url,
            }),
            Ok((till, None)) => failed = Some(format!("till {till} serves no cashier page")),
            Err(_) => {
                failed = Some("a till's synchroniser did not start".to_string());
                break;
            }
        }
    }
    cashier_urls.sort_by(|a, b| a.till.cmp(&b.till));
    let stop_all = |agents: Vec<(&str, std::thread::JoinHandle<_>)>| -> Vec<String> {
        stop.store(true, Ordering::Relaxed);
        let mut errors = Vec::new();
        for (till, h) in agents {
            match h.join() {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => errors.push(format!("till {till}: {e}")),
                Err(_) => errors.push(format!("till {till}: its synchroniser panicked")),
            }
        }
        rt.block_on(server.shutdown());
        errors
    };
    if let Some(why) = failed {
        let errors = stop_all(agents);
        bail!("{why}: {}", errors.join("; "));
    }

    let serving = Serving {
        admin_url: format!("http://{web_addr}/admin"),
        admin_user,
        admin_password: password,
        cashier_urls,
    };
    out.emit(&serving, || {
        println!();
        println!("serving the demo until Ctrl-C:");
        println!("  admin pages   {}", serving.admin_url);
        println!(
            "  admin login   user {}, password {}   (generated for this demo, shown once)",
            serving.admin_user, serving.admin_password
        );
        for c in &serving.cashier_urls {
            println!("  cashier {}  {}", c.till, c.url);
        }
    });
    use std::io::Write as _;
    std::io::stdout().flush()?;

    rt.block_on(async {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    });
    let errors = stop_all(agents);
    if !errors.is_empty() {
        bail!("stopping the demo: {}", errors.join("; "));
    }
    if !out.json {
        println!("demo stopped; its folder stays in {}", dir.display());
    }
    Ok(())
}

/// A fresh password for the demo's admin pages: 20 letters and digits.
fn demo_password() -> String {
    use rand::Rng as _;
    rand::rngs::OsRng
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(20)
        .map(char::from)
        .collect()
}

/// The up path: sales on both tills, some while the server is stopped, a
/// customer created, one edited offline, one abandoned; then everything is
/// pushed and checked on the server.
#[allow(clippy::too_many_arguments)]
fn up_path(
    data: &DataDir,
    dir: &Path,
    server: &mut Option<tillsync_server::run::RunningServer>,
    steps: &mut Vec<Step>,
    start_server: &dyn Fn(SocketAddr, SocketAddr) -> Result<tillsync_server::run::RunningServer>,
    web: SocketAddr,
    ftp: SocketAddr,
    pb: &indicatif::ProgressBar,
) -> Result<UpSummary> {
    use tillsync_till::sell::{SaleLine, SalePayment, SaleRequest, sell};
    let items: Vec<String> = {
        let db = data.open_db()?;
        let mut stmt = db
            .conn()
            .prepare("SELECT code FROM ART WHERE code LIKE 'ART%' ORDER BY code LIMIT 50")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let sale = |till: &str, n: usize| -> Result<()> {
        for i in 0..n {
            let lines = (0..(1 + i % 5))
                .map(|l| SaleLine {
                    item: items[(i * 7 + l * 3) % items.len()].clone(),
                    quantity: 1 + (l as i64 % 3),
                })
                .collect();
            let method = if i % 2 == 0 { "card" } else { "cash" };
            sell(
                &dir.join(till),
                &SaleRequest {
                    lines,
                    payments: vec![SalePayment {
                        method: method.into(),
                        amount_cents: None,
                    }],
                    customer: None,
                    corrects: None,
                },
            )?;
        }
        Ok(())
    };
    let (online, offline) = (8u64, 12u64);
    let t = Instant::now();
    pb.set_message("selling on both tills");
    for till in TILLS {
        sale(till, online as usize)?;
    }
    steps.push(Step {
        step: format!("{} sales on each till, online", online),
        millis: t.elapsed().as_millis() as u64,
    });

    // The web service and FTP server go away: the tills keep selling.
    let t = Instant::now();
    pb.set_message("server stopped: selling offline");
    let rt = tokio::runtime::Runtime::new()?;
    if let Some(s) = server.take() {
        rt.block_on(s.shutdown());
    }
    for till in TILLS {
        sale(till, offline as usize)?;
    }
    let t1 = dir.join(TILLS[0]);
    let edited: String = TillDb::open(&t1.join(DB_FILE))?.conn().query_row(
        "SELECT code FROM CLI WHERE store = 'S01' ORDER BY code LIMIT 1",
        [],
        |r| r.get(0),
    )?;
    tillsync_till::customers::edit(
        &t1,
        &edited,
        &[("city".to_string(), "Villeurbanne".to_string())],
    )?;
    let offline_creation_refused = matches!(
        tillsync_till::customers::create(&dir.join(TILLS[1]), "Client hors ligne", &[]),
        Err(tillsync_till::TillError::NeedsServer(_))
    );
    let pushed_offline = tillsync_till::push::push(&t1, Default::default())?;
    if pushed_offline.unavailable.is_none() {
        bail!("a push with the server stopped should have found it unavailable");
    }
    steps.push(Step {
        step: format!(
            "server stopped: {offline} sales on each till, a customer edited, creation refused"
        ),
        millis: t.elapsed().as_millis() as u64,
    });

    // The server comes back: creation works again, one is abandoned, and
    // the outboxes drain.
    let t = Instant::now();
    pb.set_message("server back: pushing the outboxes");
    *server = Some(start_server(web, ftp)?);
    let t2 = dir.join(TILLS[1]);
    let created = tillsync_till::customers::create(&t2, "Martine Durand", &[])?;
    let created_code = created
        .get("code")
        .and_then(|c| c.as_str())
        .context("the created customer has no code")?
        .to_string();
    let abandoned = tillsync_till::customers::create(&t2, "Création abandonnée", &[])?
        .get("code")
        .and_then(|c| c.as_str())
        .context("no code")?
        .to_string();
    tillsync_till::customers::abandon(&t2, &abandoned)?;
    for till in TILLS {
        let r = tillsync_till::push::push(&dir.join(till), Default::default())?;
        if r.pending > 0 || r.unavailable.is_some() || !r.set_aside.is_empty() {
            bail!("till {till}: the outbox did not drain: {r:?}");
        }
    }
    steps.push(Step {
        step: "server back: customer created and abandoned, outboxes pushed".into(),
        millis: t.elapsed().as_millis() as u64,
    });

    // The customer changes go back down to the tills with the next export.
    let t = Instant::now();
    pb.set_message("export and load: the customer changes reach the tills");
    run_export(data, &data.config()?)?;
    for till in TILLS {
        pull(&dir.join(till), PullOptions::default(), &mut |_| {})?;
    }
    steps.push(Step {
        step: "export and incremental load of the customer changes".into(),
        millis: t.elapsed().as_millis() as u64,
    });

    let db = data.open_db()?;
    let state = db.ticket_state(None)?;
    let sold = online + offline;
    let tickets: Vec<TillTickets> = TILLS
        .iter()
        .map(|till| {
            let s = state.iter().find(|s| s.till_id == *till);
            let (on_server, verified, quarantined, contiguous, missing) = match s {
                Some(s) => (
                    s.tickets_received,
                    s.verified,
                    s.quarantined,
                    s.highest_contiguous,
                    s.missing.iter().map(|g| format!("{g:?}")).collect(),
                ),
                None => (0, 0, 0, 0, Vec::new()),
            };
            TillTickets {
                till: till.to_string(),
                sold,
                sold_offline: offline,
                on_server,
                verified,
                quarantined,
                highest_contiguous: contiguous,
                exactly_once: on_server == sold
                    && verified == sold
                    && quarantined == 0
                    && contiguous == sold
                    && missing.is_empty(),
                missing,
            }
        })
        .collect();
    // Duplicates would break the unique (till, number) key; count rows too.
    let rows: i64 = db
        .conn()
        .query_row("SELECT COUNT(*) FROM TICKET", [], |r| r.get(0))?;
    let city: Option<String> =
        db.conn()
            .query_row("SELECT city FROM CLI WHERE code = ?1", [&edited], |r| {
                r.get(0)
            })?;
    let abandoned_left: i64 = db.conn().query_row(
        "SELECT COUNT(*) FROM CLI WHERE code = ?1",
        [&abandoned],
        |r| r.get(0),
    )?;
    let edit_applied_on_server = city.as_deref() == Some("Villeurbanne");
    let abandon_applied_on_server = abandoned_left == 0;
    let ok = tickets.iter().all(|t| t.exactly_once)
        && rows as u64 == sold * TILLS.len() as u64
        && offline_creation_refused
        && edit_applied_on_server
        && abandon_applied_on_server;
    Ok(UpSummary {
        tickets,
        offline_creation_refused,
        created_customer: created_code,
        edited_offline: edited,
        edit_applied_on_server,
        abandoned,
        abandon_applied_on_server,
        ok,
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
    println!("{:<62} {:>8}", "step", "ms");
    for st in &s.steps {
        println!("{:<62} {:>8}", st.step, st.millis);
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
        println!("every till matches the server at the exported versions");
    } else {
        println!("MISMATCH: a till differs from the server");
    }
    println!();
    println!(
        "{:<6} {:>6} {:>8} {:>10} {:>9} {:>12} {:>11}  exactly once",
        "till", "sold", "offline", "on server", "verified", "quarantined", "contiguous"
    );
    for t in &s.up.tickets {
        println!(
            "{:<6} {:>6} {:>8} {:>10} {:>9} {:>12} {:>11}  {}{}",
            t.till,
            t.sold,
            t.sold_offline,
            t.on_server,
            t.verified,
            t.quarantined,
            t.highest_contiguous,
            if t.exactly_once { "yes" } else { "NO" },
            if t.missing.is_empty() {
                String::new()
            } else {
                format!(" missing {}", t.missing.join(", "))
            }
        );
    }
    let yes = |b: bool| if b { "yes" } else { "NO" };
    println!(
        "customer creation with the server stopped refused: {}",
        yes(s.up.offline_creation_refused)
    );
    println!(
        "customer created from the template: {}",
        s.up.created_customer
    );
    println!(
        "customer {} edited offline, applied on the server: {}",
        s.up.edited_offline,
        yes(s.up.edit_applied_on_server)
    );
    println!(
        "customer {} abandoned, deleted on the server: {}",
        s.up.abandoned,
        yes(s.up.abandon_applied_on_server)
    );
    println!(
        "{} ({} ms in all)",
        if s.all_match && s.up.ok {
            "every ticket is on the server exactly once, chains verified; the tills match the server"
        } else {
            "FAILED: see above"
        },
        s.total_millis
    );
}
