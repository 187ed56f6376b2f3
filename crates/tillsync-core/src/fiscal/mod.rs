//! The fiscal records of a till besides its tickets (NF525): local time and
//! business periods, the chained and signed records that the event log (JET)
//! and the closings are made of, what a closing totals, and their errors.

pub mod closing;
pub mod error;
pub mod event;
pub mod filing;
pub mod local;
pub mod record;
