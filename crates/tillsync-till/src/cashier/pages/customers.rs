//! The customers page: the creation form (through the server), the edit
//! form of a customer looked up by code, the abandon form.

use maud::{Markup, html};
use tillsync_core::lang::Lang;

use crate::cashier::pages::layout::{Header, csrf, flash, layout};
use crate::cashier::session::Flash;

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

/// The customers page: create, edit, abandon a creation.
pub(crate) fn page(
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
