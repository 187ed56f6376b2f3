//! The receipt of a recorded ticket: lines, totals, VAT, payments, change
//! and the start of its signature.

use maud::{Markup, html};
use tillsync_core::lang::Lang;
use tillsync_core::ticket::Ticket;

use crate::cashier::pages::format::{METHODS, money, rate, short_signature};
use crate::cashier::pages::layout::{Header, layout};

/// The receipt of a recorded ticket.
pub(crate) fn page(lang: Lang, h: &Header, t: &Ticket) -> Markup {
    let l = |fr, en| lang.pick(fr, en);
    let paid: i64 = t.payments.iter().map(|p| p.amount_cents).sum();
    let change = paid - t.total_cents;
    let method = |m: &str| {
        METHODS
            .iter()
            .find(|(c, _, _)| *c == m)
            .map(|(_, fr, en)| lang.pick(fr, en).to_string())
            .unwrap_or_else(|| m.to_string())
    };
    let body = html! {
        section #receipt data-ticket=(t.number) {
            h2 { (l("Ticket n° ", "Ticket no. ")) span.ticket-number { (t.number) } }
            p.meta { (l("Caisse ", "Till ")) (t.till) " · " (t.time) }
            table.receipt-lines {
                tbody {
                    @for line in &t.lines {
                        tr {
                            td { (line.label) " " span.code { (line.item) } }
                            td.num { (line.quantity_text()) " × " (money(lang, line.unit_price_cents)) }
                            td.num { (money(lang, line.total_incl_cents)) }
                        }
                    }
                }
                tfoot {
                    tr.total { th colspan="2" { (l("Total TTC", "Total incl. VAT")) } td.num { (money(lang, t.total_cents)) } }
                    @for v in &t.vat_totals {
                        tr.vat {
                            td colspan="2" { (l("dont TVA ", "of which VAT ")) (rate(lang, v.rate_bp)) }
                            td.num { (money(lang, v.vat_cents)) }
                        }
                    }
                    @for p in &t.payments {
                        tr.payment { td colspan="2" { (method(&p.method)) } td.num { (money(lang, p.amount_cents)) } }
                    }
                    @if change > 0 {
                        tr.change { td colspan="2" { (l("Rendu", "Change")) } td.num { (money(lang, change)) } }
                    }
                }
            }
            @if let Some(c) = &t.customer { p { (l("Client : ", "Customer: ")) (c) } }
            p.sig {
                (l("Signature : ", "Signature: "))
                span.signature data-signature=(t.signature) title=(t.signature) { (short_signature(&t.signature)) }
            }
            p { a.button #new-sale href="/" { (l("Nouvelle vente", "New sale")) } }
        }
    };
    layout(lang, l("Ticket", "Receipt"), h, "sale", body)
}
