//! The refusals the cashier page shows, in its language. The till's errors
//! are worded in English for the CLI and the logs; on a French page each
//! known sentence of a sale or customer refusal is given in French (matched
//! against the English wording, `{}` standing for a value), and what no
//! sentence matches (a system error) keeps its detail behind a French lead.

use tillsync_core::lang::Lang;
use tillsync_db::StoreError;

use crate::error::TillError;

/// `(English, French)` sentences; `{}` is a value carried over in order.
const SENTENCES: &[(&str, &str)] = &[
    // Sales (crate::up::sell, tillsync_core::ticket).
    (
        "a ticket needs at least one line",
        "un ticket doit avoir au moins une ligne",
    ),
    ("an item code is empty", "un code article est vide"),
    (
        "quantity {} for item {} is not allowed: {}",
        "la quantité {} de l'article {} n'est pas permise : {}",
    ),
    ("it is zero", "elle est nulle"),
    (
        "negative quantities belong on a correction ticket (--corrects N)",
        "les quantités négatives vont sur un ticket de correction",
    ),
    (
        "negative quantities belong on a correction ticket",
        "les quantités négatives vont sur un ticket de correction",
    ),
    (
        "a correction ticket holds negative quantities",
        "un ticket de correction porte des quantités négatives",
    ),
    ("the customer code is empty", "le code client est vide"),
    (
        "only one payment may leave its amount out (it takes what is left to pay)",
        "un seul règlement peut omettre son montant (il prend ce qui reste à payer)",
    ),
    (
        "the till has no items yet (table ART was never loaded): run `tillsync till sync` first",
        "la caisse n'a pas encore d'articles (la table ART n'a jamais été chargée) : lancez d'abord `tillsync till sync`",
    ),
    (
        "unknown item {}: it is not in the till's ART table",
        "article inconnu {} : il n'est pas dans la table ART de la caisse",
    ),
    (
        "unknown customer {}: it is not in the till's CLI table",
        "client inconnu {} : il n'est pas dans la table CLI de la caisse",
    ),
    ("amounts are too large", "les montants sont trop grands"),
    (
        "payment {} without an amount has nothing left to pay: the other payments already cover the total of {} cents",
        "le règlement {} sans montant n'a plus rien à payer : les autres règlements couvrent déjà le total de {} centimes",
    ),
    (
        "payments of {} cents do not cover the total of {} cents",
        "les règlements de {} centimes ne couvrent pas le total de {} centimes",
    ),
    (
        "payment {} of {} cents is not valid: {}",
        "le règlement {} de {} centimes n'est pas valide : {}",
    ),
    // Receipts and duplicates (crate::receipt, tillsync_till_db::fiscal::reprints).
    (
        "ticket {} does not exist on till {}: there is no receipt to print again",
        "le ticket {} n'existe pas sur la caisse {} : il n'y a pas de ticket à imprimer de nouveau",
    ),
    (
        "ticket {} does not exist on till {}",
        "le ticket {} n'existe pas sur la caisse {}",
    ),
    // The cashiers' login (tillsync_core::pin, tillsync_till_db::store).
    (
        "the PIN hash of cashier {} is not an argon2 PHC string ($argon2id$…): {}",
        "le code du caissier {} n'est pas enregistré comme une empreinte argon2 ($argon2id$…) dans la table CASHIER : {}",
    ),
    // Customers (crate::up::customers, tillsync_till_db::customers,
    // tillsync_core::customers::fields).
    (
        "the customer's name must not be empty",
        "le nom du client ne doit pas être vide",
    ),
    (
        "this till has no CLI table yet: load the data first (tillsync till sync)",
        "la caisse n'a pas encore de table CLI : chargez d'abord les données (tillsync till sync)",
    ),
    (
        "table {} has no column {}; columns are: {}",
        "la table {} n'a pas de colonne {} ; ses colonnes : {}",
    ),
    (
        "table {} has no column {}",
        "la table {} n'a pas de colonne {}",
    ),
    (
        "the customer code ({}) is allocated by the server and cannot be given",
        "le code client ({}) est attribué par le serveur et ne peut pas être donné",
    ),
    (
        "column {} holds whole numbers, not {}",
        "la colonne {} contient des nombres entiers, pas {}",
    ),
    (
        "column {} holds numbers, not {}",
        "la colonne {} contient des nombres, pas {}",
    ),
    (
        "give at least one field to change (--field COLUMN=VALUE)",
        "indiquez au moins un champ à changer",
    ),
    (
        "the customer code ({}) cannot be changed",
        "le code client ({}) ne peut pas être changé",
    ),
    (
        "customer {} is not in this till's CLI",
        "le client {} n'est pas dans la table CLI de la caisse",
    ),
    (
        "the change is refused: {}",
        "la modification est refusée : {}",
    ),
    ("field {}: {}", "champ {} : {}"),
    (
        "{}; nothing was created at this till{}",
        "{} ; rien n'a été créé sur cette caisse{}",
    ),
    (
        " (had the server completed the creation after the timeout, the customer exists on the server only, recorded as created by this till)",
        " (si le serveur a terminé la création après le délai, le client n'existe que sur le serveur, noté comme créé par cette caisse)",
    ),
    (
        "the web service at {} is unreachable: {}",
        "le service web {} est injoignable ({})",
    ),
    ("HTTP {}: {}", "le serveur a répondu HTTP {} : {}"),
];

