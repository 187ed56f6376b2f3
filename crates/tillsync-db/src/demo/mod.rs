//! Demo business data: realistic French retail tables (items `ART`, customers
//! `CLI`, VAT rates `T012`, tills `STORE_TILL`, store identities `STORE`,
//! cashiers `CASHIER`), reproducible from a seed.
//!
//! # Layout
//! - [`tables`]: the tables' SQL and [`create_demo_tables`], which creates and fills them.
//! - [`stores`]: the stores' identities (`STORE`) and the cashiers (`CASHIER`).
//! - `items`: product families, brands and product lines; writing `ART`.
//! - [`customers`]: the template customer, names and cities; writing `CLI`.
//! - [`reference`](mod@reference): the fixed rows: stores, tills, French VAT rates.
//! - [`ean`]: EAN-13 check digits.
//!
//! The re-exports below keep the `tillsync_db::demo::…` paths of the other
//! crates; inside this crate, items are imported from their module.

pub mod customers;
pub mod ean;
mod items;
pub mod reference;
pub mod stores;
pub mod tables;

pub use customers::{CUSTOMER_COUNT, TEMPLATE_CUSTOMER};
pub use ean::{ean13_check_digit, is_valid_ean13};
pub use reference::{STORES, TILLS, VAT_RATES};
pub use tables::{DEMO_TABLES, DemoCounts, create_demo_tables};
