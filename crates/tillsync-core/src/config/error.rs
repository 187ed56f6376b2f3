//! [`ConfigError`]: why a configuration file or value was refused, worded
//! for the person who set it; and the reading of a configuration file
//! (a missing file told apart from an unreadable one).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Why a configuration file or value was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file does not exist.
    #[error("configuration file {} does not exist", path.display())]
    NotFound {
        /// The missing file.
        path: PathBuf,
    },
    /// The configuration file could not be read.
    #[error("cannot read configuration file {}: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The system error.
        error: io::Error,
    },
    /// The configuration file could not be written.
    #[error("cannot write configuration file {}: {error}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The system error.
        error: io::Error,
    },
    /// The file is not valid TOML, has unknown keys, misses required keys or
    /// holds a value of the wrong kind.
    #[error("configuration file {} is not valid: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The TOML problem, with its line and column.
        message: String,
    },
    /// The file parsed but one of its values is refused.
    #[error("configuration file {}: {error}", path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// The refused value.
        error: Box<ConfigError>,
    },
    /// The key does not exist.
    #[error("unknown configuration key {key:?}; valid keys are: {valid}")]
    UnknownKey {
        /// The key given.
        key: String,
        /// The valid keys, comma-separated.
        valid: String,
    },
    /// A value is refused.
    #[error("invalid value {value:?} for {key}: {reason}")]
    Invalid {
        /// The key.
        key: String,
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A secret value is refused (the value is not repeated).
    #[error("invalid value for {key} (value not shown): {reason}")]
    InvalidSecret {
        /// The key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `db.url` names a PostgreSQL database in a form that cannot be read.
    /// (The URL is not repeated: it may hold a password.)
    #[error("{key}: {reason}")]
    BadPostgresUrl {
        /// The key (`db.url`).
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// The configuration could not be turned into TOML.
    #[error("cannot encode the configuration as TOML: {0}")]
    Encode(String),
}

impl ConfigError {
    pub(crate) fn invalid(key: &str, value: &str, reason: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key: key.to_string(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn in_file(self, path: &Path) -> Self {
        ConfigError::InFile {
            path: path.to_path_buf(),
            error: Box::new(self),
        }
    }
}

/// Reads a configuration file, telling "missing" apart from other errors.
pub(crate) fn read_config(path: &Path) -> Result<String, ConfigError> {
    fs::read_to_string(path).map_err(|error| {
        if error.kind() == io::ErrorKind::NotFound {
            ConfigError::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            ConfigError::Read {
                path: path.to_path_buf(),
                error,
            }
        }
    })
}
