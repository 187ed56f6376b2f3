//! Tickets as fiscal records: totals computed from the till's prices, a
//! canonical encoding per version, the hash chain per till (fiscal and
//! training apart) and the Ed25519 signature made at the moment of sale
//! (see `docs/tickets.md`).
//!
//! # Layout
//! - [`types`]: [`Ticket`] and its lines, VAT totals and payments, their
//!   JSON (version 1 still reads), the constants, the helpers closings use
//!   ([`Ticket::is_training`], [`Ticket::net_payments`], [`Ticket::cash_kept_cents`]).
//! - [`quantity`]: quantities in thousandths, read and written (a leaf).
//! - [`amounts`]: the rounding rules (weights, VAT share, the ticket
//!   discount spread across rates).
//! - [`error`]: [`TicketError`] (a sale refused) and [`ChainError`] (a ticket that does not verify).
//! - [`seal`]: [`Sale`]: its checks, totals and sealing.
//! - [`encoding`]: the canonical encoding of versions 1 and 2, digest, verification.
//! - [`content`]: the server's content check of a version-2 ticket.
//!
//! The re-exports below keep `tillsync_core::ticket::…` paths short for
//! other crates; inside this module, items are imported from their file.

pub mod amounts;
pub mod content;
pub mod encoding;
pub mod error;
pub mod quantity;
pub mod seal;
pub mod types;

pub use error::{ChainError, TicketError};
pub use quantity::{format_quantity, parse_quantity};
pub use seal::{Sale, SaleItem, check_cashier};
pub use types::{
    CANONICAL_VERSION, CASH, DEFAULT_PAYMENT_METHODS, GENESIS_HASH, Payment, PricedItem, Ticket,
    TicketLine, VatTotal, default_payment_methods,
};

#[cfg(test)]
mod tests;
