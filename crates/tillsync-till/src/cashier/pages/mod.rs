//! The HTML of the cashier page, in French or English, one file per page.
//! Element ids and classes are a contract with the browser tests
//! (docs/cashier-page.md).
//!
//! - `format`: money, VAT rates, the signature a receipt prints, payment methods.
//! - `layout`: the frame every page shares (header bar, connection indicator,
//!   outbox count), the flash message, the CSRF field; the message-only page.
//! - `sale`: the sale page (search, ticket, payment).
//! - `receipt`: the receipt of a recorded ticket.
//! - `customers`: the customers page (create, edit, abandon).
//! - `assets`: the style sheet and the small script.

pub(crate) mod assets;
pub(crate) mod customers;
pub(crate) mod format;
pub(crate) mod layout;
pub(crate) mod receipt;
pub(crate) mod sale;
