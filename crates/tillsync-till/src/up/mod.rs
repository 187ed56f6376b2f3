//! The up path (till -> server): what the till records and queues in its
//! outbox, and the push that delivers it.
//!
//! - [`sell`]: a sale: the ticket numbered, chained, signed and queued in one
//!   transaction, offline included; training sales apart; idempotency keys.
//! - [`request`]: what a front end asks for (a sale request, its lines and
//!   payments, their JSON).
//! - [`pricing`]: a sale request made a sale: its checks, the lines priced
//!   (corrections as on the original, discounts taken back), the payments.
//! - [`customers`]: customer create (a call to the server), edit and abandon
//!   (offline, queued).
//! - [`uptables`]: the capture of the up tables the server lists (triggers
//!   queuing `row` items), set after each pull.
//! - [`push`]: the outbox to the web service in batches, each item settled
//!   by the server's answer.
//! - [`resend`]: the tickets the server is missing, queued again from the
//!   till's own tickets (asked after a push, or by hand with `till resend`).

pub mod customers;
pub mod pricing;
pub mod push;
pub mod request;
pub mod resend;
pub mod sell;
pub mod uptables;
