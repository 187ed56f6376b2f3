//! [`ArchiveError`]: why an archive could not be written or opened (what a
//! verification finds in an archive is a `Break`, not an error).

use std::path::PathBuf;

/// Why an archive could not be written or opened.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// A file could not be written, read or renamed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The system error.
        source: std::io::Error,
    },
    /// `--out` names a folder.
    #[error("{} is a folder: give the archive's file name (e.g. {}/T001-2026-12.zip)", .0.display(), .0.display())]
    OutIsFolder(PathBuf),
    /// The zip could not be written.
    #[error("cannot write the zip file: {0}")]
    Zip(String),
    /// A CSV table could not be written.
    #[error("cannot write {part}: {reason}")]
    Csv {
        /// The part.
        part: String,
        /// Why.
        reason: String,
    },
    /// The ledger cannot be archived as it is.
    #[error("{0}")]
    Invalid(String),
}
