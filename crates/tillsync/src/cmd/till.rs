//! `tillsync till …`: install a till (and enrol its key, rotate it), sell,
//! synchronise (sync, run), show its state.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use tillsync_output::Out;
use tillsync_till::agent;
use tillsync_till::down::pull::{PullOptions, pull};
use tillsync_till::up::push;

use crate::cmd::common::{TillDataArg, said_once};
use crate::cmd::till_keys;
use crate::cmd::till_sell::{SellArgs, sell_cmd};

#[derive(Subcommand)]
pub enum TillCmd {
    /// Install a till from a deployment package: make its signing key
    /// (it never leaves the till folder) and enrol it on the server; an
    /// unreachable server leaves it installed, not enrolled (`till sync`
    /// enrols it).
    Init {
        #[command(flatten)]
        data: TillDataArg,
        /// The deployment package (from `tillsync server package`).
        #[arg(long)]
        package: PathBuf,
    },
    /// Load the data: the modifications since the till's versions, or everything with --full.
    Sync {
        #[command(flatten)]
        data: TillDataArg,
        /// Load every table in full (the seed's "load the data").
        #[arg(long)]
        full: bool,
    },
    /// Show the till's connection, enrolment, table versions, tickets, outbox, error list and journal.
    Status(TillDataArg),
    /// Enrol the till's key now, if it is not enrolled yet (`till sync` and
    /// `till run` do it by themselves).
    Enrol(TillDataArg),
    /// Make a new signing key and register it with the server (the old key
    /// stays in the till's key history: tickets it signed still verify).
    RotateKey(TillDataArg),
    /// Record a sale (works offline); prints the ticket number (the whole ticket with --json).
    Sell(SellArgs),
    /// Run the synchroniser until Ctrl-C or SIGTERM: push the outbox every
    /// sync interval, pull packages on their own schedule; serve the cashier
    /// page on `till.listen` (prints its URL).
    Run {
        #[command(flatten)]
        data: TillDataArg,
        /// Wait between two pulls, in ms.
        #[arg(long, value_name = "MS", default_value_t = 60_000)]
        pull_interval_ms: u64,
        /// Push only: do not pull packages.
        #[arg(long)]
        no_pull: bool,
        /// Serve the cashier page on ADDR (IP:PORT; port 0 picks a free
        /// port) instead of `till.listen`.
        #[arg(long, value_name = "ADDR", value_parser = parse_listen)]
        listen: Option<std::net::SocketAddr>,
        /// Allow the cashier page on a non-loopback address. Its PIN login
        /// (when the till has cashiers) says who sells but is no network
        /// barrier: anyone who reaches the address can try PINs, or sell
        /// and change customers on a till without cashiers.
        #[arg(long)]
        allow_remote: bool,
        /// Do not serve the cashier page.
        #[arg(long, conflicts_with_all = ["listen", "allow_remote"])]
        no_cashier: bool,
    },
    /// Customers: create (needs the server), edit and abandon (offline).
    #[command(subcommand)]
    Customer(CustomerCmd),
    /// Close the business day, the month or the year (works offline): a
    /// signed closing with its totals per VAT rate and payment method, the
    /// period and the perpetual grand totals. Closing again with no new
    /// ticket prints the same closing.
    Close {
        #[command(flatten)]
        data: TillDataArg,
        /// day, month or year.
        #[arg(long, value_parser = parse_period)]
        period: tillsync_core::fiscal::closing::Period,
    },
    /// Queue tickets FROM..=TO again from the till's own tickets (those the
    /// server never received); the next push sends them. The till does it
    /// by itself when the server names missing tickets.
    Resend {
        #[command(flatten)]
        data: TillDataArg,
        /// First ticket number.
        #[arg(long)]
        from: u64,
        /// Last ticket number.
        #[arg(long)]
        to: u64,
    },
    /// Archive a closed period (2026, 2026-12 or 2026-12-04) into one zip
    /// file signed by the till's key (docs/fiscal-archive.md); logged in the
    /// event log. A period with no closing is refused.
    Archive {
        #[command(flatten)]
        data: TillDataArg,
        /// The period: YYYY, YYYY-MM or YYYY-MM-DD.
        #[arg(long)]
        period: String,
        /// The archive file to write (replaced whole, or left as it was).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Show the event log (JET): starts, stops, offline periods, clock
    /// changes, closings, duplicates, archives…
    Events {
        #[command(flatten)]
        data: TillDataArg,
        /// Only the events numbered after N.
        #[arg(long, value_name = "N", default_value_t = 0)]
        after: u64,
    },
    /// Print the receipt of ticket NUMBER, when the customer asks (plain
    /// text, 42 columns for 80 mm paper; ESC/POS bytes with --escpos). Its
    /// QR code is signed by the till (`tillsync verify receipt`).
    Receipt {
        #[command(flatten)]
        data: TillDataArg,
        /// The ticket number.
        number: u64,
        #[command(flatten)]
        print: crate::cmd::receipt::PrintArgs,
    },
    /// Print a duplicate of ticket NUMBER's receipt: marked "DUPLICATA n° K"
    /// (K: its reprint number), logged in the event log and counted in the
    /// day closing.
    Reprint {
        #[command(flatten)]
        data: TillDataArg,
        /// The ticket number.
        number: u64,
        #[command(flatten)]
        print: crate::cmd::receipt::PrintArgs,
    },
}

fn parse_period(s: &str) -> Result<tillsync_core::fiscal::closing::Period, String> {
    tillsync_core::fiscal::closing::Period::from_code(s).map_err(|e| e.to_string())
}

#[derive(Subcommand)]
pub enum CustomerCmd {
    /// Create a customer through the server (copied from the template
    /// customer); prints its code (the whole record with --json).
    Create {
        #[command(flatten)]
        data: TillDataArg,
        /// The customer's name.
        #[arg(long)]
        name: String,
        /// Another column of CLI; repeat for more (an empty value is NULL).
        #[arg(long = "field", value_name = "COLUMN=VALUE", value_parser = tillsync_till::up::customers::parse_field)]
        fields: Vec<(String, String)>,
    },
    /// Change a customer (works offline): the till's row changes and the
    /// change is queued for the server.
    Edit {
        #[command(flatten)]
        data: TillDataArg,
        /// Customer code.
        code: String,
        /// A column to change; repeat for more (an empty value is NULL).
        #[arg(long = "field", value_name = "COLUMN=VALUE", required = true,
              value_parser = tillsync_till::up::customers::parse_field)]
        fields: Vec<(String, String)>,
    },
    /// Abandon a customer created at this till (the creation was cancelled):
    /// the till removes it and queues its deletion on the server.
    Abandon {
        #[command(flatten)]
        data: TillDataArg,
        /// Customer code.
        code: String,
    },
}

