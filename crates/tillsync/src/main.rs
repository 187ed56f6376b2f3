//! `tillsync`: the command line of the server, the till, the demo and the
//! benchmarks. Thin: parse arguments, call the libraries, print.
//!
//! # Layout
//! - `main.rs`: the root of the command tree (`Cli`), the default log level,
//!   the error line and the exit code.
//! - `cmd::server`: `server …` (init, export, check, package, tills, tickets,
//!   admin-password, run).
//! - `cmd::server_config`: `server config …` and `server tables …`.
//! - `cmd::till`: `till …` (sync, status, sell, run, customer, close,
//!   resend, events, receipt, reprint, and the rest).
//! - `cmd::till_sell`: `till sell`'s arguments (weights, discounts, voids,
//!   payments, cashier, training mode, idempotency key) and its output.
//! - `cmd::till_keys`: `till init`, `till enrol`, `till rotate-key` (the
//!   till's own key) and the enrolment lines of `till status`.
//! - `cmd::status`: `till status`.
//! - `cmd::fiscal`: `till close`, `till events`, `server closings`,
//!   `server tickets --missing`.
//! - `cmd::receipt`: `till receipt` and `till reprint` (text or ESC/POS).
//! - `cmd::verify`: `verify receipt` (a receipt's QR code checked offline).
//! - `cmd::archive`: `till archive`, `server archive` and `verify` of an archive, a till
//!   database or the server's copy (the standalone verifier).
//! - `cmd::common`: the server's and the till's `--data` arguments and errors with
//!   every cause said once.
//! - `demo` and `bench …` are parsed and run by the `tillsync-demo` and
//!   `tillsync-bench` crates; results, spinners and logs go through
//!   `tillsync-output`.

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::cmd::{server, till};

/// tillsync keeps store tills selling when the network is gone and brings
/// every till and the back office back in line when it returns.
#[derive(Parser)]
#[command(name = "tillsync", version, about, long_about = None)]
struct Cli {
    /// Print machine-readable JSON instead of text (where a command has output).
    #[arg(long, global = true)]
    json: bool,
    /// Log format on stderr: text or json.
    #[arg(long, global = true, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The server: data folder, configuration, sync tables, export, web service.
    #[command(subcommand)]
    Server(server::ServerCmd),
    /// A till: install, load data, status.
    #[command(subcommand)]
    Till(till::TillCmd),
    /// Run the whole down path on demo data and print a summary.
    Demo(tillsync_demo::DemoArgs),
    /// Check fiscal proofs offline: an archive, a till database or the
    /// server's copy (every hash, signature, chain link, closing and grand
    /// total: "intact" with the counts and the key fingerprint, or the first
    /// break, exit 1), or a receipt's QR code (`verify receipt`).
    Verify(cmd::archive::VerifyArgs),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(tillsync_bench::BenchCmd),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = match &cli.command {
        Command::Server(server::ServerCmd::Run(_)) => "info",
        Command::Till(till::TillCmd::Run { .. }) => "info",
        _ => "warn",
    };
    tillsync_output::init_logs(&cli.log_format, default_level);
    let out = tillsync_output::Out { json: cli.json };
    let result = match cli.command {
        Command::Server(cmd) => server::run(cmd, &out),
        Command::Till(cmd) => till::run(cmd, &out),
        Command::Verify(args) => cmd::archive::verify_cmd(args, &out),
        Command::Demo(args) => tillsync_demo::run(args, &out),
        Command::Bench(cmd) => tillsync_bench::run(cmd, &out),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if out.json {
                let msg = serde_json::json!({ "error": format!("{e:#}") });
                println!("{msg}");
            }
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
