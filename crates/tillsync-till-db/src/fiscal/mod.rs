//! The till's fiscal records besides tickets: the chained tables of the
//! event log and the closings, events written as they happen, and closings
//! computed by ticket number from the till's own tables.

pub mod closings;
pub mod events;
pub mod records;
