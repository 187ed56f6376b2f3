//! The configuration files: the server's POS folder configuration
//! `DIR/tillsync.toml` and the till's `TDIR/till.toml`.
//!
//! - `error`: [`ConfigError`] and the reading of a configuration file.
//! - `validate`: the value checks and parsers both files share.
//! - `text_serde`: serde adapters for typed values stored as text.
//! - `timings`: [`SyncTimings`](crate::config::timings::SyncTimings), the
//!   synchroniser's timings both files hold.
//! - `server`: [`ServerConfig`], `tillsync.toml`: sections, defaults, load,
//!   save, validation.
//! - `keys`: [`KEYS`] and `ServerConfig::get`/`set` by key name.
//! - `till`: [`TillConfig`](crate::TillConfig), `till.toml`
//!   ([`till`] and [`timings`] are public for the till crates).

pub(crate) mod error;
pub(crate) mod keys;
pub(crate) mod server;
pub(crate) mod text_serde;
pub mod till;
pub mod timings;
pub(crate) mod validate;

// The former `config.rs` paths, for other crates (`tillsync_core::config::KEYS`…).
pub use error::ConfigError;
pub use keys::KEYS;
pub use server::{
    DbSection, DbUrl, ExportSection, FILE_NAME, FolderSection, FtpMode, FtpSection,
    GENERATED_PASSWORD_LEN, ServerConfig, ServerSection, TillSection, UiSection, redact_db_url,
};
