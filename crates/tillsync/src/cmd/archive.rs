//! Archives and the standalone verifier: `till archive` and `server
//! archive` (a closed period as one zip file, `docs/fiscal-archive.md`) and
//! `verify` (an archive file, a till database or the server's copy: "intact"
//! with the counts and the key fingerprint, or the first break; exit 1).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;
use tillsync_archive::verify::verify_archive_file;
use tillsync_core::fiscal::local::LocalZone;
use tillsync_core::fiscal::verify::keys::ExpectedKey;
use tillsync_core::fiscal::verify::report::{Break, Summary, Verdict};
use tillsync_core::keys::parse_verifying_key;
use tillsync_core::lang::Lang;
use tillsync_output::Out;
use tillsync_server::DataDir;

/// `tillsync verify`: what to check and the key to compare with.
#[derive(Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    group(clap::ArgGroup::new("source").required(true).args(["archive", "till_db", "server"]))
)]
pub struct VerifyArgs {
    /// `verify receipt`: a receipt's QR code.
    #[command(subcommand)]
    pub receipt: Option<crate::cmd::verify::VerifyCmd>,
    /// An archive file (from `till archive` or `server archive`).
    pub archive: Option<PathBuf>,
    /// A till's database (`TDIR/till.db`), opened read-only.
    #[arg(long, value_name = "PATH")]
    pub till_db: Option<PathBuf>,
    /// A server data folder: the server's copy of the tills' records.
    #[arg(long, value_name = "DIR")]
    pub server: Option<PathBuf>,
    /// The till (with --server: only this one; with --till-db: when no
    /// till.toml is beside the database).
    #[arg(long, value_name = "ID", conflicts_with = "archive")]
    pub till: Option<String>,
    /// A file holding the public key (64 hex digits) the records must be
    /// signed with: the till's, or the server's for a server archive.
    #[arg(long, value_name = "FILE", conflicts_with = "fingerprint")]
    pub key: Option<PathBuf>,
    /// The fingerprint (64 hex digits) or key id (16) of that key.
    #[arg(long, value_name = "HEX")]
    pub fingerprint: Option<String>,
}

fn expected(args: &VerifyArgs) -> Result<Option<ExpectedKey>> {
    if let Some(path) = &args.key {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the key file {}", path.display()))?;
        let key = parse_verifying_key(&text)
            .with_context(|| format!("the key file {} holds no public key", path.display()))?;
        return Ok(Some(ExpectedKey::Key(key)));
    }
    match &args.fingerprint {
        Some(f) => Ok(Some(
            ExpectedKey::parse_fingerprint(f).map_err(anyhow::Error::msg)?,
        )),
        None => Ok(None),
    }
}

/// One verdict as printed and in `--json`.
#[derive(Serialize)]
struct Shown<'a> {
    /// What was checked.
    source: String,
    intact: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a Summary>,
    #[serde(rename = "break", skip_serializing_if = "Option::is_none")]
    first_break: Option<&'a Break>,
    #[serde(skip_serializing_if = "Option::is_none")]
    manifest: Option<&'a tillsync_archive::manifest::Manifest>,
}

fn print_verdict(v: &Shown<'_>) {
    match (v.summary, v.first_break) {
        (Some(s), _) => {
            let period = s
                .period
                .as_deref()
                .map(|p| format!(", period {p}"))
                .unwrap_or_default();
            println!("intact: {} (till {}{period})", v.source, s.till);
            println!("  tickets:  {}", s.tickets);
            println!("  events:   {}", s.events);
            println!(
                "  closings: {}, {} recomputed, {} held for the chain only",
                s.closings, s.closings_recomputed, s.closings_chained_only
            );
            for (id, f) in s.key_ids.iter().zip(&s.key_fingerprints) {
                println!("  till key {id}, fingerprint {f}");
            }
            if let Some(m) = v.manifest {
                // Local time, in the archive's own time zone.
                let made = LocalZone::new(&m.time_zone).map_or_else(
                    |_| m.created_at.clone(),
                    |z| format!("{} {}", z.show(&m.created_at, Lang::En), m.time_zone),
                );
                println!(
                    "  made by the {} on {made} ({}); manifest signed by key {}, fingerprint {}",
                    m.made_by.code(),
                    m.software,
                    m.signer.key_id,
                    m.signer.fingerprint
                );
            }
        }
        (None, Some(b)) => {
            println!("BROKEN: {}", v.source);
            println!("  first break: {b}");
        }
        (None, None) => {}
    }
}

