//! `tillsync till init`, `till enrol` and `till rotate-key`: a till
//! installed with a key of its own, enrolled, rotated; and how `till
//! status` says the enrolment (`docs/till-keys.md`).

use std::path::Path;

use anyhow::Result;
use tillsync_core::Lang;
use tillsync_core::fiscal::local::LocalZone;
use tillsync_output::Out;
use tillsync_till::enrol::{self, EnrolmentStatus};
use tillsync_till::install;

/// `till init`: install, make the key, enrol it (or say why not yet).
pub fn init(dir: &Path, package: &Path, out: &Out) -> Result<()> {
    let done = install::init(dir, package)?;
    let cfg = &done.config;
    let json = serde_json::json!({
        "till": cfg.till.id, "store": cfg.till.store, "folder": cfg.folder.name,
        "data": dir, "key_id": done.key_id,
        "enrolled": done.pending.is_none(), "enrolment_error": done.pending,
    });
    out.emit(&json, || {
        println!(
            "till {} (store {}, folder {}) installed in {}; run `tillsync till sync --data {}` to load its data",
            cfg.till.id,
            cfg.till.store,
            cfg.folder.name,
            dir.display(),
            dir.display()
        );
        match &done.pending {
            None => println!(
                "signing key {} made on this till and enrolled",
                done.key_id
            ),
            Some(e) => println!(
                "signing key {} made on this till, NOT ENROLLED yet ({e}); it sells offline and `tillsync till sync` enrols it",
                done.key_id
            ),
        }
    });
    Ok(())
}

/// `till enrol`: enrol now, if not enrolled yet.
pub fn enrol(dir: &Path, out: &Out) -> Result<()> {
    let r = enrol::enrol(dir)?;
    out.emit(&r, || {
        if r.registered_now {
            println!(
                "till {} enrolled: key {} ({} record(s) in its key history)",
                r.till, r.key_id, r.records
            )
        } else {
            println!("till {} is enrolled already (key {})", r.till, r.key_id)
        }
    });
    Ok(())
}

/// `till rotate-key`: a new key, registered.
pub fn rotate_key(dir: &Path, out: &Out) -> Result<()> {
    let r = enrol::rotate_key(dir)?;
    out.emit(&r, || {
        println!(
            "till {}: tickets are now signed with key {} ({} record(s) in its key history); a running `till run` keeps the old key until it restarts (its tickets still verify)",
            r.till, r.key_id, r.records
        )
    });
    Ok(())
}

/// The enrolment line of `till status` (the time local, in `zone`).
pub fn print_enrolment(e: &EnrolmentStatus, zone: &LocalZone, lang: Lang) {
    match (e.enrolled, &e.error) {
        (true, _) => println!(
            "  enrolled: signing key {}{} ({} record(s) in the key history)",
            e.key_id,
            e.recorded_at
                .as_deref()
                .map(|t| format!(" recorded {}", zone.show(t, lang)))
                .unwrap_or_default(),
            e.key_history_records
        ),
        (false, Some(err)) => println!(
            "  NOT ENROLLED: signing key {} not registered yet ({err}); tickets wait in the outbox",
            e.key_id
        ),
        (false, None) => println!(
            "  NOT ENROLLED: signing key {} not registered yet; `tillsync till sync` enrols it",
            e.key_id
        ),
    }
}
