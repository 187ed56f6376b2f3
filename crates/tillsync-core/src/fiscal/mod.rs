//! The fiscal records of a till besides its tickets (NF525): local time and
//! business periods, the chained and signed records that the event log (JET)
//! and the closings are made of, what a closing totals, the signed code
//! printed on receipts, and their errors.

pub mod base32;
pub mod closing;
pub mod error;
pub mod event;
pub mod filing;
pub mod ledger;
pub mod local;
pub mod purge;
pub mod receipt;
pub mod record;
pub mod verify;
