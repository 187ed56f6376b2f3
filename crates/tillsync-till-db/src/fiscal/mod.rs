//! The till's fiscal records besides tickets: the chained tables of the
//! event log and the closings, events written as they happen, and closings
//! computed by ticket number from the till's own tables, duplicates
//! numbered and logged; the ledger of tickets, events and closings read
//! back for the verifier and archives; whether a period may be purged.

pub mod closings;
pub mod events;
pub mod ledger;
pub mod purge;
pub mod records;
pub mod reprints;
