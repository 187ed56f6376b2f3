//! Demo business data: realistic French retail tables (items `ART`, customers
//! `CLI`, VAT rates `T012`, tills `STORE_TILL`), reproducible from a seed.

use std::collections::HashSet;
use std::fmt::Write as _;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::{Connection, params};

/// How many rows [`create_demo_tables`] wrote in each table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemoCounts {
    /// Rows in `ART`.
    pub items: usize,
    /// Rows in `CLI`, the template customer included.
    pub customers: usize,
    /// Rows in `T012`.
    pub vat_rates: usize,
    /// Rows in `STORE_TILL`.
    pub tills: usize,
}

/// Code of the template customer that new customers are copied from.
pub const TEMPLATE_CUSTOMER: &str = "CLI000000";

/// Number of customers written, the template customer included.
pub const CUSTOMER_COUNT: usize = 200;

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

const SCHEMA: &str = "
CREATE TABLE ART (
    code TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    price_cents INTEGER NOT NULL,
    vat_rate_bp INTEGER NOT NULL,
    barcode TEXT,
    family TEXT,
    unit TEXT
);
CREATE TABLE CLI (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT,
    city TEXT,
    store TEXT,
    phone TEXT,
    loyalty_points INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE T012 (
    code TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    rate_bp INTEGER NOT NULL
);
CREATE TABLE STORE_TILL (
    till_id TEXT PRIMARY KEY,
    store TEXT NOT NULL,
    label TEXT
);
";

/// Creates `ART`, `CLI`, `T012` and `STORE_TILL` and fills them, all in one
/// transaction: `items` items, [`CUSTOMER_COUNT`] customers (the template
/// customer [`TEMPLATE_CUSTOMER`] included), the French VAT rates and three
/// tills in two stores.
///
/// The same `seed` gives the same rows; customers do not depend on `items`.
/// Fails (and writes nothing) if one of the tables already exists or a
/// transaction is already open on `conn`.
pub fn create_demo_tables(
    conn: &Connection,
    items: usize,
    seed: u64,
) -> rusqlite::Result<DemoCounts> {
    let tx = conn.unchecked_transaction()?;
    tx.execute_batch(SCHEMA)?;

    let mut counts = DemoCounts::default();
    {
        let mut stmt = tx.prepare("INSERT INTO T012 (code, label, rate_bp) VALUES (?1, ?2, ?3)")?;
        for (code, label, rate) in VAT_RATES {
            stmt.execute(params![code, label, rate])?;
            counts.vat_rates += 1;
        }
    }
    {
        let mut stmt =
            tx.prepare("INSERT INTO STORE_TILL (till_id, store, label) VALUES (?1, ?2, ?3)")?;
        for (till, store, label) in TILLS {
            stmt.execute(params![till, store, label])?;
            counts.tills += 1;
        }
    }
    counts.items = insert_items(&tx, items, &mut StdRng::seed_from_u64(seed))?;
    counts.customers = insert_customers(
        &tx,
        &mut StdRng::seed_from_u64(seed ^ 0x9E37_79B9_7F4A_7C15),
    )?;
    tx.commit()?;
    Ok(counts)
}

// ---- items ----

/// A product line: name, then `(size, typical price in cents)` choices.
type Product = (&'static str, &'static [(&'static str, u32)]);

struct Family {
    code: &'static str,
    vat_bp: i64,
    /// Brand-like qualifiers and their price factor in percent.
    qualifiers: &'static [(&'static str, u32)],
    products: &'static [Product],
    /// Prices end in 9 (shelf) or 0 (restaurant menu).
    ends_in_zero: bool,
    /// Whether items carry an EAN-13 barcode.
    barcode: bool,
}

const FOOD_BRANDS: &[(&str, u32)] = &[
    ("", 100),
    ("", 100),
    (" bio", 135),
    (" Premier Prix", 72),
    (" Maison Dubois", 120),
    (" Les Prés Verts", 112),
    (" Terre d'Origine", 125),
    (" Saveurs d'Antan", 118),
    (" Le Petit Fermier", 108),
    (" La Belle Normande", 115),
    (" extra", 110),
];

const DRINK_BRANDS: &[(&str, u32)] = &[
    ("", 100),
    (" bio", 130),
    (" Premier Prix", 70),
    (" Source des Alpes", 105),
    (" Les Vergers d'Hélène", 120),
];

const WINE_BRANDS: &[(&str, u32)] = &[
    ("", 100),
    (" bio", 120),
    (" Château Lamarque", 160),
    (" Domaine des Trois Chênes", 140),
    (" Cuvée Prestige", 185),
    (" Les Coteaux d'Or", 115),
];

const HOUSE_BRANDS: &[(&str, u32)] = &[
    ("", 100),
    (" Éco", 80),
    (" Premier Prix", 65),
    (" Maison Lavande", 115),
    (" écologique", 125),
    (" Pro", 140),
];

const NO_BRANDS: &[(&str, u32)] = &[("", 100)];

const FAMILIES: &[Family] = &[
    Family {
        code: "CREMERIE",
        vat_bp: 550,
        qualifiers: FOOD_BRANDS,
        ends_in_zero: false,
        barcode: true,
        products: &[
            (
                "Yaourt nature",
                &[("4x125g", 129), ("8x125g", 239), ("12x125g", 329)],
            ),
            ("Yaourt aux fruits", &[("4x125g", 169), ("8x125g", 299)]),
            ("Yaourt à la grecque", &[("4x150g", 249)]),
            ("Lait demi-écrémé UHT", &[("1L", 109), ("6x1L", 599)]),
            ("Lait entier", &[("1L", 129)]),
            ("Beurre doux", &[("250g", 289), ("500g", 519)]),
            ("Beurre demi-sel", &[("250g", 299)]),
            ("Crème fraîche épaisse", &[("20cl", 159), ("50cl", 319)]),
            ("Camembert de Normandie AOP", &[("250g", 329)]),
            ("Comté AOP 18 mois", &[("200g", 459), ("400g", 849)]),
            ("Emmental râpé", &[("200g", 219), ("500g", 469)]),
            ("Fromage blanc 3,2%", &[("500g", 229), ("1kg", 399)]),
            ("Œufs plein air", &[("x6", 249), ("x12", 449)]),
            ("Mozzarella", &[("125g", 119)]),
            ("Crème dessert chocolat", &[("4x125g", 179)]),
        ],
    },
    Family {
        code: "BOULANGERIE",
        vat_bp: 550,
        qualifiers: &[("", 100), (" bio", 130), (" Maison Dubois", 115)],
        ends_in_zero: false,
        barcode: true,
        products: &[
            ("Baguette tradition", &[("250g", 129)]),
            ("Baguette", &[("250g", 99)]),
            ("Pain de campagne", &[("400g", 259), ("800g", 449)]),
            ("Croissant pur beurre", &[("x1", 119), ("x6", 549)]),
            ("Pain au chocolat", &[("x1", 129), ("x6", 599)]),
            ("Brioche tranchée", &[("500g", 289)]),
            ("Pain de mie complet", &[("500g", 229)]),
            ("Pain aux céréales", &[("400g", 289)]),
            ("Chouquettes", &[("x12", 349)]),
        ],
    },
    Family {
        code: "EPICERIE_SALEE",
        vat_bp: 550,
        qualifiers: FOOD_BRANDS,
        ends_in_zero: false,
        barcode: true,
        products: &[
            ("Pâtes penne", &[("500g", 129), ("1kg", 229)]),
            ("Spaghetti", &[("500g", 119), ("1kg", 219)]),
            ("Coquillettes", &[("500g", 109)]),
            ("Riz basmati", &[("500g", 219), ("1kg", 389)]),
            ("Huile d'olive vierge extra", &[("50cl", 599), ("1L", 1099)]),
            ("Huile de tournesol", &[("1L", 239)]),
            ("Moutarde de Dijon", &[("210g", 159), ("370g", 249)]),
            ("Lentilles vertes", &[("500g", 229)]),
            ("Sauce tomate basilic", &[("400g", 189), ("690g", 279)]),
            ("Thon au naturel", &[("140g", 259), ("3x93g", 549)]),
            ("Sardines à l'huile d'olive", &[("115g", 219)]),
            ("Sel de Guérande", &[("1kg", 329)]),
            ("Farine de blé T55", &[("1kg", 119)]),
            ("Haricots verts extra-fins", &[("400g", 199)]),
            ("Chips nature", &[("150g", 169), ("300g", 289)]),
            ("Cassoulet", &[("840g", 449)]),
        ],
    },
    Family {
        code: "EPICERIE_SUCREE",
        vat_bp: 550,
        qualifiers: FOOD_BRANDS,
        ends_in_zero: false,
        barcode: true,
        products: &[
            (
                "Café moulu arabica",
                &[("250g", 349), ("500g", 649), ("1kg", 1199)],
            ),
            ("Café en grains", &[("1kg", 1399)]),
            ("Thé vert", &[("x20 sachets", 249)]),
            ("Chocolat noir 70%", &[("100g", 189), ("200g", 349)]),
            ("Chocolat au lait", &[("100g", 169)]),
            ("Confiture de fraises", &[("370g", 269)]),
            ("Confiture d'abricots", &[("370g", 259)]),
            ("Miel de fleurs", &[("500g", 549)]),
            ("Biscuits sablés", &[("200g", 179)]),
            ("Petits beurre", &[("200g", 149)]),
            ("Céréales muesli", &[("500g", 319)]),
            ("Sucre en poudre", &[("1kg", 129)]),
            ("Pâte à tartiner noisettes", &[("400g", 329), ("750g", 549)]),
            ("Madeleines", &[("250g", 219)]),
        ],
    },
    Family {
        code: "FRUITS_LEGUMES",
        vat_bp: 550,
        qualifiers: &[
            ("", 100),
            (" bio", 140),
            (" de France", 110),
            (" catégorie 1", 100),
        ],
        ends_in_zero: false,
        barcode: true,
        products: &[
            ("Pommes Golden", &[("au kg", 239), ("sachet 1,5kg", 329)]),
            ("Bananes", &[("au kg", 199)]),
            ("Tomates grappe", &[("au kg", 349)]),
            ("Carottes", &[("au kg", 149), ("sachet 1kg", 159)]),
            ("Pommes de terre", &[("sachet 2,5kg", 349)]),
            ("Courgettes", &[("au kg", 279)]),
            ("Oranges à jus", &[("filet 2kg", 399)]),
            ("Salade batavia", &[("pièce", 119)]),
            ("Clémentines", &[("au kg", 329)]),
            ("Avocats", &[("x2", 249)]),
            ("Oignons jaunes", &[("filet 1kg", 179)]),
            ("Fraises", &[("barquette 250g", 349)]),
        ],
    },
    Family {
        code: "BOUCHERIE",
        vat_bp: 550,
        qualifiers: FOOD_BRANDS,
        ends_in_zero: false,
        barcode: true,
        products: &[
            ("Jambon blanc", &[("4 tranches", 299), ("8 tranches", 549)]),
            ("Saucisson sec", &[("250g", 399)]),
            ("Steak haché 5%", &[("2x125g", 399), ("10x100g", 1199)]),
            ("Poulet fermier", &[("au kg", 899)]),
            ("Rillettes du Mans", &[("220g", 289)]),
            ("Pâté de campagne", &[("180g", 219)]),
            ("Saucisses de Toulouse", &[("x4", 469)]),
            ("Escalope de dinde", &[("x2", 549)]),
            ("Lardons fumés", &[("2x100g", 229)]),
        ],
    },
    Family {
        code: "BOISSONS",
        vat_bp: 550,
        qualifiers: DRINK_BRANDS,
        ends_in_zero: false,
        barcode: true,
        products: &[
            ("Eau minérale naturelle", &[("1,5L", 59), ("6x1,5L", 329)]),
            ("Eau gazeuse", &[("1L", 79), ("6x1L", 429)]),
            ("Jus d'orange pressée", &[("1L", 299)]),
            ("Jus de pomme", &[("1L", 219)]),
            ("Limonade", &[("1,5L", 149)]),
            ("Soda cola", &[("1,5L", 189), ("6x33cl", 449)]),
            ("Sirop de grenadine", &[("75cl", 269)]),
            ("Thé glacé pêche", &[("1,5L", 199)]),
        ],
    },
    Family {
        code: "CAVE",
        vat_bp: 2000,
        qualifiers: WINE_BRANDS,
        ends_in_zero: false,
        barcode: true,
        products: &[
            ("Vin rouge Bordeaux AOC", &[("75cl", 599)]),
            ("Côtes du Rhône rouge", &[("75cl", 549)]),
            ("Beaujolais-Villages", &[("75cl", 699)]),
            ("Rosé de Provence", &[("75cl", 799)]),
            ("Muscadet sur lie", &[("75cl", 549)]),
            ("Champagne brut", &[("75cl", 2499)]),
            ("Crémant d'Alsace", &[("75cl", 999)]),
            ("Bière blonde", &[("6x25cl", 449), ("75cl", 289)]),
            ("Bière blanche", &[("6x25cl", 529)]),
            ("Cidre brut", &[("75cl", 299)]),
            ("Pastis", &[("70cl", 1899)]),
        ],
    },
    Family {
        code: "DROGUERIE",
        vat_bp: 2000,
        qualifiers: HOUSE_BRANDS,
        ends_in_zero: false,
        barcode: true,
        products: &[
            ("Lessive liquide", &[("1,5L", 649), ("3L", 1099)]),
            ("Liquide vaisselle", &[("500ml", 179)]),
            ("Papier toilette", &[("x6", 329), ("x12", 589)]),
            ("Essuie-tout", &[("x2", 249)]),
            ("Shampooing", &[("250ml", 299)]),
            ("Gel douche", &[("250ml", 249)]),
            ("Dentifrice", &[("75ml", 199)]),
            ("Éponges", &[("x3", 189)]),
            ("Nettoyant multi-surfaces", &[("750ml", 279)]),
            ("Savon de Marseille", &[("300g", 269)]),
        ],
    },
    Family {
        code: "MAISON",
        vat_bp: 2000,
        qualifiers: HOUSE_BRANDS,
        ends_in_zero: false,
        barcode: true,
        products: &[
            ("Ampoule LED E27", &[("x1", 399), ("x3", 999)]),
            ("Piles alcalines AA", &[("x4", 499), ("x8", 849)]),
            ("Bougie parfumée", &[("180g", 699)]),
            ("Torchon coton", &[("x2", 599)]),
            ("Sacs congélation", &[("x30", 229)]),
            ("Film alimentaire", &[("30m", 219)]),
            ("Allumettes", &[("x10 boîtes", 199)]),
        ],
    },
    Family {
        code: "RESTAURATION",
        vat_bp: 1000,
        qualifiers: NO_BRANDS,
        ends_in_zero: true,
        barcode: false,
        products: &[
            ("Sandwich jambon beurre", &[("", 450)]),
            ("Café expresso", &[("", 150)]),
            ("Cappuccino", &[("", 320)]),
            ("Croque-monsieur", &[("", 550)]),
            ("Salade César", &[("", 890)]),
            ("Formule déjeuner", &[("", 1090)]),
            ("Part de quiche lorraine", &[("", 420)]),
            ("Plat du jour", &[("", 1250)]),
            ("Croissant et café", &[("", 290)]),
        ],
    },
];

fn insert_items(conn: &Connection, items: usize, rng: &mut StdRng) -> rusqlite::Result<usize> {
    // Every product line of every family, picked uniformly: big families get more items.
    let lines: Vec<(&Family, &Product)> = FAMILIES
        .iter()
        .flat_map(|f| f.products.iter().map(move |p| (f, p)))
        .collect();

    // Barcodes: a bijection of the item index onto 300000000000..=379999999999
    // (French GS1 prefixes 300-379), so they are unique without bookkeeping.
    const SPAN: u64 = 8_000_000_000 * 10;
    const MULT: u128 = 48_271_394_317; // odd and not a multiple of 5: coprime with SPAN
    let offset = rng.gen_range(0..SPAN);

    let mut stmt = conn.prepare(
        "INSERT INTO ART (code, label, price_cents, vat_rate_bp, barcode, family, unit) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut code = String::with_capacity(16);
    let mut label = String::with_capacity(96);
    let mut barcode = String::with_capacity(13);
    for i in 0..items {
        let (family, (name, sizes)) = lines[rng.gen_range(0..lines.len())];
        let (size, base) = sizes[rng.gen_range(0..sizes.len())];
        let (qualifier, factor) = family.qualifiers[rng.gen_range(0..family.qualifiers.len())];

        code.clear();
        write!(code, "ART{:07}", i + 1).expect("write to String");
        label.clear();
        label.push_str(name);
        label.push_str(qualifier);
        if !size.is_empty() {
            label.push(' ');
            label.push_str(size);
        }

        let jitter = rng.gen_range(88..=112u64);
        let raw = u64::from(base) * u64::from(factor) * jitter / 10_000;
        let price = if family.ends_in_zero {
            (raw.div_ceil(10) * 10).max(10)
        } else {
            // Shelf prices end in 9: 1.29, 2.49…
            (raw / 10 * 10 + 9).max(19)
        };
        let unit = if size.starts_with("au kg") { "KG" } else { "U" };

        let code_bar = if family.barcode {
            let scattered = (i as u128 * MULT % u128::from(SPAN)) as u64;
            let body = 300_000_000_000 + (scattered + offset) % SPAN;
            barcode.clear();
            write!(barcode, "{body}{}", ean13_check_digit(body)).expect("write to String");
            Some(barcode.as_str())
        } else {
            None
        };

        stmt.execute(params![
            code,
            label,
            price as i64,
            family.vat_bp,
            code_bar,
            family.code,
            unit
        ])?;
    }
    Ok(items)
}

/// The EAN-13 check digit of a 12-digit body.
pub fn ean13_check_digit(body: u64) -> u32 {
    let mut sum = 0u32;
    let mut rest = body;
    // Rightmost body digit has weight 3, then alternating 1, 3…
    for pos in 0..12 {
        let d = (rest % 10) as u32;
        rest /= 10;
        sum += if pos % 2 == 0 { 3 * d } else { d };
    }
    (10 - sum % 10) % 10
}

/// Whether `code` is a 13-digit EAN with a correct check digit.
pub fn is_valid_ean13(code: &str) -> bool {
    code.len() == 13
        && code.bytes().all(|b| b.is_ascii_digit())
        && code[..12]
            .parse::<u64>()
            .is_ok_and(|body| ean13_check_digit(body) == u32::from(code.as_bytes()[12] - b'0'))
}

// ---- customers ----

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

fn insert_customers(conn: &Connection, rng: &mut StdRng) -> rusqlite::Result<usize> {
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

    fn dump(conn: &Connection) -> Vec<String> {
        let mut rows = Vec::new();
        for table in ["ART", "CLI", "T012", "STORE_TILL"] {
            let mut stmt = conn
                .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY 1"))
                .unwrap();
            let n = stmt.column_count();
            let mut q = stmt.query([]).unwrap();
            while let Some(r) = q.next().unwrap() {
                let cells: Vec<String> = (0..n)
                    .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                    .collect();
                rows.push(format!("{table}|{}", cells.join("|")));
            }
        }
        rows
    }

    fn count(conn: &Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn counts_and_content() {
        let conn = Connection::open_in_memory().unwrap();
        let c = create_demo_tables(&conn, 2000, 42).unwrap();
        assert_eq!(
            c,
            DemoCounts {
                items: 2000,
                customers: CUSTOMER_COUNT,
                vat_rates: 4,
                tills: 3
            }
        );
        assert_eq!(count(&conn, "SELECT count(*) FROM ART"), 2000);
        assert_eq!(count(&conn, "SELECT count(*) FROM CLI"), 200);
        assert_eq!(count(&conn, "SELECT count(*) FROM T012"), 4);
        assert_eq!(count(&conn, "SELECT count(*) FROM STORE_TILL"), 3);

        let first: String = conn
            .query_row("SELECT code FROM ART ORDER BY code LIMIT 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(first, "ART0000001");

        // Barcodes: valid EAN-13, French prefix, unique.
        let mut stmt = conn
            .prepare("SELECT barcode FROM ART WHERE barcode IS NOT NULL")
            .unwrap();
        let codes: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(codes.len() > 1500);
        let unique: HashSet<&String> = codes.iter().collect();
        assert_eq!(unique.len(), codes.len());
        for code in &codes {
            assert!(is_valid_ean13(code), "{code}");
            let prefix: u32 = code[..3].parse().unwrap();
            assert!((300..=379).contains(&prefix), "{code}");
        }

        // One VAT rate per family, consistent with the kind of goods.
        for (family, vat) in [
            ("CREMERIE", 550),
            ("CAVE", 2000),
            ("DROGUERIE", 2000),
            ("RESTAURATION", 1000),
        ] {
            let rates = count(
                &conn,
                &format!(
                    "SELECT count(*) FROM ART WHERE family = '{family}' AND vat_rate_bp <> {vat}"
                ),
            );
            assert_eq!(rates, 0, "{family}");
        }
        assert_eq!(
            count(&conn, "SELECT count(*) FROM ART WHERE price_cents <= 0"),
            0
        );
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM ART WHERE vat_rate_bp NOT IN (SELECT rate_bp FROM T012)"
            ),
            0
        );

        // The template customer, all-store customers, unique e-mails.
        let (name, store): (String, Option<String>) = conn
            .query_row(
                "SELECT name, store FROM CLI WHERE code = ?1",
                [TEMPLATE_CUSTOMER],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(name, "Client modèle");
        assert_eq!(store, None);
        assert!(count(&conn, "SELECT count(*) FROM CLI WHERE store IS NULL") > 1);
        assert!(count(&conn, "SELECT count(*) FROM CLI WHERE store = 'S01'") > 50);
        assert!(count(&conn, "SELECT count(*) FROM CLI WHERE store = 'S02'") > 50);
        assert_eq!(
            count(
                &conn,
                "SELECT count(email) - count(DISTINCT email) FROM CLI"
            ),
            0
        );
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM CLI WHERE store IS NOT NULL AND store NOT IN (SELECT store FROM STORE_TILL)"
            ),
            0
        );
    }

    #[test]
    fn same_seed_same_rows() {
        let a = Connection::open_in_memory().unwrap();
        let b = Connection::open_in_memory().unwrap();
        create_demo_tables(&a, 500, 7).unwrap();
        create_demo_tables(&b, 500, 7).unwrap();
        assert_eq!(dump(&a), dump(&b));

        let c = Connection::open_in_memory().unwrap();
        create_demo_tables(&c, 500, 8).unwrap();
        assert_ne!(dump(&a), dump(&c));
    }

    #[test]
    fn second_run_fails_and_writes_nothing() {
        let conn = Connection::open_in_memory().unwrap();
        create_demo_tables(&conn, 10, 1).unwrap();
        assert!(create_demo_tables(&conn, 10, 1).is_err());
        assert_eq!(count(&conn, "SELECT count(*) FROM ART"), 10);
        assert!(conn.is_autocommit());
    }

    #[test]
    fn ean13_check_digit_known_values() {
        // Known valid EAN-13 codes.
        assert!(is_valid_ean13("3017620422003"));
        assert!(is_valid_ean13("4006381333931"));
        assert!(!is_valid_ean13("3017620422004"));
        assert!(!is_valid_ean13("301762042200"));
        assert_eq!(ean13_check_digit(301_762_042_200), 3);
    }

    #[test]
    fn email_folding() {
        assert_eq!(ascii_fold("Hélène"), "helene");
        assert_eq!(ascii_fold("Lefèbvre"), "lefebvre");
        assert_eq!(ascii_fold("Maël"), "mael");
    }
}
