//! Finding items in the till's `ART` for the cashier page: by code (exact
//! or prefix), by barcode (exact or prefix) and by label (every word of the
//! query, anywhere, case-insensitive for ASCII letters).
//!
//! The columns are read from the table itself: `code`, `label` and
//! `price_cents` are required (the sale prices from them); the barcode
//! column is optional (`barcode`, or `ean`, `ean13`, `gencod`): without one,
//! the search says so and looks at codes and labels only.

use rusqlite::Connection;
use tillsync_core::lang::Lang;
use tillsync_db::sql::q;
use tillsync_db::{StoreError, introspect};

/// The items table.
pub const ITEM_TABLE: &str = "ART";
/// Columns a barcode may be held in, in order of preference.
pub const BARCODE_COLUMNS: &[&str] = &["barcode", "ean", "ean13", "gencod"];
/// Most rows a search returns.
pub const MAX_RESULTS: usize = 50;

/// One item found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundItem {
    /// Code.
    pub code: String,
    /// Label.
    pub label: String,
    /// Unit price including VAT, cents.
    pub price_cents: i64,
    /// Barcode, when the table has one and the item too.
    pub barcode: Option<String>,
}

/// What a search found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// Items, exact code or barcode matches first, then by code.
    pub items: Vec<FoundItem>,
    /// More than [`MAX_RESULTS`] matched.
    pub truncated: bool,
    /// The table has no barcode column (barcodes were not searched).
    pub no_barcode_column: bool,
}

/// Why a search could not run.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// `ART` was never loaded.
    #[error(
        "the till has no items yet (table ART was never loaded): run `tillsync till sync` first"
    )]
    NotLoaded,
    /// A required column is missing.
    #[error("table ART has no column {column}; its columns are: {columns}")]
    MissingColumn {
        /// The column looked for.
        column: &'static str,
        /// The columns it has.
        columns: String,
    },
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for SearchError {
    fn from(e: rusqlite::Error) -> Self {
        SearchError::Store(e.into())
    }
}

impl SearchError {
    /// The message in the page's language.
    pub fn message(&self, lang: Lang) -> String {
        match (lang, self) {
            (Lang::Fr, SearchError::NotLoaded) => "La caisse n'a pas encore d'articles (la table ART n'a jamais été chargée) : lancez d'abord `tillsync till sync`.".into(),
            (Lang::Fr, SearchError::MissingColumn { column, columns }) => format!(
                "La table ART n'a pas de colonne {column} : la recherche d'articles est impossible. Ses colonnes : {columns}."
            ),
            (Lang::Fr, SearchError::Store(e)) => {
                format!("Recherche impossible : erreur de la base de la caisse ({e}).")
            }
            (Lang::En, _) => self.to_string(),
        }
    }
}

