//! `bench fiscal`: the steps of the run (a day of tickets closed on a till
//! database, an archive of a year written and verified, the raw Ed25519
//! batch-verification rate before and after), the targets, the report.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use ed25519_dalek::{Signature, VerifyingKey};
use tillsync_archive::manifest::Role;
use tillsync_archive::verify::verify_archive_file;
use tillsync_archive::write::{ArchiveMeta, write_archive};
use tillsync_core::fiscal::closing::Period;
use tillsync_core::fiscal::local::LocalZone;
use tillsync_core::fiscal::verify::parallel::{par_chunks, threads};
use tillsync_core::fiscal::verify::signatures::BATCH;
use tillsync_core::ticket::GENESIS_HASH;
use tillsync_output::Out;
use tillsync_till_db::TillDb;
use tillsync_till_db::fiscal::closings::Closer;
use tillsync_till_db::up::sale::insert_ticket;

use crate::fiscal::args::FiscalArgs;
use crate::fiscal::make::{TILL, key, tickets, time_of, year_ledger};
use crate::fiscal::report::{FiscalReport, print_report};
use crate::measure::{ms, per_s, ratio};
use crate::scratch::bench_dir;
use crate::targets::Target;

/// Closing a day of `--day-tickets`, at most.
const TARGET_CLOSE_MS: f64 = 1_000.0;
/// Archive verification rate / raw Ed25519 batch-verification rate, at least.
const TARGET_VERIFY_VS_RAW: f64 = 0.5;
/// Signatures of the raw baseline.
const RAW_SAMPLE: usize = 200_000;

/// `sigs` verified in batches of [`BATCH`] on every core, as fast as
/// `ed25519_dalek::verify_batch` goes: signatures per second.
fn raw_rate(sigs: &[([u8; 32], Signature)], key: &VerifyingKey) -> Result<f64> {
    let t = Instant::now();
    let ok = par_chunks(sigs, |_, chunk| {
        chunk.chunks(BATCH).all(|b| {
            let msgs: Vec<&[u8]> = b.iter().map(|(d, _)| &d[..]).collect();
            let s: Vec<Signature> = b.iter().map(|(_, s)| *s).collect();
            let keys = vec![*key; b.len()];
            ed25519_dalek::verify_batch(&msgs, &s, &keys).is_ok()
        })
    });
    if !ok.into_iter().all(|x| x) {
        bail!("a signature of the baseline does not verify");
    }
    Ok(per_s(sigs.len() as u64, t.elapsed()))
}

