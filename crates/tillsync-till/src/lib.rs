//! The till agent: installation from a deployment package and the importer
//! that loads packages (the seed's "load the data" and "load the
//! modifications").
//!
//! # Layout
//! - [`install`]: `till init` from a deployment package.
//! - [`client`]: the web service client (ping, available packages).
//! - [`import`]: `till sync`'s pull: plan, download, verify, apply.

pub mod client;
pub mod import;
pub mod install;

use tillsync_core::ConfigError;
use tillsync_store::StoreError;
use tillsync_transport::TransportError;

/// File name of the till database in a till folder.
pub const DB_FILE: &str = "till.db";

/// Errors of the till agent.
#[derive(Debug, thiserror::Error)]
pub enum TillError {
    /// The till configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The till database, or a refused package.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The FTP server.
    #[error("package store: {0}")]
    Transport(#[from] TransportError),
    /// A downloaded file that is not what the server published.
    #[error("package {file} refused: {reason}")]
    Download {
        /// Package file.
        file: String,
        /// Why.
        reason: String,
    },
    /// The web service answered with an error.
    #[error("the web service refused: {0}")]
    Refused(String),
    /// The web service could not be reached.
    #[error("the web service at {url} is unreachable: {reason}")]
    Unreachable {
        /// URL called.
        url: String,
        /// Why.
        reason: String,
    },
    /// The deployment package is not usable.
    #[error("deployment package {path}: {reason}")]
    Deployment {
        /// File.
        path: String,
        /// Why.
        reason: String,
    },
    /// A file or folder.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// Which path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl TillError {
    /// True when the server or the package store could not be reached
    /// (the till keeps working on its local data).
    pub fn is_unavailable(&self) -> bool {
        match self {
            TillError::Unreachable { .. } => true,
            TillError::Transport(t) => t.is_unavailable(),
            _ => false,
        }
    }
}
