//! The ticket as recorded ([`Ticket`], its lines, VAT totals and payments),
//! its JSON form (version-1 JSON still reads), the constants of the
//! encoding, and the small questions other parts ask of a ticket (training
//! or fiscal, what was kept per payment method after change).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ticket::quantity::{MILLI, format_quantity};

/// `prev_hash` of a chain's first ticket: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The version of the canonical encoding new tickets are sealed with
/// (each ticket carries its own, in [`Ticket::version`]; version 1 still
/// verifies).
pub const CANONICAL_VERSION: u8 = 2;

/// The payment method that may exceed what is due (the till gives change).
pub const CASH: &str = "cash";

/// `folder.payment_methods` when the configuration names none.
pub const DEFAULT_PAYMENT_METHODS: [&str; 4] = ["cash", "card", "cheque", "voucher"];

/// [`DEFAULT_PAYMENT_METHODS`] as owned strings.
pub fn default_payment_methods() -> Vec<String> {
    DEFAULT_PAYMENT_METHODS.map(String::from).to_vec()
}

fn version_1() -> u8 {
    1
}

/// One line of a ticket. Prices include VAT (French retail prices, TTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "LineJson")]
pub struct TicketLine {
    /// Item code (`ART.code`).
    pub item: String,
    /// Item label at the time of sale.
    pub label: String,
    /// Quantity in thousandths (`485` is 0.485 kg); negative on a
    /// correction ticket. Version-1 JSON gives `quantity` in whole units.
    pub quantity_milli: i64,
    /// Unit price including VAT, in cents.
    pub unit_price_cents: i64,
    /// VAT rate in basis points (2000 = 20 %).
    pub vat_rate_bp: i64,
    /// Discount on this line, in cents, with the line's sign (version 2).
    #[serde(default)]
    pub discount_cents: i64,
    /// Voided before payment: kept on the ticket, out of its totals (version 2).
    #[serde(default)]
    pub voided: bool,
    /// Line total excluding VAT, in cents.
    pub total_excl_cents: i64,
    /// Line total including VAT, in cents (after the line's discount).
    pub total_incl_cents: i64,
}

/// A line as JSON: version 2 writes `quantity_milli`, version 1 wrote
/// `quantity` in whole units; either reads.
#[derive(Deserialize)]
struct LineJson {
    item: String,
    label: String,
    #[serde(default)]
    quantity: Option<i64>,
    #[serde(default)]
    quantity_milli: Option<i64>,
    unit_price_cents: i64,
    vat_rate_bp: i64,
    #[serde(default)]
    discount_cents: i64,
    #[serde(default)]
    voided: bool,
    total_excl_cents: i64,
    total_incl_cents: i64,
}

impl TryFrom<LineJson> for TicketLine {
    type Error = String;
    fn try_from(l: LineJson) -> Result<Self, String> {
        let quantity_milli = match (l.quantity, l.quantity_milli) {
            (None, Some(m)) => m,
            (Some(units), None) => units
                .checked_mul(MILLI)
                .ok_or_else(|| format!("line of item {}: quantity {units} is too large", l.item))?,
            (None, None) => return Err(format!("line of item {}: no quantity", l.item)),
            (Some(_), Some(_)) => {
                return Err(format!(
                    "line of item {}: give quantity (version 1) or quantity_milli, not both",
                    l.item
                ));
            }
        };
        Ok(TicketLine {
            item: l.item,
            label: l.label,
            quantity_milli,
            unit_price_cents: l.unit_price_cents,
            vat_rate_bp: l.vat_rate_bp,
            discount_cents: l.discount_cents,
            voided: l.voided,
            total_excl_cents: l.total_excl_cents,
            total_incl_cents: l.total_incl_cents,
        })
    }
}

impl TicketLine {
    /// The quantity as a person reads it (`3`, `0.485`).
    pub fn quantity_text(&self) -> String {
        format_quantity(self.quantity_milli)
    }

    /// The line's amount before its discount (unit price × quantity, rounded).
    pub fn gross_cents(&self) -> i64 {
        self.total_incl_cents.saturating_add(self.discount_cents)
    }
}

/// Totals of one VAT rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VatTotal {
    /// Rate in basis points.
    pub rate_bp: i64,
    /// The share of the ticket discount this rate carries, in cents
    /// (version 2; already taken off `total_cents`).
    #[serde(default)]
    pub discount_cents: i64,
    /// Total excluding VAT.
    pub base_cents: i64,
    /// VAT amount.
    pub vat_cents: i64,
    /// Total including VAT.
    pub total_cents: i64,
}

/// One payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// Method, one of `folder.payment_methods` (`cash`, `card`, `cheque`, `voucher`…).
    pub method: String,
    /// Amount in cents (what the customer handed over, change included for cash).
    pub amount_cents: i64,
}

