//! The demo's fiscal walk (`docs/fiscal.md`): each till closes its business
//! day, sends the closing up, archives the day; the till's archive and the
//! server's archive of it are verified; a copy of an archive is altered and
//! the verifier must name the break.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use tillsync_core::TillConfig;
use tillsync_core::fiscal::closing::Period;
use tillsync_core::fiscal::verify::keys::ExpectedKey;
use tillsync_server::DataDir;
use tillsync_till::DB_FILE;
use tillsync_till::fiscal::jet::Fiscal;
use tillsync_till::up::push::{PushOptions, push};
use tillsync_till_db::TillDb;

use crate::scenario::TILLS;

/// One till's day, closed, archived and verified.
#[derive(Serialize)]
pub(crate) struct TillDay {
    pub(crate) till: String,
    /// The business day closed.
    pub(crate) day: String,
    pub(crate) tickets: u64,
    pub(crate) total_cents: i64,
    pub(crate) perpetual_total_cents: i64,
    /// The till's archive of the day.
    pub(crate) archive: PathBuf,
    /// Its signing key's fingerprint.
    pub(crate) fingerprint: String,
    /// The till's archive verifies.
    pub(crate) archive_intact: bool,
    /// The server's archive of the same day.
    pub(crate) server_archive: PathBuf,
    /// The server's archive verifies.
    pub(crate) server_archive_intact: bool,
    /// What the verifier said when it did not.
    pub(crate) breaks: Vec<String>,
}

/// The altered copy.
#[derive(Serialize)]
pub(crate) struct Altered {
    pub(crate) file: PathBuf,
    /// What was changed.
    pub(crate) change: String,
    /// The verifier refused it.
    pub(crate) caught: bool,
    /// The first break it named.
    pub(crate) first_break: String,
}

#[derive(Serialize)]
pub(crate) struct FiscalSummary {
    pub(crate) days: Vec<TillDay>,
    pub(crate) altered: Altered,
    pub(crate) ok: bool,
}

fn verdict(path: &Path, key: Option<&ExpectedKey>) -> Result<Result<String, String>> {
    let v = tillsync_archive::verify::verify_archive_file(path, key)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(match v {
        Ok(ok) => Ok(ok
            .summary
            .key_fingerprints
            .first()
            .cloned()
            .unwrap_or_default()),
        Err(b) => Err(b.to_string()),
    })
}

/// Change one digit of the first ticket's total in the archive's
/// `tickets.csv`, in place (what an edit of the file by hand does).
fn alter(from: &Path, to: &Path) -> Result<String> {
    let mut bytes = std::fs::read(from)?;
    let start = b"number,encoding,";
    let at = bytes
        .windows(start.len())
        .position(|w| w == start)
        .context("the archive holds no tickets.csv header")?;
    let eol = at
        + bytes[at..]
            .iter()
            .position(|b| *b == b'\n')
            .context("no row")?;
    let column = std::str::from_utf8(&bytes[at..eol])?
        .split(',')
        .position(|c| c == "total_cents")
        .context("tickets.csv has no total_cents column")?;
    // The first row after the header, at its total_cents field.
    let mut i = eol + 1;
    let mut commas = 0;
    while commas < column {
        if bytes[i] == b',' {
            commas += 1;
        }
        i += 1;
    }
    let old = bytes[i];
    anyhow::ensure!(
        old.is_ascii_digit(),
        "the first ticket's total is not a number"
    );
    let new = if old == b'9' { b'1' } else { old + 1 };
    bytes[i] = new;
    fix_crc(&mut bytes, "tickets.csv")?;
    std::fs::write(to, &bytes)?;
    Ok(format!(
        "the first ticket's total_cents in tickets.csv changed (digit {} became {}) and the zip's CRC-32 made to match, as a zip tool would",
        old as char, new as char
    ))
}

/// Set the CRC-32 of the stored entry `name` in its local header and its
/// central directory record to that of its (changed) content.
fn fix_crc(zip: &mut [u8], name: &str) -> Result<()> {
    let u16_at = |b: &[u8], i: usize| u16::from_le_bytes([b[i], b[i + 1]]) as usize;
    let u32_at =
        |b: &[u8], i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize;
    let mut local = None;
    let mut central = None;
    let mut i = 0;
    while i + 46 <= zip.len() {
        match u32_at(zip, i) {
            0x04034b50
                if zip[i + 30..].starts_with(name.as_bytes())
                    && u16_at(zip, i + 26) == name.len() =>
            {
                local = Some(i);
            }
            0x02014b50
                if zip[i + 46..].starts_with(name.as_bytes())
                    && u16_at(zip, i + 28) == name.len() =>
            {
                central = Some(i);
            }
            _ => {}
        }
        i += 1;
    }
    let (Some(l), Some(c)) = (local, central) else {
        anyhow::bail!("no zip entry {name}");
    };
    let size = u32_at(zip, l + 18);
    let data = l + 30 + name.len();
    let crc = crc32fast::hash(&zip[data..data + size]).to_le_bytes();
    zip[l + 14..l + 18].copy_from_slice(&crc);
    zip[c + 16..c + 20].copy_from_slice(&crc);
    Ok(())
}

