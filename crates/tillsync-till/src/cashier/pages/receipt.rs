//! The receipt of a recorded ticket in an 80 mm layout (the print style
//! sheet keeps only the receipt): every legal mention of
//! [`Receipt`](crate::receipt::model::Receipt), the QR code as SVG, and
//! what the cashier may do on the customer's request (AGEC law: nothing is
//! printed by default): print the ticket just paid, an invoice, or a
//! duplicate of a past ticket.

use maud::{Markup, PreEscaped, html};
use tillsync_core::lang::Lang;

use crate::cashier::pages::format::short_signature;
use crate::cashier::pages::layout::{Header, csrf, layout};
use crate::receipt::format::{amount, money, rate, siret};
use crate::receipt::model::{Receipt, Words};

/// What the receipt page shows besides the receipt.
pub(crate) struct ReceiptView<'a> {
    /// The receipt.
    pub receipt: &'a Receipt,
    /// Its QR code as an SVG element.
    pub qr_svg: String,
    /// The session's CSRF token.
    pub token: &'a str,
    /// The ticket this session just paid (its original may be printed);
    /// any other ticket is printed again as a duplicate.
    pub just_paid: bool,
}

fn mention(w: &Words, label: &str, v: Option<&str>) -> Markup {
    html! {
        @match v {
            Some(v) => { (label) " " (v) }
            None => { (label) (w.colon) span.missing { (w.missing) } }
        }
    }
}

/// The receipt page.
pub(crate) fn page(lang: Lang, h: &Header, v: &ReceiptView<'_>) -> Markup {
    let r = v.receipt;
    let w = Words::of(lang);
    let l = |fr, en| lang.pick(fr, en);
    let s = &r.store;
    let body = html! {
        section #receipt .receipt-80mm data-ticket=(r.number)
            data-duplicate=[r.duplicate] data-invoice=[r.invoice.then_some("yes")] {
            div.store {
                @match &s.name {
                    Some(n) => { h2.store-name { (n) } }
                    None => {
                        h2.store-name { (w.store) " " (s.code) }
                        p { "(" (w.store) (w.colon) span.missing { (w.missing) } ")" }
                    }
                }
                @for a in &s.address { p.address { (a) } }
                @if let Some(pt) = &s.postcode_town { p.address { (pt) } }
                @if let Some(p) = &s.phone { p.phone { (w.phone) " " (p) } }
                p.siret { (mention(&w, w.siret, s.siret.as_deref().map(siret).as_deref())) }
                p.vat-number { (mention(&w, w.vat_number, s.vat_number.as_deref())) }
            }
            @if r.invoice {
                p.doc-title { (w.invoice) " n° " (r.invoice_number()) }
            } @else {
                p.doc-title { (w.title) }
            }
            @if r.training { p.mark.training { (w.training) } p.center { (w.training_note) } }
            @if let Some(k) = r.duplicate { p.mark.duplicate { (w.duplicate) " " (k) } }
            p.meta {
                span { (w.ticket) " " span.ticket-number { (r.number) } }
                span { (w.till) " " (r.till) }
            }
            p.meta { span { (w.date) } span.local-time title=(r.zone) { (r.local_time) } }
            p.meta {
                span { (w.cashier) }
                @match &r.cashier {
                    Some(c) => { span.cashier { (c) } }
                    None => { span.cashier.missing { (w.missing) } }
                }
            }
            @if let Some(n) = r.corrects { p.corrects { (w.corrects) " " (n) } }
            table.receipt-lines {
                tbody {
                    @for line in &r.lines {
                        tr class=[line.voided.then_some("voided")] {
                            td { (line.label) br; span.code { (line.quantity) " × " (money(lang, line.unit_cents)) " · " (w.vat_heads[0]) " " (rate(lang, line.vat_rate_bp)) } }
                            td.num {
                                @if line.voided { span.void-mark { (w.voided) } }
                                @else { (money(lang, line.gross_cents)) }
                            }
                        }
                        @if line.discount_cents != 0 && !line.voided {
                            tr.discount { td { (w.discount) } td.num { (money(lang, -line.discount_cents)) } }
                        }
                    }
                }
            }
            @if r.ticket_discount_cents != 0 {
                p.meta.subtotal { span { (w.subtotal) } span { (money(lang, r.subtotal_cents)) } }
                p.meta.ticket-discount { span { (w.ticket_discount) } span { (money(lang, -r.ticket_discount_cents)) } }
            }
            p.total { span { (w.total) } span #receipt-total data-cents=(r.total_cents) { (money(lang, r.total_cents)) } }
            table.vat {
                thead { tr { @for (i, head) in w.vat_heads.iter().enumerate() { th class=[(i > 0).then_some("num")] { (head) } } } }
                tbody {
                    @for t in &r.vat {
                        tr.vat {
                            td { (rate(lang, t.rate_bp)) }
                            td.num { (amount(lang, t.base_cents)) }
                            td.num { (amount(lang, t.vat_cents)) }
                            td.num { (amount(lang, t.total_cents)) }
                        }
                    }
                }
            }
            table.payments {
                tbody {
                    @for p in &r.payments {
                        tr.payment { td { (p.label) } td.num { (money(lang, p.amount_cents)) } }
                    }
                    @if r.change_cents > 0 {
                        tr.change { td { (w.change) } td.num { (money(lang, r.change_cents)) } }
                    }
                }
            }
            @if let Some(c) = &r.customer {
                div.customer {
                    p { (w.customer) (w.colon) (c.name.as_deref().unwrap_or(w.missing)) " (" (c.code) ")" }
                    @for a in &c.address { p { (a) } }
                }
            } @else if let Some(code) = &r.customer_code {
                p.customer { (w.customer) (w.colon) (code) }
            }
            div.qr data-payload=(r.qr) title=(w.qr_note) { (PreEscaped(&v.qr_svg)) }
            p.qr-text { (r.qr) }
            p.sig {
                (w.signature) (w.colon)
                span.signature data-signature=(r.signature) title=(r.signature) { (short_signature(&r.signature)) }
            }
            @if r.training { p.mark.training { (w.training) } }
        }
        div.receipt-actions {
            p.hint { (l("Le ticket n'est imprimé qu'à la demande du client.", "The receipt is printed only when the customer asks.")) }
            @if v.just_paid && r.duplicate.is_none() {
                button #print-receipt type="button" data-print="yes" { (l("Imprimer le ticket", "Print the receipt")) }
            }
            @if r.duplicate.is_some() {
                button #print-duplicate type="button" data-print="yes" { (l("Imprimer ce duplicata", "Print this duplicate")) }
            }
            @if !r.invoice {
                @let base = match r.duplicate {
                    Some(k) => format!("/receipt/{}/duplicate/{k}", r.number),
                    None => format!("/receipt/{}", r.number),
                };
                a.button #invoice href=(format!("{base}?invoice=1")) { (l("Facture", "Invoice")) }
            }
            @if !v.just_paid && r.duplicate.is_none() {
                form #reprint method="post" action=(format!("/receipt/{}/reprint", r.number)) {
                    (csrf(v.token))
                    button #reprint-submit type="submit" { (l("Imprimer un duplicata", "Print a duplicate")) }
                }
            }
            a.button #new-sale href="/" { (l("Nouvelle vente", "New sale")) }
            a #tickets-link href="/tickets" { (l("Tickets récents", "Recent tickets")) }
        }
    };
    layout(lang, l("Ticket", "Receipt"), h, "tickets", body)
}
