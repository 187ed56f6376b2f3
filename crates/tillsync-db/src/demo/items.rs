//! The demo items (`ART`): product families with their VAT rate, brands
//! and product lines, and the reproducible writing of the items with their
//! prices and EAN-13 barcodes.

use std::fmt::Write as _;

use rand::Rng;
use rand::rngs::StdRng;
use rusqlite::{Connection, params};

use crate::demo::ean::ean13_check_digit;

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

/// Write `items` items into `ART`, drawn from `rng`; returns how many.
pub(crate) fn insert_items(
    conn: &Connection,
    items: usize,
    rng: &mut StdRng,
) -> rusqlite::Result<usize> {
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
