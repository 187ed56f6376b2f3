//! A sale before it is a ticket ([`Sale`]), its checks and totals
//! ([`Sale::compute`]: the rules of `docs/tickets.md`, the same for the till
//! that seals and the server that checks), and its sealing
//! ([`Sale::seal`]: numbered, chained, hashed, signed).

use ed25519_dalek::{Signer, SigningKey};

use crate::ticket::amounts::{excl, line_gross, vat_totals};
use crate::ticket::error::TicketError;
use crate::ticket::types::{
    CANONICAL_VERSION, CASH, Payment, PricedItem, Ticket, TicketLine, VatTotal,
    default_payment_methods,
};

/// Longest cashier name.
pub const MAX_CASHIER_LEN: usize = 64;

/// One line of a sale: the item as priced, its quantity, its discount,
/// whether it was voided before payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaleItem {
    /// The item, priced by the till (or as on the ticket a correction takes back).
    pub item: PricedItem,
    /// Quantity in thousandths; negative on a correction.
    pub quantity_milli: i64,
    /// Discount in cents, with the line's sign (0 ≤ d ≤ amount on a sale;
    /// amount ≤ d ≤ 0 on a correction).
    pub discount_cents: i64,
    /// Voided before payment: on the ticket, out of its totals.
    pub voided: bool,
}

impl SaleItem {
    /// `units` whole units of `item`, no discount.
    pub fn units(item: PricedItem, units: i64) -> Self {
        SaleItem {
            item,
            quantity_milli: units.saturating_mul(1000),
            discount_cents: 0,
            voided: false,
        }
    }
}

/// What a ticket holds before it is numbered, chained and signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sale {
    /// The encoding version to seal with ([`CANONICAL_VERSION`] by
    /// default; 1 only for what version 1 can hold).
    pub version: u8,
    /// Lines, in the order rung up.
    pub lines: Vec<SaleItem>,
    /// Discount on the whole ticket, in cents, with the ticket's sign.
    pub discount_cents: i64,
    /// Payments.
    pub payments: Vec<Payment>,
    /// The payment methods allowed (`folder.payment_methods`).
    pub payment_methods: Vec<String>,
    /// Customer.
    pub customer: Option<String>,
    /// Who sold; `None`: the till's own operator.
    pub cashier: Option<String>,
    /// Ticket corrected, if this is a correction (its lines are negative).
    pub corrects: Option<u64>,
    /// A training-mode sale.
    pub training: bool,
}

impl Default for Sale {
    fn default() -> Self {
        Sale {
            version: CANONICAL_VERSION,
            lines: Vec::new(),
            discount_cents: 0,
            payments: Vec::new(),
            payment_methods: default_payment_methods(),
            customer: None,
            cashier: None,
            corrects: None,
            training: false,
        }
    }
}

impl Sale {
    /// Check the sale and compute its lines and totals: the ticket as it
    /// will be sealed, without hash and signature.
    pub fn compute(
        &self,
        till: &str,
        number: u64,
        time: &str,
        prev_hash: &str,
    ) -> Result<Ticket, TicketError> {
        let (lines, vat_totals, total) = self.priced()?;
        let v1 = self.version == 1;
        let too_new = |what: &str| TicketError::Version {
            version: self.version,
            what: what.to_string(),
        };
        if let Some(name) = &self.cashier {
            if v1 {
                return Err(too_new("a cashier"));
            }
            check_cashier(name)?;
        }
        if v1 && self.training {
            return Err(too_new("a training-mode ticket"));
        }
        let change = self.check_payments(total)?;
        if v1 && change != 0 {
            return Err(too_new("change given (pay what is due)"));
        }
        Ok(Ticket {
            version: self.version,
            till: till.to_string(),
            number,
            time: time.to_string(),
            training: self.training,
            cashier: self.cashier.clone(),
            lines,
            discount_cents: self.discount_cents,
            vat_totals,
            total_cents: total,
            payments: self.payments.clone(),
            change_cents: change,
            customer: self.customer.clone(),
            corrects: self.corrects,
            prev_hash: prev_hash.to_string(),
            hash: String::new(),
            signature: String::new(),
        })
    }

    /// What the sale comes to (its lines and discounts checked; payments
    /// not looked at): what a payment without an amount takes.
    pub fn due_cents(&self) -> Result<i64, TicketError> {
        Ok(self.priced()?.2)
    }

