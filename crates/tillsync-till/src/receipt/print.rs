//! Receipts of a till's own tickets: the original (`till receipt`, the
//! cashier page after a sale) and the duplicate (`till reprint`, a past
//! ticket on the cashier page), which is first logged as a `reprint` event
//! so that its number and the day closing's count of duplicates agree.

use std::path::Path;

use tillsync_core::TillConfig;
use tillsync_db::ticket_rows::{FISCAL_TABLES, TRAINING_TABLES};
use tillsync_till_db::TillDb;
use tillsync_till_db::fiscal::reprints::Reprint;
use tillsync_till_db::store::customer_address;
use tillsync_till_db::up::tickets::load_ticket_of;

use crate::error::TillError;
use crate::files::DB_FILE;
use crate::receipt::model::{PrintOptions, Receipt, ReceiptSource};

/// The receipt of ticket `number` of the till of `cfg`, printed with `opts`
/// (no event is written: see [`reprint_with`] for a duplicate).
pub fn receipt_with(
    cfg: &TillConfig,
    db: &TillDb,
    number: u64,
    opts: &PrintOptions,
) -> Result<Receipt, TillError> {
    let tables = if opts.training {
        &TRAINING_TABLES
    } else {
        &FISCAL_TABLES
    };
    let ticket = load_ticket_of(db.conn(), tables, &cfg.till.id, number)?.ok_or_else(|| {
        TillError::Receipt(format!(
            "{}ticket {number} does not exist on till {}",
            if opts.training { "training " } else { "" },
            cfg.till.id
        ))
    })?;
    let store = db.store_identity(&cfg.till.store)?;
    let zone = db.till_zone(cfg)?;
    let customer = match (&ticket.customer, opts.invoice) {
        (Some(c), true) => customer_address(db.conn(), c)?,
        _ => None,
    };
    let key = cfg.auth.signing_key()?;
    let src = ReceiptSource {
        ticket: &ticket,
        store_code: &cfg.till.store,
        store: store.as_ref(),
        customer,
        zone: &zone,
        lang: cfg.till.language,
        key: &key,
    };
    Receipt::build(&src, opts)
}

/// A duplicate of ticket `number`: the `reprint` event is written first
/// (its number is the count of earlier duplicates + 1), then the receipt
/// marked "DUPLICATA n° K".
pub fn reprint_with(
    cfg: &TillConfig,
    db: &mut TillDb,
    number: u64,
    opts: &PrintOptions,
) -> Result<(Receipt, Reprint), TillError> {
    if opts.training {
        return Err(TillError::Receipt(
            "a training ticket is no fiscal record: print it again with `till receipt --training` (no duplicate is counted)".into(),
        ));
    }
    // Refuse before logging when the receipt cannot be made.
    receipt_with(cfg, db, number, opts)?;
    let key = cfg.auth.signing_key()?;
    let r = db.log_reprint(&cfg.till.id, &key, number, &tillsync_db::now_rfc3339())?;
    let opts = PrintOptions {
        duplicate: Some(r.reprint),
        ..opts.clone()
    };
    Ok((receipt_with(cfg, db, number, &opts)?, r))
}

/// [`receipt_with`] for the till in `dir`.
pub fn receipt(dir: &Path, number: u64, opts: &PrintOptions) -> Result<Receipt, TillError> {
    let cfg = TillConfig::load(dir)?;
    let db = TillDb::open(&dir.join(DB_FILE))?;
    receipt_with(&cfg, &db, number, opts)
}

/// [`reprint_with`] for the till in `dir`.
pub fn reprint(
    dir: &Path,
    number: u64,
    opts: &PrintOptions,
) -> Result<(Receipt, Reprint), TillError> {
    let cfg = TillConfig::load(dir)?;
    let mut db = TillDb::open(&dir.join(DB_FILE))?;
    reprint_with(&cfg, &mut db, number, opts)
}
