//! `tillsync till sell`: its arguments (items with decimal quantities,
//! discounts, voids, payments, cashier, training mode, idempotency key),
//! read into a sale request, and the ticket printed.

use anyhow::{Result, anyhow, bail};
use clap::Args;
use tillsync_core::ticket::{TicketError, parse_quantity};
use tillsync_output::Out;
use tillsync_till::up::sell;

use crate::cmd::common::TillDataArg;

/// Record a sale (works offline); prints the ticket number (the whole ticket with --json).
#[derive(Args)]
pub struct SellArgs {
    #[command(flatten)]
    pub data: TillDataArg,
    /// An item and its quantity, CODE or CODExQTY: ART0000001x3, or a
    /// weight with up to three decimals, ART0000001x0.485 (also `*`); repeat
    /// for more lines.
    #[arg(long = "item", value_name = "CODE[xQTY]")]
    pub items: Vec<String>,
    /// A discount on line N (from 1) of --item, in cents: 2:150; repeat for more.
    #[arg(long = "line-discount", value_name = "N:CENTS")]
    pub line_discounts: Vec<String>,
    /// Line N (from 1) of --item was voided before payment: printed, out of the totals.
    #[arg(long = "void", value_name = "N")]
    pub voids: Vec<usize>,
    /// A discount on the whole ticket, in cents (spread across the VAT rates).
    #[arg(long, value_name = "CENTS", default_value_t = 0)]
    pub discount: i64,
    /// A payment, METHOD or METHOD:CENTS; the one without cents takes what
    /// is left to pay; cash may exceed the total (the change is recorded).
    #[arg(long = "payment", value_name = "METHOD[:CENTS]")]
    pub payments: Vec<String>,
    /// The customer's code (in the till's CLI table).
    #[arg(long)]
    pub customer: Option<String>,
    /// Who sells (default: none named, the till's own operator).
    #[arg(long, value_name = "NAME")]
    pub cashier: Option<String>,
    /// The number of the ticket this one corrects (negative quantities: CODEx-QTY).
    #[arg(long, value_name = "N")]
    pub corrects: Option<u64>,
    /// A training-mode sale ("mode école"): numbered and chained apart,
    /// never in fiscal totals.
    #[arg(long)]
    pub training: bool,
    /// Retrying with the same KEY and the same sale prints the ticket
    /// recorded the first time, never a second one.
    #[arg(long, value_name = "KEY")]
    pub idempotency_key: Option<String>,
}

/// `CODE`, `CODExQTY` or `CODE*QTY`. After the last `x`, what starts like
/// a number (a digit, a sign, `.` or `,`) is the quantity; after `*`,
/// always. Otherwise the whole argument is the item code (`BOX`).
fn parse_item(arg: &str) -> Result<sell::SaleLine> {
    let split = arg.rfind(['x', '*']).and_then(|i| {
        let (code, rest) = (&arg[..i], &arg[i + 1..]);
        let star = arg[i..].starts_with('*');
        let numeric = rest
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || "+-.,".contains(c));
        (!code.is_empty() && (star || numeric)).then_some((code, rest))
    });
    let Some((code, qty)) = split else {
        return Ok(sell::SaleLine::units(arg, 1));
    };
    let quantity_milli = parse_quantity(qty).map_err(|reason| {
        anyhow!(
            "--item {arg}: {}",
            TicketError::QuantityText {
                input: qty.to_string(),
                reason
            }
        )
    })?;
    Ok(sell::SaleLine {
        item: code.to_string(),
        quantity_milli,
        discount_cents: 0,
        voided: false,
    })
}

/// `METHOD` or `METHOD:CENTS`.
fn parse_payment(arg: &str) -> Result<sell::SalePayment> {
    Ok(match arg.split_once(':') {
        None => sell::SalePayment {
            method: arg.to_string(),
            amount_cents: None,
        },
        Some((method, cents)) => sell::SalePayment {
            method: method.to_string(),
            amount_cents: Some(cents.trim().parse().map_err(|_| {
                anyhow!("payment {arg:?}: {cents:?} is not an amount in cents (e.g. card:1250)")
            })?),
        },
    })
}

/// Line `n` (from 1) of `lines`, for `what`.
fn line_mut<'a>(
    lines: &'a mut [sell::SaleLine],
    n: usize,
    what: &str,
) -> Result<&'a mut sell::SaleLine> {
    let count = lines.len();
    if n == 0 || n > count {
        bail!(
            "{what}: there is no line {n} (the sale has {count} --item line(s), numbered from 1)"
        );
    }
    Ok(&mut lines[n - 1])
}

/// The sale request of the arguments.
fn request(a: &SellArgs) -> Result<sell::SaleRequest> {
    let mut lines: Vec<sell::SaleLine> = a
        .items
        .iter()
        .map(|i| parse_item(i))
        .collect::<Result<_>>()?;
    for d in &a.line_discounts {
        let what = format!("--line-discount {d}");
        let (n, cents) = d
            .split_once(':')
            .and_then(|(n, c)| Some((n.trim().parse().ok()?, c.trim().parse().ok()?)))
            .ok_or_else(|| anyhow!("{what}: expected N:CENTS, e.g. 2:150"))?;
        line_mut(&mut lines, n, &what)?.discount_cents = cents;
    }
    for &n in &a.voids {
        line_mut(&mut lines, n, &format!("--void {n}"))?.voided = true;
    }
    Ok(sell::SaleRequest {
        lines,
        discount_cents: a.discount,
        payments: a
            .payments
            .iter()
            .map(|p| parse_payment(p))
            .collect::<Result<_>>()?,
        customer: a.customer.clone(),
        cashier: a.cashier.clone(),
        corrects: a.corrects,
        training: a.training,
        idempotency_key: a.idempotency_key.clone(),
    })
}

/// `till sell`.
pub fn sell_cmd(a: &SellArgs, out: &Out) -> Result<()> {
    let req = request(a)?;
    let t = sell::sell(&a.data.data, &req)?;
    out.emit(&t, || {
        if t.training {
            println!("{} (training)", t.number)
        } else {
            println!("{}", t.number)
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_with_quantities() {
        for (arg, code, milli) in [
            ("ART0001", "ART0001", 1000),
            ("ART0001x3", "ART0001", 3000),
            ("ART0001x0.485", "ART0001", 485),
            ("ART0001x0,485", "ART0001", 485),
            ("ART0001*2", "ART0001", 2000),
            ("ART0001x-1", "ART0001", -1000),
            ("BOX", "BOX", 1000),
            ("BOXx2", "BOX", 2000),
        ] {
            let l = parse_item(arg).unwrap();
            assert_eq!((l.item.as_str(), l.quantity_milli), (code, milli), "{arg}");
        }
        for (arg, needle) in [
            (
                "ART0001x1.2345",
                "quantity \"1.2345\" is not valid: at most three decimals",
            ),
            (
                "ART0001*abc",
                "--item ART0001*abc: quantity \"abc\" is not valid",
            ),
            ("ART0001x1.2.3", "quantity \"1.2.3\""),
        ] {
            let e = parse_item(arg).unwrap_err().to_string();
            assert!(e.contains(needle), "{arg}: {e}");
        }
    }
}
