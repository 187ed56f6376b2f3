//! The recent tickets of the till (`GET /tickets`): number, local time,
//! total, the duplicates printed so far, a link to each receipt and a
//! button that prints a duplicate.

use maud::{Markup, html};
use tillsync_core::lang::Lang;

use crate::cashier::pages::layout::{Header, csrf, layout};
use crate::receipt::format::money;

/// One ticket of the list.
pub(crate) struct Row {
    /// Number.
    pub number: u64,
    /// Local time of the sale.
    pub local_time: String,
    /// Total, cents.
    pub total_cents: i64,
    /// The ticket it corrects.
    pub corrects: Option<u64>,
    /// Duplicates printed so far.
    pub duplicates: u64,
}

/// The page.
pub(crate) fn page(lang: Lang, h: &Header, token: &str, rows: &[Row]) -> Markup {
    let l = |fr, en| lang.pick(fr, en);
    let body = html! {
        section {
            h2 { (l("Tickets récents", "Recent tickets")) }
            p.hint { (l("Un ticket passé ne s'imprime plus qu'en duplicata, compté dans la clôture du jour.",
                        "A past ticket is printed again only as a duplicate, counted in the day closing.")) }
            table #tickets {
                thead { tr {
                    th { (l("N°", "No.")) } th { (l("Date et heure", "Date and time")) }
                    th.num { (l("Total TTC", "Total incl. VAT")) } th.num { (l("Duplicatas", "Duplicates")) } th {}
                } }
                tbody {
                    @if rows.is_empty() {
                        tr { td.empty colspan="5" { (l("Aucun ticket.", "No ticket yet.")) } }
                    }
                    @for r in rows {
                        tr data-ticket=(r.number) {
                            td { a href=(format!("/receipt/{}", r.number)) { (r.number) }
                                 @if let Some(c) = r.corrects { " " span.note { "(" (l("correction du n° ", "correction of no. ")) (c) ")" } } }
                            td { (r.local_time) }
                            td.num { (money(lang, r.total_cents)) }
                            td.num.duplicates { (r.duplicates) }
                            td {
                                form.reprint method="post" action=(format!("/receipt/{}/reprint", r.number)) {
                                    (csrf(token))
                                    button.reprint type="submit" { (l("Duplicata", "Duplicate")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    layout(lang, l("Tickets", "Tickets"), h, "tickets", body)
}
