//! Domain types shared by the server and the till: POS folder configuration,
//! sync tables, identifiers and the package plan.
//!
//! # Layout
//! - [`ftp_address`]: the FTP address notations of the POS folder.
//! - [`ident`]: SQL identifier validation and quoting for table and column names.
//! - [`sync_table`]: sync table definitions (table, full/incremental, down/up, filter).
//! - [`config`]: the configuration files.
//!   - `config/error`: [`ConfigError`], and reading a configuration file.
//!   - `config/validate`: the value checks and parsers both files share.
//!   - `config/text_serde`: serde adapters for typed values stored as text.
//!   - `config/timings`: [`config::timings::SyncTimings`], the synchroniser's
//!     timings that both files hold.
//!   - `config/server`: [`ServerConfig`], the server's POS folder
//!     configuration file `tillsync.toml` (sections, defaults, load, save).
//!   - `config/keys`: [`config::KEYS`] and `ServerConfig::get`/`set` by key name.
//!   - `config/till`: [`TillConfig`], the till's configuration file `till.toml`.
//! - [`plan`]: which packages a till downloads, and why a full load.
//! - [`keys`]: the server's Ed25519 signing key file and public keys as hex.
//! - [`key_history`]: the till's key history (records signed by the server, their
//!   canonical encoding, the check of a history, the key valid at a time), key ids,
//!   the proof of possession of a till's key.
//! - [`ticket`]: tickets as fiscal records: totals, canonical hash chain, signature.
//!   - `ticket/types`: [`ticket::Ticket`], its JSON, the helpers closings use.
//!   - `ticket/quantity`: quantities in thousandths, read and written.
//!   - `ticket/amounts`: the rounding rules (weights, VAT, the ticket discount spread).
//!   - `ticket/error`: [`ticket::TicketError`] and [`ticket::ChainError`].
//!   - `ticket/seal`: [`ticket::Sale`]: checks, totals, sealing.
//!   - `ticket/encoding`: the canonical encodings (versions 1 and 2), digest, verification.
//!   - `ticket/content`: the server's content check of a version-2 ticket.
//! - [`fiscal`]: the fiscal records besides tickets (NF525).
//!   - `fiscal/local`: the folder's time zone, local dates and times.
//!   - `fiscal/record`: chained, signed records (event log, closings).
//!   - `fiscal/event`: the kinds of the event log (JET).
//!   - `fiscal/closing`: what a closing holds and how it adds up.
//!   - `fiscal/receipt`: the signed payload of a receipt's QR code, and its check.
//!   - `fiscal/base32`: base32 (RFC 4648), the encoding of that code's hash and signature.
//!   - `fiscal/filing`: the server's rule for filing a record, free of I/O.
//!   - `fiscal/error`: [`fiscal::error::FiscalError`].
//!   - `fiscal/ledger`: a till's tickets, events and closings in memory with
//!     their anchors, and which of them an archive of a period holds.
//!   - `fiscal/purge`: the purge rule: only archived, server-acknowledged records,
//!     each chain from its start.
//!   - `fiscal/verify`: the standalone verifier's checks over a ledger (the
//!     first break, or the counts): `report` (what it finds, a leaf), `keys`
//!     (till keys, fingerprints), `parallel` (threads), `signatures`
//!     (batches), `chains` (numbers, hashes, links), `tickets` (the field a
//!     change shows in), `closings` (totals computed again).
//! - [`chain`]: the server's rule for filing a ticket (duplicate, quarantine or accepted), free of I/O.
//! - [`customers`]: the customer rules free of I/O, for the server and the till.
//!   - `customers/conflict`: [`customers::conflict::ConflictPolicy`], whether the server
//!     changed a row since a till's version, who wins a conflict, the note the till gets.
//!   - `customers/fields`: the checks of the fields a till gives (column, code, values,
//!     name) and their messages.
//!   - `customers/codes`: the shape of the codes made from the template customer's code.
//! - [`pin`]: cashier PINs: their shape, their argon2id hash, the check of a typed PIN.
//! - [`secret`]: secret strings, masked in `Debug`; [`secret::constant_time_eq`].
//! - [`fsio`]: files replaced atomically and privately (mode 0600), folders fsynced.
//! - [`lang`]: the language of the web pages (French or English).

pub mod chain;
pub mod config;
pub mod customers;
pub mod fiscal;
pub mod fsio;
pub mod ftp_address;
pub mod ident;
pub mod key_history;
pub mod keys;
pub mod lang;
pub mod pin;
pub mod plan;
pub mod secret;
pub mod sync_table;
pub mod ticket;

pub use config::error::ConfigError;
pub use config::server::ServerConfig;
pub use config::till::TillConfig;
pub use ftp_address::FtpAddress;
pub use ident::IdentError;
pub use keys::KeyError;
pub use lang::Lang;
pub use secret::Secret;
pub use sync_table::{Direction, SyncTable, SyncTableError, SyncType};
