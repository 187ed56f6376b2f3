//! The sale page: the item search and its results, the ticket being built,
//! the payment form.

use maud::{Markup, html};
use tillsync_core::lang::Lang;

use crate::cashier::items::Found;
use crate::cashier::pages::format::METHODS;
use crate::cashier::pages::layout::{Header, csrf, flash, layout};
use crate::cashier::session::Flash;
use crate::receipt::format::money;

/// One line of the ticket being built.
pub(crate) struct LineView {
    pub code: String,
    /// `None`: the item is no longer in `ART`.
    pub label: Option<String>,
    pub quantity: i64,
    pub unit_cents: Option<i64>,
}

impl LineView {
    fn total(&self) -> Option<i64> {
        self.unit_cents.and_then(|u| u.checked_mul(self.quantity))
    }
}

/// The sale page's content.
pub(crate) struct SalePage<'a> {
    pub q: &'a str,
    /// What the search found, or why it could not run.
    pub found: Option<Result<Found, String>>,
    pub lines: Vec<LineView>,
    /// The payment form as last posted (kept after a refused payment).
    pub method: &'a str,
    pub amount: &'a str,
    pub customer: &'a str,
}

/// The sale page: search, results, the ticket being built, payment.
pub(crate) fn page(
    lang: Lang,
    h: &Header,
    token: &str,
    page: &SalePage<'_>,
    msg: Option<&Flash>,
) -> Markup {
    let l = |fr, en| lang.pick(fr, en);
    let total: Option<i64> = page
        .lines
        .iter()
        .try_fold(0i64, |acc, line| acc.checked_add(line.total()?));
    let body = html! {
        (flash(msg))
        div.sale {
            section.items {
                form #search method="get" action="/" role="search" {
                    label for="q" { (l("Article (code, libellé ou code-barres)", "Item (code, label or barcode)")) }
                    div.row {
                        input #q type="search" name="q" value=(page.q) autofocus autocomplete="off";
                        button #search-submit type="submit" { (l("Chercher", "Search")) }
                    }
                }
                @match &page.found {
                    None => p.hint { (l("Scannez ou tapez un code, un code-barres ou des mots du libellé.", "Scan or type a code, a barcode or words of the label.")) }
                    Some(Err(e)) => p.error role="alert" { (e) }
                    Some(Ok(f)) => {
                        @if f.no_barcode_column {
                            p.note { (l("La table ART de cette caisse n'a pas de colonne de code-barres (barcode, ean, ean13 ou gencod) : la recherche porte sur les codes et les libellés.", "This till's ART table has no barcode column (barcode, ean, ean13 or gencod): the search looks at codes and labels only.")) }
                        }
                        @if f.items.is_empty() {
                            p.empty { (l("Aucun article ne correspond à « ", "No item matches \"")) (page.q) (l(" ».", "\".")) }
                        } @else {
                            div.scroll {
                                table #items {
                                    thead { tr {
                                        th { (l("Code", "Code")) }
                                        th { (l("Libellé", "Label")) }
                                        th { (l("Code-barres", "Barcode")) }
                                        th.num { (l("Prix", "Price")) }
                                        th { (l("Quantité", "Quantity")) }
                                    } }
                                    tbody {
                                        @for i in &f.items {
                                            tr data-code=(i.code) {
                                                td.code { (i.code) }
                                                td { (i.label) }
                                                td.code { (i.barcode.as_deref().unwrap_or("")) }
                                                td.num { (money(lang, i.price_cents)) }
                                                td {
                                                    form.add method="post" action="/ticket/add" {
                                                        (csrf(token))
                                                        input type="hidden" name="code" value=(i.code);
                                                        input type="hidden" name="q" value=(page.q);
                                                        input type="number" name="quantity" value="1" min="1" max="9999" aria-label=(l("Quantité", "Quantity"));
                                                        button.add type="submit" { (l("Ajouter", "Add")) }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                            @if f.truncated {
                                p.note { (l("Seuls les 50 premiers articles sont affichés : précisez la recherche.", "Only the first 50 items are shown: narrow the search.")) }
                            }
                        }
                    }
                }
            }
            section.ticket {
                h2 { (l("Ticket en cours", "Current ticket")) }
                table #ticket {
                    thead { tr {
                        th { (l("Article", "Item")) }
                        th.num { (l("Qté", "Qty")) }
                        th.num { (l("P.U.", "Unit")) }
                        th.num { (l("Montant", "Amount")) }
                        th {}
                    } }
                    tbody {
                        @for line in &page.lines {
                            tr.line data-code=(line.code) {
                                td {
                                    span.code { (line.code) } " "
                                    @match &line.label {
                                        Some(label) => (label),
                                        None => span.error { (l("n'est plus dans la table ART", "is no longer in table ART")) },
                                    }
                                }
                                td.num.qty { (line.quantity) }
                                td.num { @if let Some(u) = line.unit_cents { (money(lang, u)) } }
                                td.num { @if let Some(t) = line.total() { (money(lang, t)) } }
                                td {
                                    form method="post" action="/ticket/remove" {
                                        (csrf(token))
                                        input type="hidden" name="code" value=(line.code);
                                        button.remove type="submit" title=(l("Retirer la ligne", "Remove the line")) { "✕" }
                                    }
                                }
                            }
                        }
                        @if page.lines.is_empty() {
                            tr.empty { td colspan="5" { (l("Aucun article pour l'instant.", "No item yet.")) } }
                        }
                    }
                    tfoot { tr {
                        th colspan="3" { (l("Total TTC", "Total incl. VAT")) }
                        td.num #total data-cents=(total.unwrap_or(0)) { (money(lang, total.unwrap_or(0))) }
                        td {}
                    } }
                }
                form #pay method="post" action="/pay" {
                    (csrf(token))
                    div.row {
                        label {
                            (l("Règlement", "Payment")) " "
                            select name="method" {
                                @for (code, fr, en) in METHODS {
                                    option value=(code) selected[*code == page.method] { (lang.pick(fr, en)) }
                                }
                            }
                        }
                        label {
                            (l("Montant reçu", "Amount received")) " "
                            input type="text" name="amount" value=(page.amount) inputmode="decimal" size="8"
                                placeholder=(money(lang, total.unwrap_or(0)));
                        }
                    }
                    div.row {
                        label {
                            (l("Client (code, facultatif)", "Customer (code, optional)")) " "
                            input type="text" name="customer" value=(page.customer) size="12";
                        }
                        button #pay-submit type="submit" disabled[page.lines.is_empty()] { (l("Encaisser", "Take payment")) }
                    }
                }
                @if !page.lines.is_empty() {
                    form #ticket-clear method="post" action="/ticket/clear" {
                        (csrf(token))
                        button type="submit" { (l("Abandonner le ticket", "Abandon the ticket")) }
                    }
                }
            }
        }
    };
    layout(lang, l("Caisse", "Till"), h, "sale", body)
}
