//! `tillsync server …`: init, export, checks, deployment packages, the
//! tills, tickets, the admin password and `server run` (configuration and
//! sync tables in [`super::server_config`]).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;
use tillsync_core::fiscal::local::LocalZone;
use tillsync_output::Out;
use tillsync_server::down::export::{ExportOptions, export};
use tillsync_server::run::{RunOptions, start};
use tillsync_server::{DataDir, check, deploy};

use crate::cmd::common::{DataArg, said_once};
use crate::cmd::server_config::{ConfigCmd, TablesCmd, config, tables};

#[derive(Subcommand)]
pub enum ServerCmd {
    /// Create a server data folder: configuration, signing key, database.
    Init {
        #[command(flatten)]
        data: DataArg,
        /// POS folder name (the company).
        #[arg(long, default_value = "DEMO")]
        folder: String,
        /// Create and fill demo business tables (ART, CLI, T012, STORE_TILL, STORE, CASHIER).
        #[arg(long)]
        demo: bool,
        /// Items in the demo ART table.
        #[arg(long, default_value_t = 10_000)]
        demo_rows: usize,
        /// The server database (`db.url`): `sqlite://PATH` (default
        /// `sqlite://server.db`) or `postgres://USER:PASSWORD@HOST:PORT/DB`.
        #[arg(long, env = "TILLSYNC_DB_URL", hide_env_values = true)]
        db_url: Option<String>,
    },
    /// Read or change the POS folder configuration.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// The sync tables (which tables travel, which way, how).
    #[command(subcommand)]
    Tables(TablesCmd),
    /// Build and publish packages now (incremental unless --full).
    Export {
        #[command(flatten)]
        data: DataArg,
        /// A full package of every table.
        #[arg(long)]
        full: bool,
    },
    /// Test a connection (the seed's "Tester la connexion" buttons).
    #[command(subcommand)]
    Check(CheckCmd),
    /// Write the deployment package that installs a till.
    Package {
        #[command(flatten)]
        data: DataArg,
        /// Till id (must be in STORE_TILL).
        #[arg(long)]
        till: String,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Run the web service, the embedded FTP server and the scheduled export.
    Run(DataArg),
    /// The tills: credentials, last contact, key histories; revoke one.
    #[command(subcommand)]
    Tills(TillsCmd),
    /// Set the password of the admin web pages (user: folder.admin). Read
    /// from the terminal, or from standard input with --password-stdin;
    /// stored as an argon2 hash in DIR/admin-password. Ends every admin session.
    AdminPassword {
        #[command(flatten)]
        data: DataArg,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Tickets received from the tills (verified and quarantined) and the missing ones.
    Tickets {
        #[command(flatten)]
        data: DataArg,
        /// Only the tickets of this till.
        #[arg(long)]
        till: Option<String>,
        /// Only the numbers that did not arrive, per till.
        #[arg(long)]
        missing: bool,
    },
    /// The ledger of the tills' closings (day, month, year) and what it
    /// flags: a perpetual grand total that does not match the tickets
    /// received, a day with tickets and no closing, gaps.
    Closings {
        #[command(flatten)]
        data: DataArg,
        /// Only this till.
        #[arg(long)]
        till: Option<String>,
    },
    /// Archive a till's closed period (2026, 2026-12 or 2026-12-04) from the
    /// server's copy into one zip file signed by the server's key
    /// (docs/fiscal-archive.md).
    Archive {
        #[command(flatten)]
        data: DataArg,
        /// The till.
        #[arg(long)]
        till: String,
        /// The period: YYYY, YYYY-MM or YYYY-MM-DD.
        #[arg(long)]
        period: String,
        /// The archive file to write (replaced whole, or left as it was).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum TillsCmd {
    /// Every till of STORE_TILL: credentials, last contact, tickets received,
    /// missing tickets, quarantine, rejected items, table versions.
    List(DataArg),
    /// Revoke a till: its calls are refused (403) until it enrols from a
    /// new deployment package; its unused packages stop working.
    Revoke {
        /// Till id.
        till: String,
        #[command(flatten)]
        data: DataArg,
    },
    /// A till's key history (every key the server accepted for it, each a
    /// record signed by the server), checked with the server's key, and its
    /// deployment packages. Exits non-zero when a record does not verify.
    Keys {
        /// Till id.
        #[arg(long)]
        till: String,
        #[command(flatten)]
        data: DataArg,
    },
}

#[derive(Subcommand)]
pub enum CheckCmd {
    /// Connect to the server database; report its kind, version and sync tables.
    Db(DataArg),
    /// Log in to the FTP server and download test.txt from the target folder.
    Ftp(DataArg),
}

pub fn run(cmd: ServerCmd, out: &Out) -> Result<ExitCode> {
    run_cmd(cmd, out).map_err(said_once)
}

fn run_cmd(cmd: ServerCmd, out: &Out) -> Result<ExitCode> {
    match cmd {
        ServerCmd::Init {
            data,
            folder,
            demo,
            demo_rows,
            db_url,
        } => {
            let pb = out.spinner("creating the server data folder");
            let (_, report) = DataDir::init_with_db(
                &data.data,
                &folder,
                demo.then_some(demo_rows),
                db_url.as_deref(),
            )?;
            pb.finish_and_clear();
            let json = serde_json::json!({
                "data": report.dir,
                "public_key": report.public_key,
                "demo": report.demo.as_ref().map(|d| serde_json::json!({
                    "items": d.items, "customers": d.customers, "vat_rates": d.vat_rates, "tills": d.tills,
                    "stores": d.stores, "cashiers": d.cashiers
                })),
            });
            out.emit(&json, || {
                println!("server data folder created: {}", report.dir.display());
                println!("server public key: {}", report.public_key);
                if let Some(d) = &report.demo {
                    println!(
                        "demo data: {} items, {} customers, {} VAT rates, {} tills, {} stores, {} cashiers; sync tables ART, CLI (down, filter store; and up), T012, STORE_TILL, STORE (filter code), CASHIER (filter store)",
                        d.items, d.customers, d.vat_rates, d.tills, d.stores, d.cashiers
                    );
                }
            });
        }
        ServerCmd::Config(c) => config(c, out)?,
        ServerCmd::Tables(t) => tables(t, out)?,
        ServerCmd::Export { data, full } => {
            let dir = DataDir::open(&data.data)?;
            let cfg = dir.config()?;
            let pb = out.spinner("exporting");
            let mut store = dir.package_store(&cfg)?;
            let result = export(&dir, store.as_mut(), ExportOptions { full }, &mut |m| {
                pb.set_message(m.to_string())
            });
            pb.finish_and_clear();
            let report = match result {
                Ok(r) => r,
                Err(e) => {
                    if let Ok(db) = dir.open_store_with(&cfg) {
                        let _ = db.journal("export", None, "error", &e.to_string());
                    }
                    return Err(e.into());
                }
            };
            out.emit(&report, || {
                for line in report.lines() {
                    println!("{line}");
                }
            });
        }
        ServerCmd::Check(CheckCmd::Db(data)) => {
            let dir = DataDir::open(&data.data)?;
            let r = check::check_db(&dir)?;
            out.emit(&r, || println!("{r}"));
        }
        ServerCmd::Check(CheckCmd::Ftp(data)) => {
            let dir = DataDir::open(&data.data)?;
            match check::check_ftp_server(&dir) {
                Ok(r) => {
                    let json = serde_json::json!({"ok": true, "report": r.to_string()});
                    out.emit(&json, || println!("FTP OK: {r}"));
                }
                Err(e) => {
                    let json = serde_json::json!({"ok": false, "error": e.to_string()});
                    out.emit(&json, || {});
                    eprintln!("FTP check failed: {e}");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        ServerCmd::Package {
            data,
            till,
            out: file,
        } => {
            let dir = DataDir::open(&data.data)?;
            let (zone, lang) = local(&dir)?;
            let pkg = deploy::build(&dir, &till)?;
            deploy::write(&pkg, &file)?;
            let json = serde_json::json!({
                "till": pkg.till_id, "store": pkg.store, "file": file,
                "enrolment_expires_at": pkg.enrolment_expires_at,
            });
            out.emit(&json, || {
                println!(
                    "deployment package for till {} (store {}) written to {} (it holds a password and a one-time enrolment secret: mode 0600); `till init` must enrol with it before {}",
                    pkg.till_id,
                    pkg.store,
                    file.display(),
                    zone.show(&pkg.enrolment_expires_at, lang)
                )
            });
        }
        ServerCmd::Tills(TillsCmd::List(data)) => {
            let dir = DataDir::open(&data.data)?;
            let tills = dir.open_store()?.till_overview()?;
            out.emit(&tills, || print_tills(&tills));
        }
        ServerCmd::Tickets {
            data,
            till,
            missing: true,
        } => crate::cmd::fiscal::missing_cmd(&data.data, till.as_deref(), out)?,
        ServerCmd::Archive {
            data,
            till,
            period,
            out: file,
        } => crate::cmd::archive::server_archive_cmd(&data.data, &till, &period, &file, out)?,
        ServerCmd::Closings { data, till } => {
            return crate::cmd::fiscal::ledger_cmd(&data.data, till.as_deref(), out);
        }
        ServerCmd::Tickets { data, till, .. } => {
            let dir = DataDir::open(&data.data)?;
            let db = dir.open_store()?;
            let list = db.ticket_list(till.as_deref())?;
            let state = db.ticket_state(till.as_deref())?;
            out.emit(&list, || print_tickets(&list, &state));
        }
        ServerCmd::AdminPassword {
            data,
            password_stdin,
        } => {
            let dir = DataDir::open(&data.data)?;
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("cannot read the password from standard input")?;
                line.trim_end_matches(['\n', '\r']).to_string()
            } else {
                let first = rpassword::prompt_password("new admin password: ")
                    .context("cannot read the password from the terminal (use --password-stdin)")?;
                let again = rpassword::prompt_password("again: ")
                    .context("cannot read the password from the terminal")?;
                anyhow::ensure!(first == again, "the two passwords differ; nothing changed");
                first
            };
            tillsync_server::admin::auth::set_password(dir.path(), &password)?;
            let user = dir.config()?.folder.admin;
            out.emit(&serde_json::json!({"admin": user, "set": true}), || {
                println!(
                    "admin password set for {user} (argon2 hash in {}); log in at /admin",
                    dir.path()
                        .join(tillsync_server::admin::auth::PASSWORD_FILE)
                        .display()
                )
            });
        }
        ServerCmd::Tills(TillsCmd::Revoke { till, data }) => {
            let dir = DataDir::open(&data.data)?;
            dir.open_store()?.revoke_till(&till)?;
            out.emit(&serde_json::json!({"revoked": till}), || {
                println!("till {till} revoked: its calls are refused until it enrols from a new deployment package")
            });
        }
        ServerCmd::Tills(TillsCmd::Keys { till, data }) => {
            let dir = DataDir::open(&data.data)?;
            let listing = tillsync_server::till_keys::listing::key_listing(&dir, &till)?;
            let (zone, lang) = local(&dir)?;
            out.emit(&listing, || print_keys(&listing, &zone, lang));
            if let Some(e) = &listing.error {
                eprintln!("error: the key history of till {till} does not verify: {e}");
                return Ok(ExitCode::FAILURE);
            }
        }
        ServerCmd::Run(data) => {
            let dir = DataDir::open(&data.data)?;
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async {
                let server = start(
                    dir,
                    RunOptions {
                        scheduled_exports: true,
                        ..Default::default()
                    },
                )
                .await?;
                // Through the logs, so that `--log-format json` keeps stderr
                // all JSON lines.
                tracing::info!(
                    "tillsync server: web service on http://{}{}; Ctrl-C stops",
                    server.web_addr,
                    server
                        .ftp_addr
                        .map(|a| format!(", embedded FTP on ftp://{a}"))
                        .unwrap_or_default()
                );
                shutdown_signal().await;
                tracing::info!("stopping");
                server.shutdown().await;
                anyhow::Ok(())
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Text form of `server tills list`.
fn print_tills(tills: &[tillsync_server_db::tills::TillOverview]) {
    println!(
        "{:<8} {:<6} {:<26} {:<22} {:>8} {:>10} {:>11} {:>8}",
        "till",
        "store",
        "state",
        "last contact",
        "tickets",
        "contiguous",
        "quarantined",
        "rejected"
    );
    for o in tills {
        let (t, k) = (&o.till, &o.tickets);
        let state = match (&t.issued_at, &t.revoked_at, &t.enrolment_expires_at) {
            (None, _, None) => "no deployment package yet".to_string(),
            (None, _, Some(until)) => format!("awaiting enrolment (until {until})"),
            (Some(_), Some(_), _) => "REVOKED".to_string(),
            (Some(_), None, _) => match &t.key_id {
                Some(k) => format!("active, key {k}"),
                None => "active".to_string(),
            },
        };
        println!(
            "{:<8} {:<6} {:<26} {:<22} {:>8} {:>10} {:>11} {:>8}",
            t.till_id,
            t.store,
            state,
            t.last_contact.as_deref().unwrap_or("never"),
            k.tickets_received,
            k.highest_contiguous,
            k.quarantined,
            k.rejected
        );
        for g in &k.missing {
            println!("         {g}");
        }
        if !o.tables.is_empty() {
            let tables = o
                .tables
                .iter()
                .map(|t| match t.version {
                    Some(v) => format!("{} v{v}", t.table),
                    None => format!("{} never loaded", t.table),
                })
                .collect::<Vec<_>>()
                .join(", ");
            println!(
                "         tables: {tables} (reported {})",
                o.tables[0].reported_at
            );
        }
        if let Some(r) = &o.outbox {
            println!(
                "         outbox: {} waiting ({} tickets, {} other){}, error list {} (reported {})",
                r.backlog(),
                r.outbox_tickets,
                r.outbox_other,
                r.oldest_age_secs
                    .map(|a| format!(", oldest {a} s"))
                    .unwrap_or_default(),
                r.errors,
                r.reported_at
            );
        }
    }
}

/// The folder's time zone and language, for the times a person reads.
fn local(dir: &DataDir) -> Result<(LocalZone, tillsync_core::Lang)> {
    let cfg = dir.config()?;
    Ok((LocalZone::new(&cfg.folder.timezone)?, cfg.ui.language))
}

/// Text form of `server tills keys` (times local, in the folder's zone).
fn print_keys(
    l: &tillsync_server::till_keys::listing::KeyListing,
    zone: &LocalZone,
    lang: tillsync_core::Lang,
) {
    let show = |t: &str| zone.show(t, lang);
    let h = &l.history;
    if h.records.is_empty() {
        println!("till {}: no key history yet (no enrolment)", h.till);
    }
    for r in &h.records {
        println!(
            "{:>3} {} {:<12} valid from {} (recorded {}){}",
            r.seq,
            r.key_id,
            r.reason.as_str(),
            show(&r.valid_from),
            show(&r.recorded_at),
            r.previous_key_id
                .as_deref()
                .map(|p| format!(", after {p}"))
                .unwrap_or_default()
        );
    }
    if l.verified {
        println!(
            "every record verifies with the server key {}",
            h.server_public_key
        );
    }
    for k in &l.unrecorded_keys {
        println!("key {k} of a version-2 package: recorded at the till's next enrolment");
    }
    for e in &l.enrolments {
        let state = match (&e.used_at, &e.superseded_at) {
            (Some(at), _) => format!(
                "used at {} by key {}",
                show(at),
                e.used_key_id.as_deref().unwrap_or("?")
            ),
            (None, Some(at)) => format!("superseded at {}", show(at)),
            (None, None) => format!("unused, valid until {}", show(&e.expires_at)),
        };
        println!("package of {}: {state}", show(&e.issued_at));
    }
}

/// Text form of `server tickets`.
fn print_tickets(
    list: &[tillsync_server_db::tickets::TicketListing],
    state: &[tillsync_server_db::tickets::TillTickets],
) {
    if list.is_empty() {
        println!("no tickets received");
    }
    let cents = |c: Option<i64>| match c {
        Some(c) => format!(
            "{}{}.{:02}",
            if c < 0 { "-" } else { "" },
            c.unsigned_abs() / 100,
            c.unsigned_abs() % 100
        ),
        None => "?".into(),
    };
    for t in list {
        let detail = match (t.status, t.link, &t.reason) {
            (_, _, Some(reason)) => reason.clone(),
            (_, Some("pending"), _) => "link to the previous ticket pending (not arrived)".into(),
            _ => String::new(),
        };
        println!(
            "{:<8} {:>8} {:<22} {:>12} {:<12} {}",
            t.till,
            t.number
                .map(|n| n.to_string())
                .unwrap_or_else(|| "?".into()),
            t.time.as_deref().unwrap_or("?"),
            cents(t.total_cents),
            t.status,
            detail
        );
    }
    for s in state {
        println!(
            "till {}: {} ticket(s) received, {} verified, {} quarantined; complete up to {}",
            s.till_id, s.tickets_received, s.verified, s.quarantined, s.highest_contiguous
        );
        for g in &s.missing {
            println!("till {}: {g}", s.till_id);
        }
        if s.training + s.training_quarantined > 0 {
            println!(
                "till {}: {} training-mode ticket(s) apart ({} quarantined), in no count above",
                s.till_id, s.training, s.training_quarantined
            );
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}
