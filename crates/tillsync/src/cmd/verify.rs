//! `tillsync verify receipt 'TEXT-OF-QR' --key FILE | --server DIR [--till ID]`:
//! a receipt's QR code checked offline: its signature by the till's key
//! (a file holding the public key in hex, or the till's key history that
//! the server data folder keeps), so that a changed figure or a key that
//! is not the till's is refused (exit code 1).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{ArgGroup, Subcommand};
use tillsync_core::fiscal::receipt::{ReceiptPayload, SignedReceipt};
use tillsync_core::keys::parse_verifying_key;
use tillsync_output::Out;
use tillsync_server::data::DataDir;
use tillsync_server::receipts::verify_with_server;

use crate::cmd::common::said_once;

#[derive(Subcommand)]
pub enum VerifyCmd {
    /// Check the text of a receipt's QR code: the till's signature over the
    /// printed figures (till, ticket number, local time, total, VAT).
    #[command(group(ArgGroup::new("key_source").required(true).args(["key", "server"])))]
    Receipt {
        /// The text the QR code holds (TSR1*…).
        text: String,
        /// A file holding the till's public key (64 hex digits).
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
        /// The server data folder: the till's key history it keeps.
        #[arg(long, value_name = "DIR")]
        server: Option<PathBuf>,
        /// The till the receipt must be of.
        #[arg(long, value_name = "ID")]
        till: Option<String>,
    },
}

pub fn run(cmd: VerifyCmd, out: &Out) -> Result<ExitCode> {
    run_cmd(cmd, out).map_err(said_once)
}

fn euros(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let a = cents.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

fn run_cmd(cmd: VerifyCmd, out: &Out) -> Result<ExitCode> {
    let VerifyCmd::Receipt {
        text,
        key,
        server,
        till,
    } = cmd;
    let (payload, public_key, record) = match (key, server) {
        (Some(file), _) => {
            let hex = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read the key file {}", file.display()))?;
            let key = parse_verifying_key(hex.trim())
                .with_context(|| format!("key file {}", file.display()))?;
            let read = SignedReceipt::parse(&text)?;
            if let Some(t) = &till
                && *t != read.payload.till
            {
                bail!(
                    "receipt refused: it is of till {}, not of till {t}",
                    read.payload.till
                );
            }
            read.verify(&key).context("receipt refused")?;
            (read.payload, hex.trim().to_string(), None)
        }
        (None, Some(dir)) => {
            let v = verify_with_server(&DataDir::open(&dir)?, &text, till.as_deref())
                .context("receipt refused")?;
            (v.payload, v.public_key, v.record)
        }
        (None, None) => {
            bail!("give the till's key with --key FILE or the server with --server DIR")
        }
    };
    print_ok(&payload, &public_key, record.as_ref(), out)?;
    Ok(ExitCode::SUCCESS)
}

/// `20261204T091221+0100` as `2026-12-04 09:12:21 +01:00` (the payload's
/// time is checked when it is read).
fn local(stamp: &str) -> String {
    match (
        stamp.get(..8),
        stamp.get(9..15),
        stamp.get(15..18),
        stamp.get(18..),
    ) {
        (Some(d), Some(t), Some(h), Some(m)) => format!(
            "{}-{}-{} {}:{}:{} {h}:{m}",
            &d[..4],
            &d[4..6],
            &d[6..],
            &t[..2],
            &t[2..4],
            &t[4..]
        ),
        _ => stamp.to_string(),
    }
}

fn print_ok(
    p: &ReceiptPayload,
    public_key: &str,
    record: Option<&(u64, String)>,
    out: &Out,
) -> Result<()> {
    let instant = p.instant()?;
    let json = serde_json::json!({
        "valid": true, "till": p.till, "number": p.number, "training": p.training,
        "local_time": p.local_time, "utc_time": tillsync_core::fiscal::local::format_utc(instant),
        "total_cents": p.total_cents,
        "vat": p.vat.iter().map(|v| serde_json::json!({
            "rate_bp": v.rate_bp, "base_cents": v.base_cents, "vat_cents": v.vat_cents
        })).collect::<Vec<_>>(),
        "ticket_hash": p.ticket_hash, "key_id": p.key_id, "public_key": public_key,
        "key_record": record.map(|(seq, from)| serde_json::json!({"seq": seq, "valid_from": from})),
    });
    out.emit(&json, || {
        println!(
            "receipt valid: till {}, ticket {}{}, sold {} local time ({} UTC), total {}",
            p.till,
            p.number,
            if p.training { " (training mode)" } else { "" },
            local(&p.local_time),
            tillsync_core::fiscal::local::format_utc(instant),
            euros(p.total_cents)
        );
        for v in &p.vat {
            println!(
                "  VAT {:>5.2} %: base {:>10}  VAT {:>9}",
                v.rate_bp as f64 / 100.0,
                euros(v.base_cents),
                euros(v.vat_cents)
            );
        }
        println!("  ticket hash {}", p.ticket_hash);
        println!("  signed by the till's key {} ({public_key})", p.key_id);
        if let Some((seq, from)) = record {
            println!("  record {seq} of the till's key history, valid from {from}");
        }
    });
    Ok(())
}