/// A sale as recorded: numbered, chained and signed by its till.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    /// Version of the canonical encoding this ticket is sealed with (1 when
    /// the JSON has none: tickets made before version 2).
    #[serde(default = "version_1")]
    pub version: u8,
    /// Till id.
    pub till: String,
    /// Gap-free number per till and chain (fiscal or training), from 1.
    pub number: u64,
    /// Date-time of the sale (RFC 3339, UTC).
    pub time: String,
    /// A training-mode ticket ("mode école", version 2): numbered and
    /// chained apart, never in fiscal totals.
    #[serde(default)]
    pub training: bool,
    /// Who sold (version 2); `None`: the till's own operator.
    #[serde(default)]
    pub cashier: Option<String>,
    /// Lines in the order rung up (voided ones included).
    pub lines: Vec<TicketLine>,
    /// Discount on the whole ticket, in cents, with the ticket's sign (version 2).
    #[serde(default)]
    pub discount_cents: i64,
    /// Totals per VAT rate, by ascending rate.
    pub vat_totals: Vec<VatTotal>,
    /// Ticket total including VAT.
    pub total_cents: i64,
    /// Payments.
    pub payments: Vec<Payment>,
    /// Change given back in cash, in cents (version 2).
    #[serde(default)]
    pub change_cents: i64,
    /// Customer code, if any.
    pub customer: Option<String>,
    /// Number of the ticket this one corrects (negative lines), if any.
    pub corrects: Option<u64>,
    /// Hash of the previous ticket of this chain ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// SHA-256 (hex) of this ticket's canonical encoding.
    pub hash: String,
    /// Ed25519 signature (hex) of `hash`'s 32 bytes, by the till's key.
    pub signature: String,
}

impl Ticket {
    /// A training-mode ticket: out of every fiscal total.
    pub fn is_training(&self) -> bool {
        self.training
    }

    /// A correction ticket (it names the ticket it corrects).
    pub fn is_correction(&self) -> bool {
        self.corrects.is_some()
    }

    /// The lines in the totals (not voided).
    pub fn active_lines(&self) -> impl Iterator<Item = &TicketLine> {
        self.lines.iter().filter(|l| !l.voided)
    }

    /// Sum of the payments as handed over (change included).
    pub fn paid_cents(&self) -> i64 {
        self.payments.iter().map(|p| p.amount_cents).sum()
    }

    /// The cash the till kept: cash handed over less the change given.
    pub fn cash_kept_cents(&self) -> i64 {
        self.payments
            .iter()
            .filter(|p| p.method == CASH)
            .map(|p| p.amount_cents)
            .sum::<i64>()
            - self.change_cents
    }

    /// What the till kept per payment method, change taken off cash: the
    /// amounts a closing totals per method (they add up to `total_cents`).
    pub fn net_payments(&self) -> BTreeMap<String, i64> {
        let mut by: BTreeMap<String, i64> = BTreeMap::new();
        for p in &self.payments {
            *by.entry(p.method.clone()).or_default() += p.amount_cents;
        }
        if self.change_cents != 0 {
            *by.entry(CASH.to_string()).or_default() -= self.change_cents;
        }
        by
    }

    /// All discounts of the ticket (lines in the totals, and the ticket's own).
    pub fn discounts_cents(&self) -> i64 {
        self.active_lines().map(|l| l.discount_cents).sum::<i64>() + self.discount_cents
    }
}

/// An item as priced by the till's local `ART`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedItem {
    /// Item code.
    pub code: String,
    /// Label.
    pub label: String,
    /// Unit price including VAT, cents.
    pub price_cents: i64,
    /// VAT rate, basis points.
    pub vat_rate_bp: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_1_json_reads_with_whole_quantities() {
        let l: TicketLine = serde_json::from_str(
            r#"{"item":"A","label":"a","quantity":3,"unit_price_cents":199,
                "vat_rate_bp":550,"total_excl_cents":566,"total_incl_cents":597}"#,
        )
        .unwrap();
        assert_eq!(
            (l.quantity_milli, l.discount_cents, l.voided),
            (3000, 0, false)
        );
        let back: TicketLine = serde_json::from_str(&serde_json::to_string(&l).unwrap()).unwrap();
        assert_eq!(back, l);
        for (json, needle) in [
            (r#""quantity":1,"quantity_milli":1000,"#, "not both"),
            ("", "no quantity"),
            (r#""quantity":9223372036854775807,"#, "too large"),
        ] {
            let text = format!(
                r#"{{"item":"A","label":"a",{json}"unit_price_cents":1,"vat_rate_bp":0,
                    "total_excl_cents":1,"total_incl_cents":1}}"#
            );
            let e = serde_json::from_str::<TicketLine>(&text).unwrap_err();
            assert!(e.to_string().contains(needle), "{json}: {e}");
        }
    }

    #[test]
    fn payments_net_of_change() {
        let t = Ticket {
            version: 2,
            till: "T".into(),
            number: 1,
            time: "t".into(),
            training: false,
            cashier: None,
            lines: vec![],
            discount_cents: 0,
            vat_totals: vec![],
            total_cents: 309,
            payments: vec![
                Payment {
                    method: "card".into(),
                    amount_cents: 100,
                },
                Payment {
                    method: CASH.into(),
                    amount_cents: 500,
                },
            ],
            change_cents: 291,
            customer: None,
            corrects: None,
            prev_hash: GENESIS_HASH.into(),
            hash: String::new(),
            signature: String::new(),
        };
        assert_eq!(t.paid_cents(), 600);
        assert_eq!(t.cash_kept_cents(), 209);
        let net = t.net_payments();
        assert_eq!(net["cash"] + net["card"], t.total_cents);
        assert_eq!((net["cash"], net["card"]), (209, 100));
    }
}