    /// The lines, the totals per VAT rate and the total, checked: version,
    /// quantities, discounts, voids.
    fn priced(&self) -> Result<(Vec<TicketLine>, Vec<VatTotal>, i64), TicketError> {
        let v1 = self.version == 1;
        if self.version != 1 && self.version != 2 {
            return Err(TicketError::Version {
                version: self.version,
                what: "anything: this tillsync seals versions 1 and 2".into(),
            });
        }
        let too_new = |what: &str| TicketError::Version {
            version: self.version,
            what: what.to_string(),
        };
        if self.lines.is_empty() {
            return Err(TicketError::Empty);
        }
        if self.lines.iter().all(|l| l.voided) {
            return Err(TicketError::AllVoided);
        }
        let correction = self.corrects.is_some();
        let mut lines = Vec::with_capacity(self.lines.len());
        for (i, l) in self.lines.iter().enumerate() {
            let q = l.quantity_milli;
            let bad = |reason| TicketError::Quantity {
                item: l.item.code.clone(),
                quantity_milli: q,
                reason,
            };
            if q == 0 {
                return Err(bad("it is zero"));
            }
            if !correction && q < 0 {
                return Err(bad("negative quantities belong on a correction ticket"));
            }
            if correction && q > 0 {
                return Err(bad("a correction ticket holds negative quantities"));
            }
            if v1 && q % 1000 != 0 {
                return Err(too_new("a quantity with decimals"));
            }
            if v1 && (l.discount_cents != 0 || l.voided) {
                return Err(too_new("line discounts or voided lines"));
            }
            let gross = line_gross(l.item.price_cents, q)?;
            let d = l.discount_cents;
            let bad_discount = |reason: String| TicketError::LineDiscount {
                line: i + 1,
                item: l.item.code.clone(),
                discount: d,
                reason,
            };
            if !correction && d < 0 {
                return Err(bad_discount("a discount cannot be negative".into()));
            }
            if correction && d > 0 {
                return Err(bad_discount(
                    "a correction takes back discounts as negative amounts".into(),
                ));
            }
            if d.unsigned_abs() > gross.unsigned_abs() {
                return Err(bad_discount(format!(
                    "it is above the line's amount of {gross} cents"
                )));
            }
            let incl = gross - d;
            lines.push(TicketLine {
                item: l.item.code.clone(),
                label: l.item.label.clone(),
                quantity_milli: q,
                unit_price_cents: l.item.price_cents,
                vat_rate_bp: l.item.vat_rate_bp,
                discount_cents: d,
                voided: l.voided,
                total_excl_cents: excl(incl, l.item.vat_rate_bp)?,
                total_incl_cents: incl,
            });
        }
        let before_discount = lines
            .iter()
            .filter(|l| !l.voided)
            .try_fold(0i64, |a, l| a.checked_add(l.total_incl_cents))
            .ok_or(TicketError::Overflow)?;
        let d = self.discount_cents;
        let bad_discount = |reason: String| TicketError::TicketDiscount {
            discount: d,
            reason,
        };
        if v1 && d != 0 {
            return Err(too_new("a ticket discount"));
        }
        if !correction && d < 0 {
            return Err(bad_discount("a discount cannot be negative".into()));
        }
        if correction && d > 0 {
            return Err(bad_discount(
                "a correction takes back a discount as a negative amount".into(),
            ));
        }
        if d.unsigned_abs() > before_discount.unsigned_abs() {
            return Err(bad_discount(format!(
                "it is above the ticket's amount of {before_discount} cents"
            )));
        }
        let vat_totals = vat_totals(&lines, d)?;
        let total: i64 = vat_totals.iter().map(|v| v.total_cents).sum();
        Ok((lines, vat_totals, total))
    }

    /// The payments checked against `total`: methods allowed, amounts of
    /// the right sign, a sale covered (cash alone may exceed what is due)
    /// and a correction refunded exactly. Returns the change given.
    fn check_payments(&self, total: i64) -> Result<i64, TicketError> {
        let correction = self.corrects.is_some();
        let mut paid: i64 = 0;
        let mut cash: i64 = 0;
        for p in &self.payments {
            let bad = |reason| TicketError::Payment {
                method: p.method.clone(),
                amount: p.amount_cents,
                reason,
            };
            if p.method.trim().is_empty() {
                return Err(bad("the method is empty"));
            }
            if !self.payment_methods.contains(&p.method) {
                return Err(TicketError::Method {
                    method: p.method.clone(),
                    allowed: self.payment_methods.join(", "),
                });
            }
            if !correction && p.amount_cents <= 0 {
                return Err(bad("the amount must be positive"));
            }
            if correction && p.amount_cents >= 0 {
                return Err(bad("a refund is a negative amount"));
            }
            paid = paid
                .checked_add(p.amount_cents)
                .ok_or(TicketError::Overflow)?;
            if p.method == CASH {
                cash += p.amount_cents;
            }
        }
        if correction {
            if paid != total {
                return Err(TicketError::Refund { paid, total });
            }
            return Ok(0);
        }
        if paid < total {
            return Err(TicketError::Underpaid { paid, total });
        }
        let non_cash = paid - cash;
        if non_cash > total {
            return Err(TicketError::ChangeNotCash { non_cash, total });
        }
        Ok(paid - total)
    }

    /// Compute the sale, then number it `number`, chain it to `prev_hash`
    /// and sign it with the till's key.
    pub fn seal(
        &self,
        till: &str,
        number: u64,
        time: &str,
        prev_hash: &str,
        key: &SigningKey,
    ) -> Result<Ticket, TicketError> {
        let mut t = self.compute(till, number, time, prev_hash)?;
        let digest = t.digest();
        t.hash = hex::encode(digest);
        t.signature = hex::encode(key.sign(&digest).to_bytes());
        Ok(t)
    }
}

/// A cashier name: not empty, no control characters, at most
/// [`MAX_CASHIER_LEN`] characters.
pub fn check_cashier(name: &str) -> Result<(), TicketError> {
    let bad = |reason| TicketError::Cashier {
        name: name.to_string(),
        reason,
    };
    if name.trim().is_empty() {
        return Err(bad("it is empty"));
    }
    if name.trim() != name {
        return Err(bad("it starts or ends with spaces"));
    }
    if name.chars().any(char::is_control) {
        return Err(bad("it holds control characters"));
    }
    if name.chars().count() > MAX_CASHIER_LEN {
        return Err(bad("it is longer than 64 characters"));
    }
    Ok(())
}
