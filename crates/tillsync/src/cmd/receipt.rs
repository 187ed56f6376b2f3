//! `till receipt` and `till reprint`: a ticket's receipt as text (the QR
//! code drawn in half blocks on a terminal) or ESC/POS bytes, on stdout or
//! in a file; a duplicate is logged first.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use tillsync_output::Out;
use tillsync_till::receipt::model::PrintOptions;
use tillsync_till::receipt::{escpos, print, text};

#[derive(Args)]
pub struct PrintArgs {
    /// ESC/POS bytes for a receipt printer instead of text.
    #[arg(long)]
    escpos: bool,
    /// Write to FILE (e.g. the printer's device) instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// An invoice on request (with the customer's name and address when
    /// the ticket names a customer).
    #[arg(long)]
    invoice: bool,
    /// NUMBER is a training ticket (mode école, numbered apart); its
    /// receipt is marked MODE ÉCOLE (`till receipt` only: no duplicate of a
    /// training ticket is counted).
    #[arg(long)]
    training: bool,
}

pub fn receipt_cmd(
    dir: &Path,
    number: u64,
    duplicate: bool,
    args: &PrintArgs,
    out: &Out,
) -> Result<()> {
    let opts = PrintOptions {
        invoice: args.invoice,
        training: args.training,
        ..PrintOptions::default()
    };
    let (receipt, reprint) = if duplicate {
        let (r, d) = print::reprint(dir, number, &opts)?;
        (r, Some(d.reprint))
    } else {
        (print::receipt(dir, number, &opts)?, None)
    };
    let to_terminal = args.out.is_none() && !out.json && std::io::stdout().is_terminal();
    let bytes = if args.escpos {
        escpos::escpos(&receipt)
    } else {
        text::text(&receipt, to_terminal)?.into_bytes()
    };
    if let Some(path) = &args.out {
        std::fs::write(path, &bytes)
            .with_context(|| format!("cannot write the receipt to {}", path.display()))?;
    }
    let json = serde_json::json!({
        "till": receipt.till, "number": receipt.number, "duplicate": reprint,
        "qr": receipt.qr, "out": args.out,
        "text": (!args.escpos).then(|| String::from_utf8_lossy(&bytes).into_owned()),
    });
    out.emit(&json, || {
        if let Some(path) = &args.out {
            match reprint {
                Some(k) => println!(
                    "duplicate n° {k} of ticket {number} written to {}",
                    path.display()
                ),
                None => println!("receipt of ticket {number} written to {}", path.display()),
            }
        } else {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(&bytes);
            let _ = stdout.flush();
        }
    });
    Ok(())
}