pub(crate) fn run(args: FiscalArgs, out: &Out) -> Result<ExitCode> {
    if args.day_tickets == 0 || args.archive_tickets == 0 || args.tickets_per_day == 0 {
        bail!("--day-tickets, --archive-tickets and --tickets-per-day must be at least 1");
    }
    if args.tickets_per_day > 60_000 {
        bail!("--tickets-per-day is at most 60000 (one a second from 07:00 UTC)");
    }
    if args.archive_tickets.div_ceil(args.tickets_per_day) > 365 {
        bail!(
            "the archive holds one year: --archive-tickets / --tickets-per-day must be at most 365 days"
        );
    }
    let started = Instant::now();
    let tmp = bench_dir(args.dir.as_deref(), "tillsync-bench-fiscal-")?;
    let root = tmp.path().to_path_buf();
    let pb = out.spinner("starting");
    const STEPS: usize = 5;
    let step = |i: usize, msg: String| pb.set_message(format!("[{i}/{STEPS}] {msg}"));

    // 1. A till database holding a day of tickets, then the day closed.
    step(
        1,
        format!("selling {} tickets on a till database", args.day_tickets),
    );
    let t = Instant::now();
    let day_tickets = tickets(0, GENESIS_HASH, args.day_tickets, args.day_tickets, 0);
    let mut db = TillDb::open(&root.join("till.db")).context("the bench till database")?;
    db.conn().execute_batch("BEGIN")?;
    for tk in &day_tickets {
        insert_ticket(db.conn(), tk)?;
    }
    db.conn().execute_batch("COMMIT")?;
    drop(day_tickets);
    let day_setup_ms = ms(t.elapsed());
    step(2, "closing the day".into());
    let (k, zone) = (key(), LocalZone::paris());
    let now = time_of(0, args.day_tickets + 60);
    let closer = Closer {
        till: TILL,
        key: &k,
        zone: &zone,
        now: &now,
    };
    let t = Instant::now();
    let closed = db.close(&closer, Period::Day)?;
    let close_ms = ms(t.elapsed());
    if closed.body.tickets != args.day_tickets {
        bail!(
            "the day closing counts {} tickets, {} were sold",
            closed.body.tickets,
            args.day_tickets
        );
    }
    drop(db);

    // 2. The archive of a year of tickets.
    step(
        3,
        format!(
            "making and writing an archive of {} tickets",
            args.archive_tickets
        ),
    );
    let t = Instant::now();
    let ledger = year_ledger(args.archive_tickets, args.tickets_per_day);
    let make_ms = ms(t.elapsed());
    let sample: Vec<([u8; 32], Signature)> = ledger
        .tickets
        .iter()
        .take(RAW_SAMPLE)
        .map(|tk| {
            let mut d = [0u8; 32];
            let mut s = [0u8; 64];
            hex::decode_to_slice(&tk.hash, &mut d).expect("a hash made");
            hex::decode_to_slice(&tk.signature, &mut s).expect("a signature made");
            (d, Signature::from_bytes(&s))
        })
        .collect();
    let vk = k.verifying_key();
    let path = root.join("T001-2026.zip");
    let meta = ArchiveMeta {
        made_by: Role::Till,
        folder: "Bench",
        store: "S01",
        created_at: "2027-01-01T00:00:00Z",
        software: concat!("tillsync ", env!("CARGO_PKG_VERSION")),
        till_key: &vk,
        key_history: None,
    };
    let t = Instant::now();
    let written = write_archive(&ledger, &meta, &k, &path)?;
    let write_ms = ms(t.elapsed());
    let (events, closings) = (ledger.events.len(), ledger.closings.len());
    drop(ledger);

    // 3. The raw rate, the archive verified, the raw rate again.
    step(4, "the raw Ed25519 batch-verification rate".into());
    let raw_before = raw_rate(&sample, &vk)?;
    step(
        5,
        format!("verifying the archive of {} tickets", args.archive_tickets),
    );
    let t = Instant::now();
    let verdict = verify_archive_file(&path, None)?;
    let verify_elapsed = t.elapsed();
    let summary = match verdict {
        Ok(v) => v.summary,
        Err(b) => bail!("the bench archive does not verify: {b}"),
    };
    if summary.tickets.count != args.archive_tickets {
        bail!(
            "{} tickets verified, {} archived",
            summary.tickets.count,
            args.archive_tickets
        );
    }
    let raw_after = raw_rate(&sample, &vk)?;
    pb.finish_and_clear();
    let raw = raw_before.max(raw_after);
    let verify_ms = ms(verify_elapsed);
    let verify_per_s = per_s(args.archive_tickets, verify_elapsed);
    let vs_raw = ratio(verify_per_s, raw);
    let targets = vec![
        Target {
            name: "closing a day (ms)".into(),
            value: close_ms,
            limit: TARGET_CLOSE_MS,
            met: close_ms <= TARGET_CLOSE_MS,
        },
        Target {
            name: "archive verification / raw signature rate".into(),
            value: vs_raw,
            limit: TARGET_VERIFY_VS_RAW,
            met: vs_raw >= TARGET_VERIFY_VS_RAW,
        },
    ];
    let all_targets_met = targets.iter().all(|t| t.met);
    let report = FiscalReport {
        cpus: threads(),
        arch: std::env::consts::ARCH.to_string(),
        dir: root.clone(),
        day_tickets: args.day_tickets,
        day_setup_ms,
        close_ms,
        archive_tickets: args.archive_tickets,
        tickets_per_day: args.tickets_per_day,
        archive_events: events as u64,
        archive_closings: closings as u64,
        make_ms,
        write_ms,
        archive_bytes: written.bytes,
        verify_ms,
        verify_tickets_per_s: verify_per_s,
        raw_sample: sample.len() as u64,
        raw_sigs_per_s_before: raw_before,
        raw_sigs_per_s_after: raw_after,
        raw_sigs_per_s: raw,
        verify_vs_raw: vs_raw,
        targets,
        all_targets_met,
        total_ms: ms(started.elapsed()),
    };
    if args.keep {
        let _ = tmp.keep();
    }
    out.emit(&report, || print_report(&report, args.keep));
    Ok(if all_targets_met {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
