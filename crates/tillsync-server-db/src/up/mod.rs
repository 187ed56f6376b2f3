//! The up path written once for every backend: the batch loop and the
//! filing of a ticket, over each backend's SQL steps.

pub mod batch;
pub mod tickets;
