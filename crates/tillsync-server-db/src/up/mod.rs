//! The up path written once for every backend: the batch loop, the filing
//! of a ticket and of a fiscal record, and the customer rules, over each backend's SQL steps.

pub mod batch;
pub mod customers;
pub mod records;
pub mod tickets;
