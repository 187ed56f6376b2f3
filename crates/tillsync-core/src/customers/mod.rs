//! The customer rules free of I/O, the same for the server (both backends)
//! and the till: who wins a conflict between a till's edit and the server's
//! change ([`conflict`]), the checks of the fields a till gives and their
//! messages ([`fields`]), and the shape of the codes the server hands out
//! ([`codes`]).

pub mod codes;
pub mod conflict;
pub mod fields;