/// Close, archive and verify each till's day, then an altered copy.
pub(crate) fn fiscal_path(
    data: &DataDir,
    dir: &Path,
    pb: &indicatif::ProgressBar,
) -> Result<FiscalSummary> {
    let mut days = Vec::new();
    for till in TILLS {
        pb.set_message(format!("till {till}: day closing and archive"));
        let tdir = dir.join(till);
        let cfg = TillConfig::load(&tdir)?;
        let mut db = TillDb::open(&tdir.join(DB_FILE))?;
        let fiscal = Fiscal::for_till(&cfg, &db)?;
        let closed = fiscal.close(&mut db, Period::Day)?;
        drop(db);
        // The closing goes up with the event log.
        let pushed = push(&tdir, PushOptions::default())?;
        anyhow::ensure!(
            pushed.unavailable.is_none() && pushed.rejected + pushed.quarantined == 0,
            "till {till}: the closing did not reach the server: {}",
            pushed.summary()
        );
        let day = closed.body.name.clone();
        let archive = dir.join(format!("{till}-{day}.zip"));
        tillsync_till::fiscal::archive::archive(&tdir, &day, &archive)?;
        let key = ExpectedKey::Key(fiscal.key.verifying_key());
        let mine = verdict(&archive, Some(&key))?;
        let server_archive = dir.join(format!("{till}-{day}-server.zip"));
        tillsync_server::archive::archive(data, till, &day, &server_archive)?;
        let theirs = verdict(&server_archive, None)?;
        let breaks = [&mine, &theirs]
            .iter()
            .filter_map(|v| v.as_ref().err().cloned())
            .collect();
        days.push(TillDay {
            till: till.to_string(),
            day,
            tickets: closed.body.tickets,
            total_cents: closed.body.total_cents,
            perpetual_total_cents: closed.body.perpetual_total_cents,
            fingerprint: mine.clone().unwrap_or_default(),
            archive,
            archive_intact: mine.is_ok(),
            server_archive,
            server_archive_intact: theirs.is_ok(),
            breaks,
        });
    }
    pb.set_message("altering a copy of an archive");
    let first = &days[0].archive;
    let file = dir.join(format!("{}-altered.zip", days[0].till));
    let change = alter(first, &file)?;
    let altered = match verdict(&file, None)? {
        Ok(_) => Altered {
            file,
            change,
            caught: false,
            first_break: String::new(),
        },
        Err(b) => Altered {
            file,
            change,
            caught: true,
            first_break: b,
        },
    };
    let ok = altered.caught
        && days
            .iter()
            .all(|d| d.archive_intact && d.server_archive_intact && d.tickets > 0);
    Ok(FiscalSummary { days, altered, ok })
}

/// The text form.
pub(crate) fn print_fiscal(f: &FiscalSummary) {
    let euros = |c: i64| {
        format!(
            "{}{}.{:02}",
            if c < 0 { "-" } else { "" },
            c.unsigned_abs() / 100,
            c.unsigned_abs() % 100
        )
    };
    println!();
    for d in &f.days {
        let yes = |b: bool| if b { "intact" } else { "BROKEN" };
        println!(
            "till {} day {} closed: {} tickets, {} EUR (perpetual grand total {} EUR); archive {} {}, server's archive {}",
            d.till,
            d.day,
            d.tickets,
            euros(d.total_cents),
            euros(d.perpetual_total_cents),
            d.archive.display(),
            yes(d.archive_intact),
            yes(d.server_archive_intact)
        );
        for b in &d.breaks {
            println!("  {b}");
        }
    }
    println!(
        "altered copy {} ({})",
        f.altered.file.display(),
        f.altered.change
    );
    if f.altered.caught {
        println!("  the verifier names the break: {}", f.altered.first_break);
    } else {
        println!("  NOT CAUGHT: the verifier said intact");
    }
}
