//! The errors of the till agent ([`TillError`]), and
//! [`TillError::is_unavailable`], which tells a server or package store out
//! of reach (the till keeps working on its local data) from the rest.

use tillsync_core::ConfigError;
use tillsync_db::StoreError;
use tillsync_transport::TransportError;

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
    /// A package or the package index whose signature is not the server's.
    #[error("package {file} refused: {reason}")]
    BadSignature {
        /// File.
        file: String,
        /// Why.
        reason: String,
    },
    /// Creating a customer needs the server, which did not answer.
    #[error("creating a customer needs the server: {0}")]
    NeedsServer(String),
    /// A sale was refused; nothing was recorded.
    #[error("sale refused, nothing recorded: {0}")]
    Sale(String),
    /// The web service answered with an error.
    #[error("the web service refused: {0}")]
    Refused(String),
    /// The web service refused a whole outbox batch because of what it
    /// holds (malformed, too large, a foreign ticket): the till retries with
    /// smaller batches to find the item at fault.
    #[error("the web service refused the batch: HTTP {status} ({code}): {message}")]
    BatchRefused {
        /// HTTP status.
        status: u16,
        /// The error code of the answer (`bad-request`, `too-large`, `foreign-ticket`).
        code: String,
        /// Its message.
        message: String,
    },
    /// The till has no token yet: it must enrol first (`till sync` and the
    /// synchroniser retry the enrolment).
    #[error(
        "till {0} is not enrolled yet: its key is not registered on the server, so it cannot send anything; `tillsync till sync` enrols it once the server is reachable"
    )]
    NotEnrolled(String),
    /// The server refused the till's key (enrolment or rotation): the
    /// reason says what to do (usually: a new deployment package).
    #[error("the server refused the till's key ({code}): {message}")]
    KeyRefused {
        /// The error code (`enrolment-used`, `enrolment-expired`,
        /// `enrolment-superseded`, `enrolment-unknown`, `key-in-use`).
        code: String,
        /// The server's message.
        message: String,
    },
    /// A key history that does not verify with the server's public key.
    #[error("the key history the server sent does not verify: {0}")]
    KeyHistory(#[from] tillsync_core::key_history::KeyHistoryError),
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
    /// A receipt cannot be made or printed.
    #[error("receipt: {0}")]
    Receipt(String),
    /// The cashier page's login.
    #[error("cashier login: {0}")]
    Login(String),
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
    /// A fiscal value refused (a period name, a time zone).
    #[error(transparent)]
    Fiscal(#[from] tillsync_core::fiscal::error::FiscalError),
    /// An archive could not be written.
    #[error(transparent)]
    Archive(#[from] tillsync_archive::ArchiveError),
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