pub fn run(cmd: TillCmd, out: &Out) -> Result<ExitCode> {
    run_cmd(cmd, out).map_err(said_once)
}

fn run_cmd(cmd: TillCmd, out: &Out) -> Result<ExitCode> {
    match cmd {
        TillCmd::Init { data, package } => till_keys::init(&data.data, &package, out)?,
        TillCmd::Enrol(data) => till_keys::enrol(&data.data, out)?,
        TillCmd::RotateKey(data) => till_keys::rotate_key(&data.data, out)?,
        TillCmd::Sync { data, full } => return sync_cmd(&data, full, out),
        TillCmd::Status(data) => crate::cmd::status::status_cmd(&data.data, out)?,
        TillCmd::Sell(args) => sell_cmd(&args, out)?,
        TillCmd::Run {
            data,
            pull_interval_ms,
            no_pull,
            listen,
            allow_remote,
            no_cashier,
        } => {
            let cashier = (!no_cashier).then_some(tillsync_till::cashier::serve::CashierOptions {
                listen,
                allow_remote,
            });
            run_agent(&data, pull_interval_ms, no_pull, cashier, out)?
        }
        TillCmd::Customer(c) => customer_cmd(c, out)?,
        TillCmd::Close { data, period } => crate::cmd::fiscal::close_cmd(&data.data, period, out)?,
        TillCmd::Resend { data, from, to } => {
            let queued = tillsync_till::up::resend::resend(&data.data, from, to)?;
            out.emit(&serde_json::json!({"queued": queued}), || {
                if queued.is_empty() {
                    println!("nothing to queue: tickets {from}..={to} are already waiting or not on this till");
                } else {
                    println!("{} ticket(s) queued again; the next push sends them", queued.len());
                }
            });
        }
        TillCmd::Archive {
            data,
            period,
            out: file,
        } => crate::cmd::archive::till_archive_cmd(&data.data, &period, &file, out)?,
        TillCmd::Events { data, after } => crate::cmd::fiscal::events_cmd(&data.data, after, out)?,
        TillCmd::Receipt {
            data,
            number,
            print,
        } => crate::cmd::receipt::receipt_cmd(&data.data, number, false, &print, out)?,
        TillCmd::Reprint {
            data,
            number,
            print,
        } => crate::cmd::receipt::receipt_cmd(&data.data, number, true, &print, out)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `till sync`: one push (tickets first), then one pull. A failed pull never
/// hides what the push did.
fn sync_cmd(data: &TillDataArg, full: bool, out: &Out) -> Result<ExitCode> {
    let pb = out.spinner("pushing the outbox");
    let pushed = push::push(&data.data, push::PushOptions::default());
    pb.set_message("loading packages");
    let pulled = pull(&data.data, PullOptions { full }, &mut |m| {
        pb.set_message(m.to_string())
    });
    pb.finish_and_clear();
    let push_json = match &pushed {
        Ok(r) => serde_json::to_value(r)?,
        Err(e) => serde_json::json!({ "error": e.to_string() }),
    };
    let push_problem = match &pushed {
        Err(e) => Some(format!("push failed, the outbox is kept: {e}")),
        Ok(r) if r.pending > 0 && r.unavailable.is_some() => Some(format!(
            "{} item(s) wait in the outbox: {}",
            r.pending,
            r.unavailable.as_deref().unwrap_or_default()
        )),
        Ok(_) => None,
    };
    let report = match pulled {
        Ok(r) => r,
        Err(e) => {
            if out.json {
                let msg = serde_json::json!({ "error": e.to_string(), "push": push_json });
                println!("{}", serde_json::to_string_pretty(&msg)?);
            } else {
                print_push(&pushed);
            }
            if let Some(p) = &push_problem {
                eprintln!("error: {p}");
            }
            eprintln!("error: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let mut json = serde_json::to_value(&report)?;
    json["push"] = push_json;
    out.emit(&json, || {
        print_push(&pushed);
        println!("plan from {}", report.plan_source);
        for t in &report.tables {
            let v = |v: Option<u64>| v.map(|v| format!("v{v}")).unwrap_or("-".into());
            let why = t
                .reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            println!(
                "{:<12} {} → {}  {}{}",
                t.table,
                v(t.version_before),
                v(t.version_after),
                t.action,
                why
            );
        }
        for a in &report.applied {
            println!(
                "  applied {}: {} upserts, {} deletes in {} ms",
                a.file, a.upserts, a.deletes, a.millis
            );
        }
        println!(
            "{} package(s), {} bytes in {} ms",
            report.applied.len(),
            report.downloaded_bytes,
            report.millis
        );
    });
    match push_problem {
        Some(p) => {
            eprintln!("error: {p}");
            Ok(ExitCode::FAILURE)
        }
        None => Ok(ExitCode::SUCCESS),
    }
}

fn print_push(pushed: &Result<push::PushReport, tillsync_till::TillError>) {
    match pushed {
        Ok(r) if r.sent == 0 && r.set_aside.is_empty() => match &r.unavailable {
            Some(why) => println!("push: nothing sent ({} pending): {why}", r.pending),
            None => println!("push: nothing to send ({} pending)", r.pending),
        },
        Ok(r) => {
            println!("push: {} in {} ms", r.summary(), r.millis);
            for a in &r.set_aside {
                println!("  set aside {} ({}): {}", a.key, a.status, a.reason);
            }
        }
        Err(e) => println!("push failed, the outbox is kept: {e}"),
    }
}

/// `--listen`: an IP:PORT.
fn parse_listen(s: &str) -> Result<std::net::SocketAddr, String> {
    tillsync_core::config::till::parse_listen("--listen", s).map_err(|e| e.to_string())
}

fn run_agent(
    data: &TillDataArg,
    pull_interval_ms: u64,
    no_pull: bool,
    cashier: Option<tillsync_till::cashier::serve::CashierOptions>,
    out: &Out,
) -> Result<()> {
    if pull_interval_ms == 0 {
        anyhow::bail!("--pull-interval-ms must be greater than 0");
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            let ctrl_c = tokio::signal::ctrl_c();
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut term) => tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                },
                Err(_) => {
                    let _ = ctrl_c.await;
                }
            }
        });
        tracing::info!("stopping");
        flag.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let opts = agent::AgentOptions {
        pull_interval: std::time::Duration::from_millis(pull_interval_ms),
        pull: !no_pull,
        cashier,
        ..agent::AgentOptions::default()
    };
    // One line on stdout as soon as the cashier page listens, for people
    // and for scripts (with --json, a one-line JSON object).
    let summary = agent::run_with(&data.data, &opts, &stop, |started| {
        if let Some(url) = &started.cashier_url {
            if out.json {
                println!("{}", serde_json::json!({ "cashier_url": url }));
            } else {
                println!("cashier page: {url}");
            }
        }
    })?;
    out.emit(&summary, || {
        println!(
            "stopped: {} item(s) delivered in {} push(es), {} set aside; {} package(s) applied in {} pull(s); {} push error(s), {} pull error(s)",
            summary.delivered,
            summary.pushes,
            summary.set_aside,
            summary.packages_applied,
            summary.pulls,
            summary.push_errors,
            summary.pull_errors
        )
    });
    Ok(())
}

fn customer_cmd(cmd: CustomerCmd, out: &Out) -> Result<()> {
    use tillsync_till::up::customers;
    match cmd {
        CustomerCmd::Create { data, name, fields } => {
            let record = customers::create(&data.data, &name, &fields)?;
            let code = record
                .get("code")
                .map(|c| {
                    c.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| c.to_string())
                })
                .unwrap_or_default();
            out.emit(&record, || println!("{code}"));
        }
        CustomerCmd::Edit { data, code, fields } => {
            let edit = customers::edit(&data.data, &code, &fields)?;
            out.emit(&edit, || {
                println!(
                    "customer {code} changed at this till ({}); the change is queued for the server",
                    edit.fields.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            });
        }
        CustomerCmd::Abandon { data, code } => {
            customers::abandon(&data.data, &code)?;
            out.emit(&serde_json::json!({"abandoned": code}), || {
                println!(
                    "customer {code} removed from this till; its deletion is queued for the server"
                )
            });
        }
    }
    Ok(())
}
