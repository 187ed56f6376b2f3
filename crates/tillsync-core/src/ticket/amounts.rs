//! The rounding rules of ticket amounts, written once for the till that
//! seals and the server that checks (`docs/tickets.md`, "Amounts"): a line's
//! amount from a quantity in thousandths, the share excluding VAT, the
//! ticket discount spread across VAT rates, and the totals per rate.

use std::collections::BTreeMap;

use crate::ticket::error::TicketError;
use crate::ticket::quantity::MILLI;
use crate::ticket::types::{TicketLine, VatTotal};

/// `num / den` rounded half away from zero (`den > 0`).
fn round_div(num: i128, den: i128) -> i128 {
    let q = (2 * num.abs() + den) / (2 * den);
    if num < 0 { -q } else { q }
}

fn narrow(v: i128) -> Result<i64, TicketError> {
    i64::try_from(v).map_err(|_| TicketError::Overflow)
}

/// Share excluding VAT of an amount including VAT, rounded half away from zero.
pub fn excl(incl: i64, rate_bp: i64) -> Result<i64, TicketError> {
    let den = i128::from(rate_bp) + 10_000;
    if den <= 0 {
        return Err(TicketError::Overflow);
    }
    narrow(round_div(i128::from(incl) * 10_000, den))
}

/// A line's amount before discount: unit price × quantity (in thousandths)
/// / 1000, rounded half away from zero to the cent.
pub fn line_gross(unit_price_cents: i64, quantity_milli: i64) -> Result<i64, TicketError> {
    narrow(round_div(
        i128::from(unit_price_cents) * i128::from(quantity_milli),
        i128::from(MILLI),
    ))
}

/// The ticket discount `discount` spread across `subtotals` (the rates'
/// amounts after line discounts, by ascending rate, all of the discount's
/// sign), in proportion, to the cent: each rate gets the whole cents of its
/// share, and the cents left over go one each to the rates with the
/// largest remainders, the lower rate first on a tie. The shares add up to
/// `discount`; none exceeds its rate's amount when `|discount|` does not
/// exceed their sum.
pub fn spread_discount(discount: i64, subtotals: &[i64]) -> Vec<i64> {
    let amounts: Vec<i128> = subtotals.iter().map(|s| i128::from(*s).abs()).collect();
    let sum: i128 = amounts.iter().sum();
    if discount == 0 || sum == 0 {
        return vec![0; subtotals.len()];
    }
    let d = i128::from(discount).abs();
    let mut shares: Vec<i128> = amounts.iter().map(|a| d * a / sum).collect();
    let mut by_remainder: Vec<(i128, usize)> = amounts
        .iter()
        .enumerate()
        .map(|(i, a)| (d * a % sum, i))
        .collect();
    by_remainder.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
    let left = d - shares.iter().sum::<i128>();
    for (_, i) in by_remainder.iter().take(left as usize) {
        shares[*i] += 1;
    }
    shares
        .into_iter()
        .map(|s| (if discount < 0 { -s } else { s }) as i64)
        .collect()
}

/// The totals per VAT rate (ascending) of the lines in the totals (voided
/// ones left out), the ticket discount spread across them: per rate, total
/// = Σ line totals − its share of the discount; base = total excluding VAT
/// (rounded once, on the rate's total); VAT = total − base.
pub fn vat_totals(lines: &[TicketLine], discount: i64) -> Result<Vec<VatTotal>, TicketError> {
    let mut by_rate: BTreeMap<i64, i64> = BTreeMap::new();
    for l in lines.iter().filter(|l| !l.voided) {
        let t = by_rate.entry(l.vat_rate_bp).or_default();
        *t = t
            .checked_add(l.total_incl_cents)
            .ok_or(TicketError::Overflow)?;
    }
    let subtotals: Vec<i64> = by_rate.values().copied().collect();
    let shares = spread_discount(discount, &subtotals);
    by_rate
        .into_iter()
        .zip(shares)
        .map(|((rate_bp, subtotal), share)| {
            let total = subtotal.checked_sub(share).ok_or(TicketError::Overflow)?;
            let base = excl(total, rate_bp)?;
            Ok(VatTotal {
                rate_bp,
                discount_cents: share,
                base_cents: base,
                vat_cents: total - base,
                total_cents: total,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_round_to_the_cent_half_away_from_zero() {
        // 0.485 kg at 12.99 €/kg = 630.015 cents.
        assert_eq!(line_gross(1299, 485), Ok(630));
        // 0.5 × 1.25 € = 62.5 cents: half away from zero.
        assert_eq!(line_gross(125, 500), Ok(63));
        assert_eq!(line_gross(125, -500), Ok(-63));
        assert_eq!(line_gross(199, 3000), Ok(597));
        assert_eq!(excl(630, 550), Ok(597)); // 597.16
        assert_eq!(excl(-199, 550), Ok(-189)); // -188.63
        assert_eq!(line_gross(i64::MAX, 2000), Err(TicketError::Overflow));
    }

    #[test]
    fn the_ticket_discount_is_spread_in_proportion_largest_remainder_first() {
        // 100 cents over 1/3 and 2/3: 33.33 and 66.67 → 33 and 67.
        assert_eq!(spread_discount(100, &[300, 600]), [33, 67]);
        // Equal remainders: the lower rate (listed first) gets the cent.
        assert_eq!(spread_discount(1, &[100, 100]), [1, 0]);
        assert_eq!(spread_discount(3, &[100, 100, 100]), [1, 1, 1]);
        // The whole ticket.
        assert_eq!(spread_discount(900, &[300, 600]), [300, 600]);
        // A rate at zero takes nothing.
        assert_eq!(spread_discount(50, &[0, 500]), [0, 50]);
        // A correction: negative amounts and discount.
        assert_eq!(spread_discount(-100, &[-300, -600]), [-33, -67]);
        assert_eq!(spread_discount(0, &[1, 2]), [0, 0]);
        for (d, subs) in [(7, vec![5, 5, 5]), (99, vec![33, 33, 34]), (10, vec![3, 7])] {
            let s = spread_discount(d, &subs);
            assert_eq!(s.iter().sum::<i64>(), d);
            assert!(s.iter().zip(&subs).all(|(a, b)| a <= b), "{s:?}");
        }
    }

    fn line(rate: i64, incl: i64, voided: bool) -> TicketLine {
        TicketLine {
            item: "X".into(),
            label: "x".into(),
            quantity_milli: 1000,
            unit_price_cents: incl,
            vat_rate_bp: rate,
            discount_cents: 0,
            voided,
            total_excl_cents: 0,
            total_incl_cents: incl,
        }
    }

    #[test]
    fn vat_totals_leave_voided_lines_out_and_carry_the_discount_share() {
        let lines = [
            line(550, 630, false),
            line(2000, 1250, false),
            line(2000, 999, true),
        ];
        let v = vat_totals(&lines, 100).unwrap();
        // 100 × 630/1880 = 33.51 → 33 (+1 cent: remainder .51 beats .49) = 34;
        // 100 × 1250/1880 = 66.49 → 66.
        assert_eq!(v[0].discount_cents, 34);
        assert_eq!(v[1].discount_cents, 66);
        assert_eq!(v[0].total_cents, 596);
        assert_eq!(v[0].base_cents, 565); // 596 / 1.055 = 564.93
        assert_eq!(v[0].vat_cents, 31);
        assert_eq!(v[1].total_cents, 1184);
        assert_eq!((v[1].base_cents, v[1].vat_cents), (987, 197)); // 986.67
        assert_eq!(
            v.iter().map(|t| t.total_cents).sum::<i64>(),
            630 + 1250 - 100
        );
    }
}
