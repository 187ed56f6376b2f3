//! The demo customers (`CLI`): the template customer, first and last
//! names, the cities of each store, e-mail addresses and phone numbers,
//! written reproducibly.

use std::collections::HashSet;

use rand::Rng;
use rand::rngs::StdRng;
use rusqlite::{Connection, params};

/// Code of the template customer that new customers are copied from.
pub const TEMPLATE_CUSTOMER: &str = "CLI000000";

/// Number of customers written, the template customer included.
pub const CUSTOMER_COUNT: usize = 200;

const FIRST_NAMES: &[&str] = &[
    "Marie",
    "Jean",
    "Camille",
    "Lucas",
    "Léa",
    "Hugo",
    "Chloé",
    "Louis",
    "Manon",
    "Gabriel",
    "Inès",
    "Arthur",
    "Jade",
    "Raphaël",
    "Louise",
    "Jules",
    "Emma",
    "Nathan",
    "Zoé",
    "Théo",
    "Élodie",
    "François",
    "Hélène",
    "Sébastien",
    "Céline",
    "Stéphane",
    "Nathalie",
    "Philippe",
    "Isabelle",
    "Olivier",
    "Sandrine",
    "Thierry",
    "Aurélie",
    "Benoît",
    "Mélanie",
    "Grégoire",
    "Anaïs",
    "Jérôme",
    "Océane",
    "Maël",
];

const LAST_NAMES: &[&str] = &[
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèbvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Lefort",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muller",
    "Henry",
    "Roussel",
    "Chevalier",
];

const CITIES_S01: &[&str] = &[
    "Lyon",
    "Lyon",
    "Lyon",
    "Villeurbanne",
    "Vénissieux",
    "Caluire-et-Cuire",
    "Bron",
    "Vaulx-en-Velin",
    "Oullins",
    "Écully",
];

const CITIES_S02: &[&str] = &[
    "Grenoble",
    "Grenoble",
    "Échirolles",
    "Saint-Martin-d'Hères",
    "Meylan",
    "Fontaine",
    "Seyssinet-Pariset",
    "Voiron",
];

const CITIES_OTHER: &[&str] = &["Paris", "Annecy", "Chambéry", "Saint-Étienne", "Valence"];

const MAIL_DOMAINS: &[&str] = &["example.com", "example.org", "example.net"];

/// Write the template customer and the other customers ([`CUSTOMER_COUNT`]
/// in all) into `CLI`, drawn from `rng`; returns how many.
pub(crate) fn insert_customers(conn: &Connection, rng: &mut StdRng) -> rusqlite::Result<usize> {
    let mut stmt = conn.prepare(
        "INSERT INTO CLI (code, name, email, city, store, phone, loyalty_points) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    stmt.execute(params![
        TEMPLATE_CUSTOMER,
        "Client modèle",
        None::<&str>,
        None::<&str>,
        None::<&str>,
        None::<&str>,
        0i64
    ])?;
    let mut emails = HashSet::new();
    for i in 1..CUSTOMER_COUNT {
        let first = FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())];
        let last = LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())];
        let (store, city) = match rng.gen_range(0..100) {
            0..=54 => (Some("S01"), CITIES_S01[rng.gen_range(0..CITIES_S01.len())]),
            55..=91 => (Some("S02"), CITIES_S02[rng.gen_range(0..CITIES_S02.len())]),
            _ => (None, CITIES_OTHER[rng.gen_range(0..CITIES_OTHER.len())]),
        };
        let email = if rng.gen_bool(0.85) {
            let local = format!("{}.{}", ascii_fold(first), ascii_fold(last));
            let domain = MAIL_DOMAINS[rng.gen_range(0..MAIL_DOMAINS.len())];
            let mut n = 1;
            let mut email = format!("{local}@{domain}");
            while !emails.insert(email.clone()) {
                n += 1;
                email = format!("{local}{n}@{domain}");
            }
            Some(email)
        } else {
            None
        };
        let phone = if rng.gen_bool(0.9) {
            let prefix = match (rng.gen_range(0..3), store) {
                // Lyon and Grenoble landlines: 04 7x / 04 76.
                (0, Some(_)) => "04 7",
                (1, _) => "07 ",
                _ => "06 ",
            };
            let mut p = String::from(prefix);
            let digits = if prefix.len() == 4 { 7 } else { 8 };
            for k in 0..digits {
                // Group as "0X XX XX XX XX".
                let pos = 10 - digits + k;
                if pos % 2 == 0 && k > 0 {
                    p.push(' ');
                }
                p.push(char::from(b'0' + rng.gen_range(0..10u8)));
            }
            Some(p)
        } else {
            None
        };
        let points: i64 = if rng.gen_bool(0.2) {
            0
        } else {
            rng.gen_range(10..=4000)
        };
        stmt.execute(params![
            format!("CLI{i:06}"),
            format!("{first} {last}"),
            email,
            city,
            store,
            phone,
            points
        ])?;
    }
    Ok(CUSTOMER_COUNT)
}

/// Lowercase ASCII for e-mail addresses: accents dropped, blanks and
/// apostrophes removed.
fn ascii_fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        let folded = match c {
            'à' | 'â' | 'ä' => "a",
            'ç' => "c",
            'é' | 'è' | 'ê' | 'ë' => "e",
            'î' | 'ï' => "i",
            'ô' | 'ö' => "o",
            'ù' | 'û' | 'ü' => "u",
            'ÿ' => "y",
            'œ' => "oe",
            'æ' => "ae",
            c if c.is_ascii_alphanumeric() || c == '-' => {
                out.push(c);
                continue;
            }
            _ => "",
        };
        out.push_str(folded);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_folding() {
        assert_eq!(ascii_fold("Hélène"), "helene");
        assert_eq!(ascii_fold("Lefèbvre"), "lefebvre");
        assert_eq!(ascii_fold("Maël"), "mael");
    }
}
