//! `bench fiscal`: closing a business day of many tickets on a till, and
//! verifying an archive of a million tickets against the same run's raw
//! Ed25519 batch-verification rate; its arguments, the records it makes,
//! the run and the report, one file each.

pub mod args;
pub(crate) mod make;
pub(crate) mod report;
pub(crate) mod run;
