//! Receipts: a ticket with its store's identity, the zone of the till and
//! the language, as a French receipt must show it (`docs/receipts.md`),
//! printed only when the customer asks (AGEC law): plain text 42 columns,
//! ESC/POS bytes for a receipt printer, and the 80 mm HTML of the cashier
//! page (`cashier::pages::receipt`). Every receipt carries a QR code whose
//! payload the till signs (`tillsync_core::fiscal::receipt`); a duplicate
//! is marked with its reprint number and logged in the event log.
//!
//! # Layout
//! - [`format`]: money, VAT rates, SIRET groups, payment method labels.
//! - [`model`]: [`model::Receipt`], built from a ticket, and its words in each language.
//! - [`layout`]: the receipt in 42 columns, line by line with styles, and the QR's place.
//! - [`text`]: plain text (the QR in Unicode half blocks when asked).
//! - [`escpos`]: ESC/POS bytes (PC858, styles, the printer's own QR, cut).
//! - [`qr`]: the QR code drawn in half blocks or SVG.
//! - [`print`]: receipts and duplicates of a till's tickets (`till receipt`, `till reprint`).

pub mod escpos;
pub mod format;
pub mod layout;
pub mod model;
pub mod print;
pub mod qr;
pub mod text;

#[cfg(test)]
mod tests;
