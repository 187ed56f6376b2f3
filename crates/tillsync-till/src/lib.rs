//! The till agent: installation from a deployment package, the importer
//! that loads packages (the seed's "load the data" and "load the
//! modifications"), sales and customer changes queued in the outbox, the
//! synchroniser and the cashier page.
//!
//! # Layout
//! - [`error`]: [`TillError`], the errors of every till command.
//! - [`files`]: the file names of a till's data directory ([`DB_FILE`], the key history).
//! - [`install`]: `till init` from a deployment package (the till's key made, then enrolled).
//! - [`enrol`]: the till's key on the server: enrolment, rotation, its key history kept.
//! - [`client`]: the web service client (ping, available packages, outbox, customers, keys).
//! - [`down`]: the down path, server -> till: [`down::pull`] (`till sync`'s
//!   pull: plan, download, apply) over `down::fetch` (index and packages
//!   from the package store, verified).
//! - [`up`]: the up path, till -> server: [`up::sell`] (a sale numbered,
//!   chained, signed, queued, offline included; training apart; idempotency
//!   keys), [`up::request`] (what a front end asks for), [`up::pricing`] (a
//!   request priced and checked), [`up::customers`] (create
//!   through the server, edit and abandon offline), [`up::uptables`] (capture
//!   of the up tables the server lists, after each pull), [`up::push`] (the
//!   outbox to the web service, in batches).
//! - [`fiscal`]: the event log written as things happen ([`fiscal::jet`]) and
//!   closings by hand or when due ([`fiscal::close`]), archives ([`fiscal::archive`]), the
//!   database verified ([`fiscal::verify`]).
//! - [`receipt`]: receipts of the till's tickets (text, ESC/POS, the model
//!   the cashier page shows), their signed QR code, duplicates.
//! - [`link`]: the connection state the synchroniser sets and the cashier page shows.
//! - [`agent`]: `till run`, the synchroniser: push and pull loops until shutdown.
//! - [`status`]: `till status`: connection, versions, outbox, error list, journal.
//! - [`cashier`]: the cashier page `till run` serves on loopback (sell,
//!   customers, status): [`cashier::serve`] (listen, thread, stop),
//!   [`cashier::router`] (routes behind the `Host`/headers guard),
//!   [`cashier::state`] (what the handlers share), one handler file per page
//!   (sale, pay, receipt, customers, status, assets) and `cashier::pages` (the
//!   HTML, one file per page).
//! - `test_support` (tests only): a fake web service, a till with one item, a sale.

pub mod agent;
pub mod cashier;
pub mod client;
pub mod down;
pub mod enrol;
pub mod error;
pub mod files;
pub mod fiscal;
pub mod install;
pub mod link;
pub mod receipt;
pub mod status;
#[cfg(test)]
mod test_support;
pub mod up;

// For other crates: the error and the database file name at the crate root.
pub use error::TillError;
pub use files::DB_FILE;
