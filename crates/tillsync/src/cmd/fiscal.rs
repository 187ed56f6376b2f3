//! The fiscal commands: on the till `till close` (a closing, printed with
//! its totals) and `till events` (the event log); on the server `server
//! closings` (the ledger and its flags) and `server tickets --missing`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use tillsync_core::fiscal::closing::{ClosingBody, Period};
use tillsync_output::Out;
use tillsync_server::DataDir;
use tillsync_server_db::ledger::till_ledger;
use tillsync_till::fiscal::{close, jet};

/// Cents as `1234.56`.
fn euros(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let a = cents.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// The lines of a closing as a person reads them.
pub fn closing_lines(seq: u64, b: &ClosingBody) -> Vec<String> {
    let mut l = vec![format!(
        "{} closing {} (closing n° {seq}): tickets {}..={} ({} tickets, {} corrections, {} duplicates)",
        b.period.code(),
        b.name,
        b.after_number + 1,
        b.to_number,
        b.tickets,
        b.corrections,
        b.reprints
    )];
    for v in &b.vat_totals {
        l.push(format!(
            "  VAT {:>5.2} %: base {:>10}  VAT {:>9}  total {:>10}",
            v.rate_bp as f64 / 100.0,
            euros(v.base_cents),
            euros(v.vat_cents),
            euros(v.total_cents)
        ));
    }
    for p in &b.payments {
        l.push(format!("  {:<10} {:>10}", p.method, euros(p.amount_cents)));
    }
    l.push(format!(
        "  period total {} (absolute {}); perpetual grand total {} (absolute {})",
        euros(b.total_cents),
        euros(b.total_abs_cents),
        euros(b.perpetual_total_cents),
        euros(b.perpetual_abs_cents)
    ));
    l
}

pub fn close_cmd(dir: &Path, period: Period, out: &Out) -> Result<()> {
    let c = close::close(dir, period)?;
    let json = serde_json::json!({
        "seq": c.record.seq, "new": c.new, "time": c.record.time, "hash": c.record.hash,
        "closing": c.body,
    });
    out.emit(&json, || {
        if !c.new {
            println!("nothing new since the last {} closing:", period.code());
        }
        for line in closing_lines(c.record.seq, &c.body) {
            println!("{line}");
        }
    });
    Ok(())
}

pub fn events_cmd(dir: &Path, after: u64, out: &Out) -> Result<()> {
    let events = jet::events(dir, after)?;
    out.emit(&events, || {
        if events.is_empty() {
            println!("no event");
        }
        for e in &events {
            let body = match &e.body {
                serde_json::Value::Object(m) if m.is_empty() => String::new(),
                b => format!(" {b}"),
            };
            println!("{:>5}  {}  {}{body}", e.seq, e.local_time, e.label);
        }
    });
    Ok(())
}

/// `server closings`: the ledger of every till (or one); exit 1 when
/// something is flagged.
pub fn ledger_cmd(dir: &Path, till: Option<&str>, out: &Out) -> Result<ExitCode> {
    let data = DataDir::open(dir)?;
    let cfg = data.config()?;
    let zone = tillsync_core::fiscal::local::LocalZone::new(&cfg.folder.timezone)?;
    let db = data.open_store_with(&cfg)?;
    let tills = match till {
        Some(t) => vec![t.to_string()],
        None => db.fiscal_tills()?,
    };
    let now = tillsync_db::now_rfc3339();
    let mut ledgers = Vec::with_capacity(tills.len());
    for t in &tills {
        ledgers.push(till_ledger(db.as_ref(), t, &zone, &now)?);
    }
    out.emit(&ledgers, || {
        if ledgers.is_empty() {
            println!("no till sent tickets or closings yet");
        }
        for l in &ledgers {
            println!(
                "till {}: {} closing(s), {} event(s)",
                l.till,
                l.closings.len(),
                l.events
            );
            for c in &l.closings {
                for line in closing_lines(c.seq, &c.body) {
                    println!("  {line}");
                }
            }
            for f in &l.flags {
                println!("  FLAG {}: {}", f.kind, f.detail);
            }
        }
    });
    let flagged = ledgers.iter().any(|l| !l.flags.is_empty());
    Ok(if flagged {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `server tickets --missing`: the numbers that did not arrive, per till.
pub fn missing_cmd(dir: &Path, till: Option<&str>, out: &Out) -> Result<()> {
    let data = DataDir::open(dir)?;
    let db = data.open_store()?;
    let state = db.ticket_state(till)?;
    let json: Vec<serde_json::Value> = state
        .iter()
        .map(|s| serde_json::json!({"till": s.till_id, "missing": s.missing}))
        .collect();
    out.emit(&json, || {
        let mut any = false;
        for s in &state {
            for g in &s.missing {
                any = true;
                println!("{:<8} {g}", s.till_id);
            }
        }
        if !any {
            println!("no missing ticket");
        }
    });
    Ok(())
}