/// The values of `msg` in the slots of `template`, if it has its shape.
fn captures<'a>(template: &str, msg: &'a str) -> Option<Vec<&'a str>> {
    let parts: Vec<&str> = template.split("{}").collect();
    let (first, rest) = parts.split_first()?;
    let mut pos = msg.strip_prefix(first).map(|_| first.len())?;
    let mut slots = Vec::new();
    for (i, lit) in rest.iter().enumerate() {
        let last = i + 1 == rest.len();
        let end = if last {
            if !msg[pos..].ends_with(lit) {
                return None;
            }
            msg.len() - lit.len()
        } else if lit.is_empty() {
            return None;
        } else {
            pos + msg[pos..].find(lit)?
        };
        if end < pos {
            return None;
        }
        slots.push(&msg[pos..end]);
        pos = end + lit.len();
    }
    (pos == msg.len()).then_some(slots)
}

/// `msg` in French when a sentence matches it (its values translated too
/// when they are sentences themselves).
fn sentence_fr(msg: &str) -> Option<String> {
    SENTENCES.iter().find_map(|(en, fr)| {
        let slots = captures(en, msg)?;
        let mut out = String::new();
        let mut values = slots.into_iter();
        for (i, piece) in fr.split("{}").enumerate() {
            if i > 0 {
                let v = values.next().unwrap_or("");
                out.push_str(&sentence_fr(v).unwrap_or_else(|| v.to_string()));
            }
            out.push_str(piece);
        }
        Some(out)
    })
}

/// A known sentence in French, else a French lead with the detail as is.
fn or_detail(msg: &str) -> String {
    sentence_fr(msg).unwrap_or_else(|| format!("erreur de la caisse ({msg})"))
}

/// What is wrong, in the page's language (English: the error's own text).
pub(crate) fn refusal(lang: Lang, e: &TillError) -> String {
    if lang == Lang::En {
        return e.to_string();
    }
    match e {
        TillError::Sale(m) => format!("{} ; rien n'a été enregistré.", or_detail(m)),
        TillError::NeedsServer(m) => format!(
            "la création d'un client demande le serveur : {}.",
            or_detail(m)
        ),
        TillError::Refused(m) => format!("le serveur a refusé : {}.", or_detail(m)),
        TillError::Receipt(m) => format!("ticket de caisse : {}.", or_detail(m)),
        TillError::Login(m) => format!("connexion du caissier : {}.", or_detail(m)),
        TillError::Unreachable { url, reason } => {
            format!("le service web {url} est injoignable ({reason}).")
        }
        TillError::Store(StoreError::Invalid(m)) => format!("{}.", or_detail(m)),
        TillError::Store(s) => format!("erreur de la base de la caisse ({s})."),
        other => format!("{}.", or_detail(&other.to_string())),
    }
}

/// A database error of the page's own reads, in the page's language.
pub(crate) fn store(lang: Lang, e: StoreError) -> String {
    refusal(lang, &TillError::Store(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_captured_in_order() {
        assert_eq!(
            captures(
                "unknown item {}: it is not in the till's ART table",
                "unknown item A1: it is not in the till's ART table"
            ),
            Some(vec!["A1"])
        );
        assert_eq!(
            captures("HTTP {}: {}", "HTTP 422: a: b"),
            Some(vec!["422", "a: b"])
        );
        assert_eq!(captures("field {}: {}", "other"), None);
        assert_eq!(
            captures(
                "{}; nothing was created at this till{}",
                "x; nothing was created at this till"
            ),
            Some(vec!["x", ""])
        );
    }

    #[test]
    fn sentences_and_nested_values_in_french() {
        let e = TillError::Sale("quantity 0 for item A is not allowed: it is zero".into());
        assert_eq!(
            refusal(Lang::Fr, &e),
            "la quantité 0 de l'article A n'est pas permise : elle est nulle ; rien n'a été enregistré."
        );
        assert_eq!(refusal(Lang::En, &e), e.to_string());
        let e = TillError::NeedsServer(
            "the web service at http://127.0.0.1:9/ is unreachable: connection refused; nothing was created at this till".into(),
        );
        assert_eq!(
            refusal(Lang::Fr, &e),
            "la création d'un client demande le serveur : le service web http://127.0.0.1:9/ est injoignable (connection refused) ; rien n'a été créé sur cette caisse."
        );
        let e = TillError::Store(StoreError::Invalid("something else entirely".into()));
        assert_eq!(
            refusal(Lang::Fr, &e),
            "erreur de la caisse (something else entirely)."
        );
        // Every sentence translates its own English (values kept).
        for (en, fr) in SENTENCES {
            let msg = en.replace("{}", "X");
            let got = sentence_fr(&msg).unwrap_or_else(|| panic!("{en}"));
            assert!(!got.is_empty() && (got != msg || en == fr), "{en}");
        }
    }
}
