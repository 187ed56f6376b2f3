//! Filing a fiscal record (an event of a till's event log, or a closing),
//! written once for every backend: [`tillsync_core::fiscal::filing::decide_record`]
//! asked over what the database holds, then the row written. Each backend
//! gives only the SQL of the steps ([`RecordSteps`]).

use tillsync_core::fiscal::filing::{RecordDecision, RecordView, decide_record};
use tillsync_core::fiscal::record::Record;
use tillsync_db::StoreError;
use tillsync_wire::api::ItemStatus;

use crate::tickets::Outcome;

/// The SQL steps of filing a record, inside the caller's transaction.
pub trait RecordSteps {
    /// `(hash, prev_hash)` of record `seq` of `chain` of `till`, if held.
    fn record_at(
        &mut self,
        till: &str,
        chain: &str,
        seq: u64,
    ) -> Result<Option<(String, String)>, StoreError>;
    /// Store an accepted record, received at `at`.
    fn insert_record(&mut self, r: &Record, at: &str) -> Result<(), StoreError>;
}

struct View<'s> {
    steps: &'s mut dyn RecordSteps,
    till: &'s str,
    chain: &'s str,
}

impl RecordView for View<'_> {
    type Error = StoreError;
    fn at(&mut self, seq: u64) -> Result<Option<(String, String)>, StoreError> {
        self.steps.record_at(self.till, self.chain, seq)
    }
}

/// File record `r` sent by `till` (hash and signature check: `check`).
pub fn store_record(
    steps: &mut dyn RecordSteps,
    till: &str,
    r: &Record,
    check: Result<(), String>,
    at: &str,
) -> Result<Outcome, StoreError> {
    let mut view = View {
        steps,
        till,
        chain: &r.chain,
    };
    Ok(match decide_record(till, r, check, &mut view)? {
        RecordDecision::Duplicate => Outcome {
            status: ItemStatus::Duplicate,
            reason: None,
        },
        RecordDecision::Reject(reason) => Outcome {
            status: ItemStatus::Rejected,
            reason: Some(reason),
        },
        RecordDecision::Accept => {
            view.steps.insert_record(r, at)?;
            Outcome::accepted()
        }
    })
}
