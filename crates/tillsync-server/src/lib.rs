//! The server: its data folder, the export job that builds and publishes
//! packages, the web service the tills call, the "Test connection" checks and
//! deployment packages.
//!
//! # Layout
//! - [`data`]: the server data folder (`tillsync.toml`, signing key, database) and `server init`.
//! - [`database`]: the server database named by `db.url` (SQLite or PostgreSQL).
//! - [`export`]: the export job (full and incremental packages, atomic publication, retention).
//! - [`web`]: the HTTP web service under `/api/v1`.
//! - [`ingest`]: `POST /api/v1/outbox` (tickets and other outbox items, one transaction per batch) and `GET /api/v1/noop`.
//! - [`metrics`]: `GET /metrics` (Prometheus text format).
//! - `customers`: `POST /api/v1/customers`, customer creation from the template customer.
//! - [`check`]: "Test connection" for the database and the FTP server.
//! - [`deploy`]: deployment packages that install a till.
//! - [`verify`]: compare a till database with the server (demo, tests, support).
//! - [`admin`]: the admin web pages at `/admin` (login, POS folder, sync tables, tills, journal, export).
//! - [`run`]: `server run`: web service, embedded FTP server and export schedule together.

pub mod admin;
mod batch;
pub mod check;
mod customers;
pub mod data;
pub mod database;
pub mod deploy;
pub mod export;
pub mod ingest;
pub mod metrics;
pub mod run;
pub mod verify;
pub mod web;

pub use data::DataDir;

use tillsync_core::{ConfigError, KeyError};
use tillsync_db::StoreError;
use tillsync_transport::TransportError;

/// Errors of the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The configuration file.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The signing key file.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The package store (FTP or share folder).
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// Building a package.
    #[error("building a package failed: {0}")]
    Package(#[from] tillsync_wire::package::PackageError),
    /// A file or folder.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// Which path.
        path: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// An export is already running for this data folder.
    #[error(
        "another export is running for this data folder or server database; try again when it is done"
    )]
    ExportBusy,
    /// The data folder is already initialised.
    #[error("{0} already holds a tillsync server (tillsync.toml exists); choose another folder")]
    AlreadyInitialised(String),
    /// The data folder is not initialised.
    #[error(
        "{0} is not a tillsync server data folder (no tillsync.toml); run `tillsync server init --data {0}` first"
    )]
    NotInitialised(String),
    /// Something the caller asked for is not valid.
    #[error("{0}")]
    Invalid(String),
}

impl ServerError {
    pub(crate) fn io(what: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        ServerError::Io {
            what,
            path: path.display().to_string(),
            source,
        }
    }
}
