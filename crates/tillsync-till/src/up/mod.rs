//! The up path (till -> server): what the till records and queues in its
//! outbox, and the push that delivers it.
//!
//! - [`sell`]: a sale: the ticket numbered, chained, signed and queued in one
//!   transaction, offline included.
//! - [`customers`]: customer create (a call to the server), edit and abandon
//!   (offline, queued).
//! - [`uptables`]: the capture of the up tables the server lists (triggers
//!   queuing `row` items), set after each pull.
//! - [`push`]: the outbox to the web service in batches, each item settled
//!   by the server's answer.
//! - [`resend`]: the tickets the server is missing, queued again from the
//!   till's own tickets (asked after a push, or by hand with `till resend`).

pub mod customers;
pub mod push;
pub mod resend;
pub mod sell;
pub mod uptables;
