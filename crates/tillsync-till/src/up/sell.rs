//! Selling on the till, offline included: a sale is priced from the local
//! `ART`, numbered (gap-free per till and chain: fiscal, or training
//! apart), chained to the previous ticket of its chain, signed with the
//! till's key, stored in `TICKET` (or `TRAINING_TICKET`) and queued in the
//! outbox — all in one transaction, or nothing at all. A sale retried with
//! the same idempotency key gives back the ticket recorded the first time.
//!
//! [`sell`] is the one-shot entry (`till sell`); a cashier front end keeps a
//! [`Register`] open and calls [`Register::sell`] for each sale.

use std::path::Path;

use ed25519_dalek::SigningKey;
use tillsync_core::TillConfig;
use tillsync_core::ticket::{Sale, Ticket};
use tillsync_db::ticket_rows::TicketTables;
use tillsync_till_db::TillDb;
use tillsync_till_db::up as till_up;

use crate::error::TillError;
use crate::files::DB_FILE;
use crate::up::pricing::{
    check_shape, fingerprint, price_from_art, price_from_original, refuse, resolve_payments,
};
pub use crate::up::request::{SaleLine, SalePayment, SaleRequest};

/// Record one sale for the till in `dir` (opens its configuration and
/// database). No network is used.
pub fn sell(dir: &Path, req: &SaleRequest) -> Result<Ticket, TillError> {
    Register::open(dir)?.sell(req)
}

/// Record one sale with an open configuration and database.
pub fn sell_with(
    cfg: &TillConfig,
    db: &mut TillDb,
    req: &SaleRequest,
) -> Result<Ticket, TillError> {
    let key = cfg.auth.signing_key()?;
    sell_in(&cfg.till.id, &key, &cfg.folder.payment_methods, db, req)
}

/// A till ready to sell: its identity, ticket key, payment methods and
/// open database, for a cashier front end that records many sales.
pub struct Register {
    till: String,
    key: SigningKey,
    payment_methods: Vec<String>,
    db: TillDb,
}

impl Register {
    /// Open the till in `dir`.
    pub fn open(dir: &Path) -> Result<Self, TillError> {
        let cfg = TillConfig::load(dir)?;
        let db = TillDb::open(&dir.join(DB_FILE))?;
        Self::new(&cfg, db)
    }

    /// A register over an open database.
    pub fn new(cfg: &TillConfig, db: TillDb) -> Result<Self, TillError> {
        Ok(Register {
            till: cfg.till.id.clone(),
            key: cfg.auth.signing_key()?,
            payment_methods: cfg.folder.payment_methods.clone(),
            db,
        })
    }

    /// Record one sale (see [`SaleRequest`]); on any error nothing is recorded.
    pub fn sell(&mut self, req: &SaleRequest) -> Result<Ticket, TillError> {
        sell_in(
            &self.till,
            &self.key,
            &self.payment_methods,
            &mut self.db,
            req,
        )
    }

    /// The till database.
    pub fn db(&self) -> &TillDb {
        &self.db
    }

    /// The till database, for a write besides a sale (a duplicate logged).
    pub fn db_mut(&mut self) -> &mut TillDb {
        &mut self.db
    }

    /// Write event `kind` with `body` in the event log now, signed with the
    /// till's key.
    pub fn log_event(
        &mut self,
        kind: tillsync_core::fiscal::event::EventKind,
        body: &serde_json::Value,
    ) -> Result<tillsync_core::fiscal::record::Record, TillError> {
        Ok(self.db.log_event(
            &self.till,
            &self.key,
            kind,
            body,
            &tillsync_db::now_rfc3339(),
        )?)
    }
}

fn sell_in(
    till: &str,
    key: &SigningKey,
    payment_methods: &[String],
    db: &mut TillDb,
    req: &SaleRequest,
) -> Result<Ticket, TillError> {
    check_shape(req)?;
    let print = fingerprint(req);
    let sale_key = req.idempotency_key.as_deref().map(|k| till_up::SaleKey {
        key: k,
        fingerprint: &print,
    });
    let tables = TicketTables::of(req.training);
    let recorded = db.record_sale(till, req.training, sale_key, |tx, number, prev| {
        // A clock behind the newest record is said in the event log, in the
        // sale's transaction; the sale goes on.
        let now = tillsync_db::now_rfc3339();
        tillsync_till_db::fiscal::events::note_clock_in(tx, till, key, &now)?;
        let (lines, discount_cents) = match req.corrects {
            None => (price_from_art(tx, req)?, req.discount_cents),
            Some(n) => price_from_original(tx, tables, till, n, req)?,
        };
        if let Some(c) = &req.customer
            && !till_up::row_exists(tx, "CLI", "code", c)?
        {
            return Err(refuse(format!(
                "unknown customer {c}: it is not in the till's CLI table"
            )));
        }
        let mut sale = Sale {
            lines,
            discount_cents,
            payment_methods: payment_methods.to_vec(),
            customer: req.customer.clone(),
            cashier: req.cashier.clone(),
            corrects: req.corrects,
            training: req.training,
            ..Sale::default()
        };
        let due = sale.due_cents().map_err(|e| refuse(e.to_string()))?;
        sale.payments = resolve_payments(&req.payments, due)?;
        let ticket = sale
            .seal(till, number, &now, prev, key)
            .map_err(|e| refuse(e.to_string()))?;
        if ticket.training {
            // Training mode is said in the event log, in the sale's transaction.
            let body = serde_json::json!({"training_ticket": number});
            tillsync_till_db::fiscal::events::log_in(
                tx,
                till,
                key,
                tillsync_core::fiscal::event::EventKind::Training,
                &body,
                &now,
            )?;
        }
        Ok(ticket)
    })?;
    let ticket = match recorded {
        till_up::Recorded::New(t) => t,
        till_up::Recorded::Again(t) => {
            tracing::debug!(
                till,
                number = t.number,
                "sale retried with its idempotency key: the ticket recorded the first time"
            );
            return Ok(t);
        }
        till_up::Recorded::KeyUsed { number, training } => {
            return Err(refuse(format!(
                "idempotency key {:?} was already used for another sale: {}ticket {number}",
                req.idempotency_key.as_deref().unwrap_or_default(),
                if training { "training " } else { "" }
            )));
        }
    };
    tracing::debug!(
        till,
        number = ticket.number,
        training = ticket.training,
        total_cents = ticket.total_cents,
        "sale recorded"
    );
    Ok(ticket)
}

#[cfg(test)]
mod tests;
