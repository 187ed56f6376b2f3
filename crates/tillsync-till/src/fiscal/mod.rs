//! The till's fiscal side besides selling: the event log written as things
//! happen ([`jet`]) and closings by hand or when due ([`close`]).

pub mod close;
pub mod jet;
