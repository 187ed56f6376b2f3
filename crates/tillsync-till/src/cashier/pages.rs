//! The HTML of the cashier page, in French or English: the sale page
//! (search, ticket, payment), the receipt, the customers page; the style
//! sheet and the small script that refreshes the connection indicator.
//! Element ids and classes are a contract with the browser tests
//! (docs/cashier-page.md).

use maud::{DOCTYPE, Markup, html};
use tillsync_core::lang::Lang;
use tillsync_core::ticket::Ticket;

use super::items::Found;
use super::session::{CSRF_FIELD, Flash};

/// Payment methods offered, with their French and English labels.
pub(crate) const METHODS: &[(&str, &str, &str)] = &[
    ("cash", "Espèces", "Cash"),
    ("card", "Carte bancaire", "Card"),
    ("cheque", "Chèque", "Cheque"),
];

/// What every page shows in its header.
pub(crate) struct Header {
    pub till: String,
    pub store: String,
    /// The connection as the synchroniser last saw it.
    pub online: Option<bool>,
    /// Tickets waiting in the outbox.
    pub tickets_waiting: u64,
    /// All items waiting in the outbox (tickets and customer changes).
    pub items_waiting: u64,
}

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

/// One column of `CLI` on the customers page, with its current value.
pub(crate) struct FieldView {
    pub name: String,
    pub value: String,
}

/// The customers page's content.
pub(crate) struct CustomersPage<'a> {
    /// `CLI` was never loaded: why the forms cannot work.
    pub no_table: Option<String>,
    /// The columns a creation may give (not the key, not the name).
    pub create_fields: Vec<String>,
    /// The name as last posted.
    pub create_name: &'a str,
    /// Values as last posted for a creation.
    pub create_values: Vec<(String, String)>,
    /// The customer being edited (code), if one was looked up.
    pub edit_code: &'a str,
    /// Its columns (current or as last posted).
    pub edit_fields: Vec<FieldView>,
    /// The code found was not in `CLI`.
    pub edit_missing: bool,
}

/// Cents as money: `12,50 €` in French, `€12.50` in English.
pub(crate) fn money(lang: Lang, cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let a = cents.unsigned_abs();
    match lang {
        Lang::Fr => format!("{sign}{},{:02} €", a / 100, a % 100),
        Lang::En => format!("{sign}€{}.{:02}", a / 100, a % 100),
    }
}

/// A VAT rate in basis points: `5,5 %` in French, `5.5%` in English.
pub(crate) fn rate(lang: Lang, bp: i64) -> String {
    let whole = bp / 100;
    let frac = (bp % 100).abs();
    let frac = match (frac, frac % 10) {
        (0, _) => String::new(),
        (f, 0) => format!("{}", f / 10),
        (f, _) => format!("{f:02}"),
    };
    match (lang, frac.is_empty()) {
        (Lang::Fr, true) => format!("{whole} %"),
        (Lang::Fr, false) => format!("{whole},{frac} %"),
        (Lang::En, true) => format!("{whole}%"),
        (Lang::En, false) => format!("{whole}.{frac}%"),
    }
}

/// A readable label for the demo's `CLI` columns, with the column's name
/// (other columns show their name only).
fn column_label(lang: Lang, column: &str) -> String {
    let known = match column.to_ascii_lowercase().as_str() {
        "name" => Some(("Nom", "Name")),
        "email" => Some(("E-mail", "Email")),
        "city" => Some(("Ville", "City")),
        "store" => Some(("Magasin", "Store")),
        "phone" => Some(("Téléphone", "Phone")),
        "loyalty_points" => Some(("Points de fidélité", "Loyalty points")),
        _ => None,
    };
    match known {
        Some((fr, en)) => format!("{} ({column})", lang.pick(fr, en)),
        None => column.to_string(),
    }
}

/// The part of the signature a receipt prints: its first 8 hex characters
/// (the whole one is in `data-signature`).
pub(crate) fn short_signature(sig: &str) -> &str {
    sig.get(..8).unwrap_or(sig)
}

fn csrf(token: &str) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(token); }
}

fn flash(f: Option<&Flash>) -> Markup {
    html! {
        @if let Some(f) = f {
            @if f.ok { p.flash-ok role="status" { (f.text) } }
            @else { p.error role="alert" { (f.text) } }
        }
    }
}

