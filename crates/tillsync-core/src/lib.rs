//! Domain types shared by the server and the till: POS folder configuration,
//! sync tables, identifiers and the package plan.
//!
//! # Layout
//! - [`ftp_address`]: the FTP address notations of the POS folder.
//! - [`ident`]: SQL identifier validation and quoting for table and column names.
//! - [`sync_table`]: sync table definitions (table, full/incremental, down/up, filter).
//! - [`config`]: the server's POS folder configuration file `tillsync.toml`.
//! - [`till_config`]: the till's configuration file `till.toml`.
//! - [`plan`]: which packages a till downloads, and why a full load.
//! - [`keys`]: the server's Ed25519 signing key file and public keys as hex.
//! - [`ticket`]: tickets as fiscal records: totals, canonical hash chain, signature.
//! - [`chain`]: the server's rule for filing a ticket (duplicate, quarantine or accepted), free of I/O.
//! - [`secret`]: secret strings, masked in `Debug`.
//! - [`lang`]: the language of the web pages (French or English).

pub mod chain;
pub mod config;
mod fsio;
pub mod ftp_address;
pub mod ident;
pub mod keys;
pub mod lang;
pub mod plan;
pub mod secret;
pub mod sync_table;
pub mod ticket;
pub mod till_config;

pub use config::{ConfigError, ServerConfig};
pub use ftp_address::FtpAddress;
pub use ident::IdentError;
pub use keys::KeyError;
pub use lang::Lang;
pub use secret::Secret;
pub use sync_table::{Direction, SyncTable, SyncTableError, SyncType};
pub use till_config::TillConfig;
