//! The content check of a received version-2 ticket, for the server: the
//! sale it records is computed again by the till's own rules
//! ([`Sale::compute`]) and must give the very figures the till sent
//! (quantities, discounts, line and VAT totals, change), with payment
//! methods from the folder's list. A till that lies about its totals is
//! caught even though its signature holds.

use crate::ticket::seal::{Sale, SaleItem};
use crate::ticket::types::{PricedItem, Ticket};

impl Ticket {
    /// The sale this ticket records, as the till would have been asked it.
    fn as_sale(&self, payment_methods: &[String]) -> Sale {
        Sale {
            version: self.version,
            lines: self
                .lines
                .iter()
                .map(|l| SaleItem {
                    item: PricedItem {
                        code: l.item.clone(),
                        label: l.label.clone(),
                        price_cents: l.unit_price_cents,
                        vat_rate_bp: l.vat_rate_bp,
                    },
                    quantity_milli: l.quantity_milli,
                    discount_cents: l.discount_cents,
                    voided: l.voided,
                })
                .collect(),
            discount_cents: self.discount_cents,
            payments: self.payments.clone(),
            payment_methods: payment_methods.to_vec(),
            customer: self.customer.clone(),
            cashier: self.cashier.clone(),
            corrects: self.corrects,
            training: self.training,
        }
    }

    /// Check a version-2 ticket's content by the sale rules: `Err` names
    /// the first figure that is not what the rules give, or the rule the
    /// sale breaks. Version-1 tickets (made before these rules) are not
    /// checked here: their hash, signature and chain are.
    pub fn check_content(&self, payment_methods: &[String]) -> Result<(), String> {
        if self.version < 2 {
            return Ok(());
        }
        let who = format!("ticket {}/{}", self.till, self.number);
        let want = self
            .as_sale(payment_methods)
            .compute(&self.till, self.number, &self.time, &self.prev_hash)
            .map_err(|e| format!("{who}: {e}"))?;
        let differ = |what: String, got: i64, rule: i64| {
            Err(format!(
                "{who}: {what} is {got}, but the sale rules give {rule} (content check)"
            ))
        };
        for (i, (got, rule)) in self.lines.iter().zip(&want.lines).enumerate() {
            for (field, g, r) in [
                (
                    "total_excl_cents",
                    got.total_excl_cents,
                    rule.total_excl_cents,
                ),
                (
                    "total_incl_cents",
                    got.total_incl_cents,
                    rule.total_incl_cents,
                ),
            ] {
                if g != r {
                    return differ(format!("line {} {field}", i + 1), g, r);
                }
            }
        }
        if self.vat_totals.len() != want.vat_totals.len() {
            return differ(
                "the number of VAT totals".into(),
                self.vat_totals.len() as i64,
                want.vat_totals.len() as i64,
            );
        }
        for (got, rule) in self.vat_totals.iter().zip(&want.vat_totals) {
            for (field, g, r) in [
                ("rate_bp", got.rate_bp, rule.rate_bp),
                ("discount_cents", got.discount_cents, rule.discount_cents),
                ("base_cents", got.base_cents, rule.base_cents),
                ("vat_cents", got.vat_cents, rule.vat_cents),
                ("total_cents", got.total_cents, rule.total_cents),
            ] {
                if g != r {
                    return differ(format!("VAT total of rate {} {field}", rule.rate_bp), g, r);
                }
            }
        }
        if self.total_cents != want.total_cents {
            return differ("total_cents".into(), self.total_cents, want.total_cents);
        }
        if self.change_cents != want.change_cents {
            return differ("change_cents".into(), self.change_cents, want.change_cents);
        }
        Ok(())
    }
}
