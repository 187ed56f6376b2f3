//! [`ServerError`]: the errors of the server (configuration, keys, database,
//! package store, files, the export lock).

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
    /// An archive could not be written.
    #[error(transparent)]
    Archive(#[from] tillsync_archive::ArchiveError),
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
