//! Why a sale is refused ([`TicketError`], in words a cashier reads) and why
//! a received ticket does not verify ([`ChainError`]).

use crate::ticket::quantity::format_quantity;

/// Why a sale was refused (nothing is recorded).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    /// No lines.
    #[error("a ticket needs at least one line")]
    Empty,
    /// Every line is voided.
    #[error("every line of the ticket is voided: there is nothing to sell")]
    AllVoided,
    /// A typed quantity is not a number of thousandths.
    #[error("quantity {input:?} is not valid: {reason}")]
    QuantityText {
        /// What was typed.
        input: String,
        /// Why.
        reason: &'static str,
    },
    /// Zero quantity, or negative outside a correction.
    #[error("quantity {} for item {item} is not allowed: {reason}", format_quantity(*.quantity_milli))]
    Quantity {
        /// Item.
        item: String,
        /// Quantity given, in thousandths.
        quantity_milli: i64,
        /// Why.
        reason: &'static str,
    },
    /// A line discount is negative, or above the line's amount.
    #[error("discount of {discount} cents on line {line} (item {item}) is not allowed: {reason}")]
    LineDiscount {
        /// Line number, from 1.
        line: usize,
        /// Item.
        item: String,
        /// Discount given.
        discount: i64,
        /// Why (names the line's amount).
        reason: String,
    },
    /// The ticket discount is negative, or above the ticket.
    #[error("ticket discount of {discount} cents is not allowed: {reason}")]
    TicketDiscount {
        /// Discount given.
        discount: i64,
        /// Why (names the ticket's amount).
        reason: String,
    },
    /// Payments do not cover the total.
    #[error("payments of {paid} cents do not cover the total of {total} cents")]
    Underpaid {
        /// Sum of payments.
        paid: i64,
        /// Ticket total.
        total: i64,
    },
    /// Payments other than cash exceed the total: only cash gives change.
    #[error(
        "payments other than cash come to {non_cash} cents, more than the total of {total} cents: only cash may exceed what is due (the till gives change)"
    )]
    ChangeNotCash {
        /// Sum of the payments that are not cash.
        non_cash: i64,
        /// Ticket total.
        total: i64,
    },
    /// A correction's refunds do not equal its total.
    #[error("refunds of {paid} cents do not equal the correction's total of {total} cents")]
    Refund {
        /// Sum of refunds.
        paid: i64,
        /// Ticket total.
        total: i64,
    },
    /// A payment method that is not in `folder.payment_methods`.
    #[error("payment method {method:?} is not allowed: the allowed ones are {allowed}")]
    Method {
        /// Method given.
        method: String,
        /// The allowed methods, comma-separated.
        allowed: String,
    },
    /// A payment is not valid.
    #[error("payment {method:?} of {amount} cents is not valid: {reason}")]
    Payment {
        /// Method.
        method: String,
        /// Amount.
        amount: i64,
        /// Why.
        reason: &'static str,
    },
    /// The cashier's name is not usable.
    #[error("cashier name {name:?} is not valid: {reason}")]
    Cashier {
        /// Name given.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// Something this version of the encoding cannot hold.
    #[error("version {version} of the ticket encoding cannot hold {what}")]
    Version {
        /// The version asked for.
        version: u8,
        /// What it cannot hold.
        what: String,
    },
    /// An amount overflows.
    #[error("amounts are too large")]
    Overflow,
}

/// Why a received ticket does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// The content does not hash to `hash`: altered.
    #[error("ticket {till}/{number}: its content does not match its hash (altered)")]
    Hash {
        /// Till.
        till: String,
        /// Number.
        number: u64,
    },
    /// The ticket names an encoding version it cannot be in (a version it
    /// does not know, or version-2 content on a version-1 ticket).
    #[error("ticket {till}/{number}: {reason}")]
    Version {
        /// Till.
        till: String,
        /// Number.
        number: u64,
        /// Why.
        reason: String,
    },
    /// The signature is not the till's.
    #[error("ticket {till}/{number}: the signature is not this till's")]
    Signature {
        /// Till.
        till: String,
        /// Number.
        number: u64,
    },
    /// `prev_hash` is not the previous ticket's hash.
    #[error("ticket {till}/{number}: chain broken (previous hash {got}, expected {expected})")]
    Link {
        /// Till.
        till: String,
        /// Number.
        number: u64,
        /// `prev_hash` found.
        got: String,
        /// Hash of the previous ticket.
        expected: String,
    },
}