fn layout(lang: Lang, title: &str, h: &Header, here: &str, body: Markup) -> Markup {
    let l = |fr, en| lang.pick(fr, en);
    let (online, label) = match h.online {
        Some(true) => ("yes", l("Serveur joignable", "Server reachable")),
        Some(false) => ("no", l("Serveur injoignable", "Server unreachable")),
        None => (
            "no",
            l("Connexion non vérifiée", "Connection not checked yet"),
        ),
    };
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — " (h.till) }
                link rel="stylesheet" href="/assets/cashier.css";
                script src="/assets/cashier.js" defer {}
            }
            body {
                header.bar {
                    span.till { (l("Caisse ", "Till ")) strong { (h.till) } " · " (l("magasin ", "store ")) (h.store) }
                    nav {
                        a href="/" aria-current=[(here == "sale").then_some("page")] { (l("Vente", "Sale")) }
                        a href="/customers" aria-current=[(here == "customers").then_some("page")] { (l("Clients", "Customers")) }
                    }
                    span #connection data-online=(online)
                        data-label-yes=(l("Serveur joignable", "Server reachable"))
                        data-label-no=(l("Serveur injoignable", "Server unreachable"))
                        title=(l("État de la connexion au serveur (ping)", "Connection to the server (ping)")) {
                        span.icon aria-hidden="true" {}
                        span.label { (label) }
                    }
                    span.outbox title=(format!("{} {}", h.items_waiting, l("élément(s) en attente au total (tickets et clients)", "item(s) waiting in all (tickets and customers)"))) {
                        (l("Tickets à envoyer : ", "Tickets waiting to go up: "))
                        strong #outbox-count { (h.tickets_waiting) }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// The sale page: search, results, the ticket being built, payment.
pub(crate) fn sale(
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

/// The receipt of a recorded ticket.
pub(crate) fn receipt(lang: Lang, h: &Header, t: &Ticket) -> Markup {
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
                            td.num { (line.quantity) " × " (money(lang, line.unit_price_cents)) }
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

/// The customers page: create, edit, abandon a creation.
pub(crate) fn customers(
    lang: Lang,
    h: &Header,
    token: &str,
    page: &CustomersPage<'_>,
    msg: Option<&Flash>,
) -> Markup {
    let l = |fr, en| lang.pick(fr, en);
    let value_of = |name: &str| {
        page.create_values
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let body = html! {
        (flash(msg))
        @if let Some(e) = &page.no_table { p.error role="alert" { (e) } }
        div.customers {
            section {
                h2 { (l("Nouveau client", "New customer")) }
                p.hint { (l("La création passe par le serveur (copie du client modèle) : elle est impossible hors connexion.", "Creating goes through the server (a copy of the template customer): it is impossible offline.")) }
                form #customer-create method="post" action="/customers/create" {
                    (csrf(token))
                    label { (l("Nom (name)", "Name (name)")) input type="text" name="name" value=(page.create_name) required; }
                    @for f in &page.create_fields {
                        label { (column_label(lang, f)) input type="text" name=(format!("field_{f}")) value=(value_of(f)); }
                    }
                    p.hint { (l("Un champ vide garde la valeur du client modèle.", "An empty field keeps the template customer's value.")) }
                    button #customer-create-submit type="submit" { (l("Créer", "Create")) }
                }
            }
            section {
                h2 { (l("Modifier un client", "Edit a customer")) }
                form #customer-find.row method="get" action="/customers" {
                    input type="search" name="code" value=(page.edit_code)
                        placeholder=(l("Code du client", "Customer code")) aria-label=(l("Code du client à afficher", "Code of the customer to show"));
                    button #customer-find-submit type="submit" { (l("Afficher sa fiche", "Show the record")) }
                }
                @if page.edit_missing {
                    p.error { (l("Ce client n'est pas dans la table CLI de la caisse.", "This customer is not in the till's CLI table.")) }
                }
                form #customer-edit method="post" action="/customers/edit" {
                    (csrf(token))
                    label { (l("Code", "Code")) input type="text" name="code" value=(page.edit_code) required; }
                    @for f in &page.edit_fields {
                        label { (column_label(lang, &f.name)) input type="text" name=(format!("field_{}", f.name)) value=(f.value); }
                    }
                    p.hint { (l("Seuls les champs modifiés sont envoyés ; un champ vide est laissé tel quel. Fonctionne hors connexion.", "Only changed fields are sent; an empty field is left as it is. Works offline.")) }
                    button #customer-edit-submit type="submit" { (l("Enregistrer", "Save")) }
                }
            }
            section {
                h2 { (l("Abandonner une création", "Abandon a creation")) }
                p.hint { (l("Retire de la caisse un client créé ici ; sa suppression est demandée au serveur. Fonctionne hors connexion.", "Removes a customer created here from the till; its deletion is asked of the server. Works offline.")) }
                form #customer-abandon method="post" action="/customers/abandon" {
                    (csrf(token))
                    label { (l("Code", "Code")) input type="text" name="code" value=(page.edit_code) required; }
                    button #customer-abandon-submit type="submit" { (l("Abandonner", "Abandon")) }
                }
            }
        }
    };
    layout(lang, l("Clients", "Customers"), h, "customers", body)
}

/// A page with only a message (refused request, unknown ticket).
pub(crate) fn message(lang: Lang, h: &Header, text: &str) -> Markup {
    let body = html! {
        p.error role="alert" { (text) }
        p { a href="/" { (lang.pick("Retour à la caisse", "Back to the till")) } }
    };
    layout(lang, lang.pick("Erreur", "Error"), h, "", body)
}

/// The style sheet: fits 1366×768 without scrolling the page.
pub(crate) const CSS: &str = r#"
*{box-sizing:border-box}
body{margin:0;font:15px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#1d2327;background:#f3f4f6}
header.bar{display:flex;gap:1.2rem;align-items:center;padding:.45rem 1rem;background:#1f3a5f;color:#fff}
header.bar nav{display:flex;gap:.4rem;flex:1}
header.bar nav a{color:#fff;text-decoration:none;padding:.25rem .7rem;border-radius:4px}
header.bar nav a[aria-current=page]{background:#2f5b91}
#connection{display:inline-flex;align-items:center;gap:.4rem;padding:.2rem .6rem;border-radius:4px;background:#2e7d32}
#connection[data-online=no]{background:#b3261e}
#connection .icon{position:relative;width:14px;height:14px;border-radius:50%;border:2px solid #fff}
#connection[data-online=no] .icon::after{content:"";position:absolute;left:-3px;top:4px;width:16px;height:2px;background:#fff;transform:rotate(-45deg)}
main{padding:.8rem 1rem;max-width:1366px;margin:0 auto}
.sale{display:grid;grid-template-columns:1fr 480px;gap:1rem}
.customers{display:grid;grid-template-columns:repeat(3,1fr);gap:1rem}
section{background:#fff;border-radius:6px;padding:.8rem;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{margin:.1rem 0 .6rem;font-size:1.1rem}
.row{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap;margin:.3rem 0}
label{display:block;margin:.3rem 0}
.customers label input{display:block;width:100%}
input,select,button{font:inherit;padding:.3rem .5rem}
#q{flex:1;min-width:12rem;font-size:1.1rem}
button{cursor:pointer;border:1px solid #1f3a5f;background:#fff;border-radius:4px}
button[type=submit]#pay-submit,button#search-submit,button.add,.button{background:#1f3a5f;color:#fff}
#pay-submit{font-size:1.1rem;padding:.5rem 1.2rem}
#customer-create-submit,#customer-edit-submit{background:#1f3a5f;color:#fff}
#customer-find input{flex:1}
#pay-submit:disabled{opacity:.5;cursor:default}
.scroll{max-height:calc(100vh - 230px);overflow:auto}
table{border-collapse:collapse;width:100%}
th,td{padding:.25rem .4rem;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:middle}
.num{text-align:right;white-space:nowrap}
.code{font-family:ui-monospace,Consolas,monospace;font-size:.9em;color:#4b5563}
form.add{display:flex;gap:.3rem}
form.add input{width:4.5rem}
#total{font-size:1.3rem;font-weight:700}
#ticket tbody{display:block;max-height:calc(100vh - 380px);overflow:auto}
#ticket thead,#ticket tbody tr,#ticket tfoot{display:table;width:100%;table-layout:fixed}
#ticket td:first-child,#ticket th:first-child{width:48%}
#ticket td:last-child,#ticket th:last-child{width:2.6rem}
.error{color:#b3261e;background:#fdecea;padding:.4rem .6rem;border-radius:4px}
.flash-ok{color:#1b5e20;background:#e8f5e9;padding:.4rem .6rem;border-radius:4px}
.note,.hint,.empty{color:#4b5563}
#receipt{max-width:520px;margin:0 auto}
.ticket-number{font-size:1.4rem}
.signature{font-family:ui-monospace,Consolas,monospace;font-weight:700;letter-spacing:.05em}
a.button{display:inline-block;padding:.5rem 1rem;border-radius:4px;text-decoration:none}
"#;

/// The only script: refreshes the connection indicator and the outbox
/// count every few seconds from `/status.json` (the page works without it).
pub(crate) const JS: &str = r#"
(function(){
  function refresh(){
    fetch('/status.json',{cache:'no-store',credentials:'same-origin'})
      .then(function(r){return r.ok?r.json():null})
      .then(function(s){
        if(!s)return;
        var c=document.getElementById('connection');
        if(c){
          var on=s.online===true;
          c.setAttribute('data-online',on?'yes':'no');
          var l=c.querySelector('.label');
          if(l&&s.online!==null)l.textContent=c.getAttribute(on?'data-label-yes':'data-label-no');
        }
        var o=document.getElementById('outbox-count');
        if(o)o.textContent=String(s.tickets_waiting);
      })
      .catch(function(){
        var c=document.getElementById('connection');
        if(c)c.setAttribute('data-online','no');
      });
  }
  setInterval(refresh,3000);
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_rates_in_both_languages() {
        assert_eq!(money(Lang::Fr, 1250), "12,50 €");
        assert_eq!(money(Lang::En, -5), "-€0.05");
        assert_eq!(rate(Lang::Fr, 550), "5,5 %");
        assert_eq!(rate(Lang::Fr, 2000), "20 %");
        assert_eq!(rate(Lang::En, 210), "2.1%");
        assert_eq!(rate(Lang::En, 1025), "10.25%");
        assert_eq!(short_signature("0123456789abcdef"), "01234567");
        assert_eq!(short_signature("abc"), "abc");
    }
}
