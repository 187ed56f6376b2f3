//! What a cashier front end asks for: a sale request ([`SaleRequest`]), its
//! lines and payments, and their JSON (quantities as whole units, decimals
//! or thousandths). A leaf: it imports nothing of the crate.

use serde::{Deserialize, Serialize};
use tillsync_core::ticket::parse_quantity;

/// One line asked for: an item code, a quantity in thousandths (negative
/// on a correction), a discount, whether it was voided.
///
/// In JSON the quantity is `quantity_milli` (thousandths), or `quantity`:
/// whole units (`2`), a decimal number (`0.485`) or a decimal text
/// (`"0,485"`), at most three decimals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "SaleLineJson")]
pub struct SaleLine {
    /// Item code (`ART.code`).
    pub item: String,
    /// Quantity in thousandths (`485` = 0.485 kg, `2000` = 2 units).
    pub quantity_milli: i64,
    /// Discount on this line, in cents (at most the line's amount).
    #[serde(default)]
    pub discount_cents: i64,
    /// Voided before payment: printed, out of the totals.
    #[serde(default)]
    pub voided: bool,
}

impl SaleLine {
    /// `units` whole units of `item`, no discount.
    pub fn units(item: &str, units: i64) -> Self {
        SaleLine {
            item: item.to_string(),
            quantity_milli: units.saturating_mul(1000),
            discount_cents: 0,
            voided: false,
        }
    }
}

/// A quantity as a front end may send it.
#[derive(Deserialize)]
#[serde(untagged)]
enum QuantityJson {
    Whole(i64),
    Decimal(f64),
    Text(String),
}

#[derive(Deserialize)]
struct SaleLineJson {
    item: String,
    #[serde(default)]
    quantity: Option<QuantityJson>,
    #[serde(default)]
    quantity_milli: Option<i64>,
    #[serde(default)]
    discount_cents: i64,
    #[serde(default)]
    voided: bool,
}

impl TryFrom<SaleLineJson> for SaleLine {
    type Error = String;
    fn try_from(l: SaleLineJson) -> Result<Self, String> {
        let text = |t: &str| {
            parse_quantity(t).map_err(|reason| {
                format!(
                    "item {}: {}",
                    l.item,
                    tillsync_core::ticket::TicketError::QuantityText {
                        input: t.to_string(),
                        reason
                    }
                )
            })
        };
        let quantity_milli = match (l.quantity, l.quantity_milli) {
            (None, Some(m)) => m,
            (Some(QuantityJson::Whole(u)), None) => u
                .checked_mul(1000)
                .ok_or_else(|| format!("item {}: quantity {u} is too large", l.item))?,
            // The shortest text that reads back as the number: 0.485 is "0.485".
            (Some(QuantityJson::Decimal(f)), None) => text(&f.to_string())?,
            (Some(QuantityJson::Text(t)), None) => text(&t)?,
            (None, None) => return Err(format!("item {}: no quantity", l.item)),
            (Some(_), Some(_)) => {
                return Err(format!(
                    "item {}: give quantity or quantity_milli, not both",
                    l.item
                ));
            }
        };
        Ok(SaleLine {
            item: l.item,
            quantity_milli,
            discount_cents: l.discount_cents,
            voided: l.voided,
        })
    }
}

/// One payment asked for; without an amount it takes what is left to pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalePayment {
    /// Method, one of the till's `folder.payment_methods` (`cash`, `card`…).
    pub method: String,
    /// Amount in cents; `None`: the rest of the total (at most one payment).
    #[serde(default)]
    pub amount_cents: Option<i64>,
}

/// A sale as a cashier rings it up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleRequest {
    /// Lines, in the order rung up (voided ones included).
    pub lines: Vec<SaleLine>,
    /// Discount on the whole ticket, in cents (spread across VAT rates).
    #[serde(default)]
    pub discount_cents: i64,
    /// Payments; cash may exceed what is due (the change is recorded).
    #[serde(default)]
    pub payments: Vec<SalePayment>,
    /// Customer code (must be in the till's `CLI`).
    #[serde(default)]
    pub customer: Option<String>,
    /// Who sells; `None`: the till's own operator.
    #[serde(default)]
    pub cashier: Option<String>,
    /// Number of the ticket this sale corrects (of the same chain): its
    /// lines are negative and priced as on that ticket, its discounts taken
    /// back in proportion.
    #[serde(default)]
    pub corrects: Option<u64>,
    /// A training-mode sale ("mode école"): numbered and chained apart,
    /// never in fiscal totals.
    #[serde(default)]
    pub training: bool,
    /// An idempotency key: the same key retried with the same sale gives
    /// back the same ticket, never a second one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}
