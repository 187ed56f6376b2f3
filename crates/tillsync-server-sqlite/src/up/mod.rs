//! The up path on SQLite: the SQL of the ticket, customer and fiscal record steps.

pub mod customers;
pub mod records;
pub mod tickets;
