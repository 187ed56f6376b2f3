//! The demo's fixed reference rows: the stores, their tills (`STORE_TILL`)
//! and the French VAT rates (`T012`).

/// The demo stores: `(code, name)`.
pub const STORES: &[(&str, &str)] = &[("S01", "Lyon Part-Dieu"), ("S02", "Grenoble Victor-Hugo")];

/// The demo tills: `(till_id, store, label)`.
pub const TILLS: &[(&str, &str, &str)] = &[
    ("T001", "S01", "Lyon Part-Dieu – caisse 1"),
    ("T002", "S01", "Lyon Part-Dieu – caisse 2"),
    ("T003", "S02", "Grenoble Victor-Hugo – caisse 1"),
];

/// French VAT rates: `(code, label, rate in basis points)`.
pub const VAT_RATES: &[(&str, &str, i64)] = &[
    ("N", "TVA normale 20 %", 2000),
    ("I", "TVA intermédiaire 10 %", 1000),
    ("R", "TVA réduite 5,5 %", 550),
    ("P", "TVA particulière 2,1 %", 210),
];