/// Escape `%`, `_` and `\` for `LIKE … ESCAPE '\'`.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Search `ART` for `query` (trimmed; an empty query finds nothing).
pub fn search(conn: &Connection, query: &str) -> Result<Found, SearchError> {
    let query = query.trim();
    let table = introspect::table_name(conn, ITEM_TABLE)?.ok_or(SearchError::NotLoaded)?;
    let layout = introspect::layout(conn, &table)?;
    let column = |name: &str| {
        layout
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .map(|c| c.name.clone())
    };
    let required = |name: &'static str| {
        column(name).ok_or_else(|| SearchError::MissingColumn {
            column: name,
            columns: layout
                .columns
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
    };
    let code = required("code")?;
    let label = required("label")?;
    let price = required("price_cents")?;
    let barcode = BARCODE_COLUMNS.iter().find_map(|b| column(b));
    let mut found = Found {
        no_barcode_column: barcode.is_none(),
        ..Found::default()
    };
    if query.is_empty() {
        return Ok(found);
    }
    // ?1 the query, ?2 its prefix pattern, ?3.. one pattern per word.
    let words: Vec<&str> = query.split_whitespace().take(8).collect();
    let mut params: Vec<String> = vec![query.to_string(), format!("{}%", like_escape(query))];
    let mut label_match = Vec::new();
    for w in &words {
        params.push(format!("%{}%", like_escape(w)));
        label_match.push(format!("{} LIKE ?{} ESCAPE '\\'", q(&label), params.len()));
    }
    let (code, label, price) = (q(&code), q(&label), q(&price));
    let mut exact = format!("{code} = ?1 COLLATE NOCASE");
    let mut any = format!("{exact} OR {code} LIKE ?2 ESCAPE '\\'");
    let bar_select = match &barcode {
        Some(b) => {
            let b = q(b);
            exact = format!("{exact} OR {b} = ?1");
            any = format!("{any} OR {b} = ?1 OR {b} LIKE ?2 ESCAPE '\\'");
            format!("CAST({b} AS TEXT)")
        }
        None => "NULL".to_string(),
    };
    let sql = format!(
        "SELECT {code}, {label}, {price}, {bar_select} FROM {} \
         WHERE {any} OR ({}) \
         ORDER BY ({exact}) DESC, {code} LIMIT {}",
        q(&table),
        label_match.join(" AND "),
        MAX_RESULTS + 1
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), |r| {
        Ok(FoundItem {
            code: r.get(0)?,
            label: r.get(1)?,
            price_cents: r.get(2)?,
            barcode: r.get(3)?,
        })
    })?;
    for row in rows {
        found.items.push(row?);
    }
    if found.items.len() > MAX_RESULTS {
        found.items.truncate(MAX_RESULTS);
        found.truncated = true;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        tillsync_db::demo::create_demo_tables(&c, 300, 7).unwrap();
        c
    }

    fn codes(f: &Found) -> Vec<&str> {
        f.items.iter().map(|i| i.code.as_str()).collect()
    }

    #[test]
    fn finds_demo_items_by_code_label_and_barcode() {
        let c = demo();
        // By exact code, any case: that item first.
        let f = search(&c, "art0000012").unwrap();
        assert_eq!(codes(&f), ["ART0000012"]);
        assert!(!f.no_barcode_column);
        // By code prefix.
        let f = search(&c, "ART000001").unwrap();
        assert_eq!(f.items.len(), 10, "{:?}", codes(&f));
        // By barcode, exact: the item that carries it.
        let (code, bar): (String, String) = c
            .query_row(
                "SELECT code, barcode FROM ART WHERE barcode IS NOT NULL ORDER BY code DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let f = search(&c, &bar).unwrap();
        assert_eq!(f.items[0].code, code);
        assert_eq!(f.items[0].barcode.as_deref(), Some(bar.as_str()));
        // By label words, anywhere, any case.
        let (code, label): (String, String) = c
            .query_row(
                "SELECT code, label FROM ART WHERE code = 'ART0000100'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let words: Vec<&str> = label.split_whitespace().collect();
        let (first, last) = (words[0], *words.last().unwrap());
        let q = format!(
            "{} {}",
            last.to_ascii_lowercase(),
            first.to_ascii_uppercase()
        );
        let f = search(&c, &q).unwrap();
        assert!(codes(&f).contains(&code.as_str()), "{q}: {:?}", codes(&f));
        for i in &f.items {
            let l = i.label.to_ascii_lowercase();
            assert!(
                l.contains(&first.to_ascii_lowercase()) && l.contains(&last.to_ascii_lowercase()),
                "{q} found {}",
                i.label
            );
        }
        // Many matches are cut.
        let f = search(&c, "ART").unwrap();
        assert_eq!(f.items.len(), MAX_RESULTS);
        assert!(f.truncated);
        // Nothing, and wildcards are taken literally.
        assert!(search(&c, "").unwrap().items.is_empty());
        assert!(search(&c, "zzzz-none").unwrap().items.is_empty());
        for w in ["%", "_"] {
            let f = search(&c, w).unwrap();
            assert!(
                f.items.iter().all(|i| i.label.contains(w)),
                "{w}: {:?}",
                codes(&f)
            );
            assert!(f.items.len() < MAX_RESULTS, "{w} taken as a wildcard");
        }
    }

    #[test]
    fn without_a_barcode_column_it_says_so_and_without_art_it_names_the_fix() {
        let c = Connection::open_in_memory().unwrap();
        let e = search(&c, "x").unwrap_err();
        assert!(matches!(e, SearchError::NotLoaded));
        assert!(e.message(Lang::En).contains("till sync"));
        c.execute_batch(
            "CREATE TABLE ART(code TEXT PRIMARY KEY, label TEXT NOT NULL, price_cents INTEGER NOT NULL, vat_rate_bp INTEGER NOT NULL);
             INSERT INTO ART VALUES ('A1', 'Baguette', 120, 550);",
        )
        .unwrap();
        let f = search(&c, "bag").unwrap();
        assert!(f.no_barcode_column);
        assert_eq!(codes(&f), ["A1"]);
        c.execute_batch(
            "CREATE TABLE ART2(code TEXT PRIMARY KEY, name TEXT); DROP TABLE ART; ALTER TABLE ART2 RENAME TO ART;",
        )
        .unwrap();
        let e = search(&c, "bag").unwrap_err();
        let msg = e.message(Lang::Fr);
        assert!(
            msg.contains("colonne label") && msg.contains("code, name"),
            "{msg}"
        );
    }
}
