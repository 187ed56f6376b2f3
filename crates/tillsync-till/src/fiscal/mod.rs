//! The till's fiscal side besides selling: the event log written as things
//! happen ([`jet`]), closings by hand or when due ([`close`]), and
//! archives of closed periods ([`archive`]), and the till's database under
//! the standalone verifier ([`verify`]).

pub mod archive;
pub mod close;
pub mod jet;
pub mod verify;
