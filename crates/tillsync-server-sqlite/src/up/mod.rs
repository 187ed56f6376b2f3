//! The up path on SQLite: the SQL of the ticket and customer steps.

pub mod customers;
pub mod tickets;