fn emit(verdicts: &[Shown<'_>], out: &Out) -> ExitCode {
    if out.json {
        match verdicts {
            [one] => out.emit(one, || {}),
            many => out.emit(&many, || {}),
        }
    } else {
        verdicts.iter().for_each(print_verdict);
    }
    if verdicts.iter().all(|v| v.intact) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `tillsync verify`.
pub fn verify_cmd(mut args: VerifyArgs, out: &Out) -> Result<ExitCode> {
    if let Some(cmd) = args.receipt.take() {
        return crate::cmd::verify::run(cmd, out);
    }
    let expect = expected(&args)?;
    if let Some(path) = &args.archive {
        let verdict = verify_archive_file(path, expect.as_ref())?;
        let v = Shown {
            source: format!("archive {}", path.display()),
            intact: verdict.is_ok(),
            summary: verdict.as_ref().ok().map(|v| &v.summary),
            first_break: verdict.as_ref().err(),
            manifest: verdict.as_ref().ok().map(|v| &v.manifest),
        };
        return Ok(emit(&[v], out));
    }
    if let Some(path) = &args.till_db {
        let key = match &expect {
            Some(ExpectedKey::Key(k)) => Some(*k),
            _ => None,
        };
        let d = tillsync_till::fiscal::verify::verify_till_db(path, args.till.as_deref(), key)?;
        let verdict = check_fingerprint(d.verdict, expect.as_ref());
        let v = Shown {
            source: format!("till database {}", path.display()),
            intact: verdict.is_ok(),
            summary: verdict.as_ref().ok(),
            first_break: verdict.as_ref().err(),
            manifest: None,
        };
        return Ok(emit(&[v], out));
    }
    let Some(dir) = &args.server else {
        bail!("give an archive file, --till-db PATH or --server DIR");
    };
    let data = DataDir::open(dir)?;
    let results = tillsync_server::archive::verify_server(&data, args.till.as_deref())?;
    if results.is_empty() {
        bail!("the server holds no till's tickets or fiscal records yet");
    }
    let checked: Vec<(String, Verdict)> = results
        .into_iter()
        .map(|(t, v)| (t, check_fingerprint(v, expect.as_ref())))
        .collect();
    let verdicts: Vec<Shown<'_>> = checked
        .iter()
        .map(|(t, v)| Shown {
            source: format!("the server's copy of till {t} ({})", dir.display()),
            intact: v.is_ok(),
            summary: v.as_ref().ok(),
            first_break: v.as_ref().err(),
            manifest: None,
        })
        .collect();
    Ok(emit(&verdicts, out))
}

/// An intact ledger whose keys are not the one given is a break.
fn check_fingerprint(
    v: Result<Summary, Break>,
    expect: Option<&ExpectedKey>,
) -> Result<Summary, Break> {
    let (Ok(s), Some(ExpectedKey::Fingerprint(f))) = (&v, expect) else {
        return v;
    };
    if s.key_fingerprints.iter().any(|k| k.starts_with(f.as_str())) {
        return v;
    }
    Err(Break::whole(
        tillsync_core::fiscal::verify::report::Subject::Key,
        format!(
            "the records are signed by key {}, not by the fingerprint {f} given",
            s.key_fingerprints.join(", ")
        ),
    ))
}

/// `till archive`.
pub fn till_archive_cmd(dir: &Path, period: &str, to: &Path, out: &Out) -> Result<()> {
    let a = tillsync_till::fiscal::archive::archive(dir, period, to)?;
    out.emit(&a, || {
        println!(
            "archive of {} written to {} ({} bytes, SHA-256 {})",
            a.period, a.path, a.bytes, a.sha256
        );
        println!(
            "  tickets {}, events {}, closings {}",
            a.tickets, a.events, a.closings
        );
        println!(
            "  signed by the till key {} (fingerprint {})",
            a.key_id, a.fingerprint
        );
        println!("  logged as event {}", a.event);
    });
    Ok(())
}

/// `server archive`.
pub fn server_archive_cmd(
    dir: &Path,
    till: &str,
    period: &str,
    to: &Path,
    out: &Out,
) -> Result<()> {
    let data = DataDir::open(dir)?;
    let a = tillsync_server::archive::archive(&data, till, period, to)?;
    out.emit(&a, || {
        println!(
            "archive of till {} for {} written to {} ({} bytes)",
            a.till, a.period, a.path, a.bytes
        );
        println!(
            "  tickets {}, events {}, closings {}",
            a.tickets, a.events, a.closings
        );
        println!(
            "  signed by the server key {} (fingerprint {})",
            a.key_id, a.fingerprint
        );
    });
    Ok(())
}
