//! `till status`: the till's connection, table versions, tickets, outbox,
//! error list, closings and journal, times in the zone of the till.

use std::path::Path;

use anyhow::Result;
use tillsync_output::Out;
use tillsync_till::status;

pub fn status_cmd(dir: &Path, out: &Out) -> Result<()> {
    let s = status::status(dir, status::StatusOptions::default())?;
    // Times as a person reads them: local (the zone of the till); the JSON keeps UTC.
    let cfg = tillsync_core::TillConfig::load(dir)?;
    let zone = tillsync_till::fiscal::jet::till_zone(dir)?;
    let local = |t: &str| zone.show(t, tillsync_core::Lang::En);
    out.emit(&s, || {
        println!("till {} of store {} (folder {})", s.till, s.store, s.folder);
        let c = &s.connection;
        let last = c.last_contact.as_deref().map_or("never".to_string(), local);
        match (c.online, &c.error) {
            (Some(true), _) => println!(
                "  online: {} answered in {} ms",
                c.webservice_url,
                c.ping_millis.unwrap_or(0)
            ),
            (_, Some(e)) => println!("  OFFLINE: {e}; last contact {last}"),
            _ => println!("  connection not checked; last contact {last}"),
        }
        crate::cmd::till_keys::print_enrolment(&s.enrolment, &zone, cfg.till.language);
        println!("tables:");
        for v in &s.tables {
            println!(
                "  {:<12} v{:<6} loaded {} ({})",
                v.table,
                v.version,
                local(&v.loaded_at),
                v.kind
            );
        }
        match (s.tickets.last_number, &s.tickets.last_time) {
            (Some(n), Some(t)) => {
                println!("tickets: {} (last: {n} at {})", s.tickets.count, local(t))
            }
            _ => println!("tickets: none yet"),
        }
        let o = &s.outbox;
        match (&o.oldest_at, o.oldest_age_secs) {
            (Some(at), Some(age)) => println!(
                "outbox: {} pending, the oldest queued at {} ({age} s ago)",
                o.pending,
                local(at)
            ),
            _ => println!("outbox: empty"),
        }
        if !s.errors.is_empty() {
            println!("error list ({}):", s.errors.len());
            for e in &s.errors {
                println!(
                    "  {} {} ({}) {}: {}",
                    local(&e.at),
                    e.key,
                    e.kind,
                    e.status,
                    e.reason
                );
            }
        }
        let f = &s.fiscal;
        match &f.last_day_closing {
            Some(c) => println!(
                "last day closing: {} (closing n° {}, tickets up to {}), {} ticket(s) sold since; {} event(s) in the event log",
                c.name, c.seq, c.to_number, f.tickets_since_closing, f.events
            ),
            None => println!(
                "no day closing yet, {} ticket(s) sold; {} event(s) in the event log",
                f.tickets_since_closing, f.events
            ),
        }
        println!(
            "last push: {}; last pull: {}",
            s.last_push.as_deref().map_or("never".to_string(), local),
            s.last_pull.as_deref().map_or("never".to_string(), local)
        );
        println!("journal (newest first):");
        for j in &s.journal {
            println!(
                "  {} {:<8} {:<6} {}",
                local(&j.at),
                j.kind,
                j.result,
                j.detail
            );
        }
    });
    Ok(())
}
