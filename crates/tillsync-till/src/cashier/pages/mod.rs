//! The HTML of the cashier page, in French or English, one file per page.
//! Element ids and classes are a contract with the browser tests
//! (docs/cashier-page.md).
//!
//! - `format`: the signature a receipt prints, the payment methods offered.
//! - `layout`: the frame every page shares (header bar, connection indicator,
//!   outbox count), the flash message, the CSRF field; the message-only page.
//! - `sale`: the sale page (search, ticket, payment).
//! - `receipt`: the receipt of a recorded ticket (80 mm, print on request, duplicates).
//! - `tickets`: the recent tickets, with a duplicate button each.
//! - `login`: the cashiers' PIN login.
//! - `customers`: the customers page (create, edit, abandon).
//! - `assets`: the style sheet and the small script.

pub(crate) mod assets;
pub(crate) mod customers;
pub(crate) mod format;
pub(crate) mod layout;
pub(crate) mod login;
pub(crate) mod receipt;
pub(crate) mod sale;
pub(crate) mod tickets;
