//! The databases' error type: what went wrong with a database, in plain words.

use tillsync_wire::package::PackageError;

/// Errors of the server and till databases.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database file cannot be opened.
    #[error("cannot open database {path}: {source}")]
    Open {
        /// The file.
        path: String,
        /// Why.
        source: rusqlite::Error,
    },
    /// The server database cannot be reached or refuses the connection
    /// (PostgreSQL: refused, bad password, missing database), in plain words.
    #[error("{0}")]
    Connect(String),
    /// Not a plain identifier.
    #[error("{0}")]
    Ident(String),
    /// The table does not exist.
    #[error("table {0} does not exist in the server database")]
    NoSuchTable(String),
    /// The table has no primary key.
    #[error("table {0} has no primary key: a synced table needs one to identify its rows")]
    NoPrimaryKey(String),
    /// Too many key columns for the change log.
    #[error("table {table} has a primary key of {n} columns; at most 4 are supported")]
    KeyTooWide {
        /// Table.
        table: String,
        /// Key width.
        n: usize,
    },
    /// The filter column does not exist.
    #[error("table {table} has no column {column} to filter on")]
    NoSuchColumn {
        /// Table.
        table: String,
        /// Column.
        column: String,
    },
    /// The sync table is already registered.
    #[error("table {table} is already a sync table in direction {direction}")]
    AlreadySynced {
        /// Table.
        table: String,
        /// Direction.
        direction: String,
    },
    /// The sync table is not registered.
    #[error("table {table} is not a sync table in direction {direction}")]
    NotSynced {
        /// Table.
        table: String,
        /// Direction.
        direction: String,
    },
    /// A till that the server does not know.
    #[error("till {0} is not known to the server (no row in STORE_TILL)")]
    UnknownTill(String),
    /// STORE_TILL is missing.
    #[error(
        "table STORE_TILL (the tills and the store each belongs to) is missing or has no till_id/store columns: {0}"
    )]
    NoStoreTill(String),
    /// A package was refused before applying.
    #[error("package {file} refused: {reason}")]
    Refused {
        /// Package file.
        file: String,
        /// Why.
        reason: String,
    },
    /// A package is not readable.
    #[error("package {file} refused: {source}")]
    Package {
        /// Package file.
        file: String,
        /// Why.
        source: PackageError,
    },
    /// A customer creation the server refuses (bad field, empty name…).
    #[error("{0}")]
    BadCustomer(String),
    /// The template customer is missing.
    #[error(
        "the template customer {0} (setting till.template_customer) does not exist in table CLI; \
         create it or change the setting"
    )]
    NoTemplateCustomer(String),
    /// A value given by the caller is not valid.
    #[error("{0}")]
    Invalid(String),
    /// Data that should be in our own tables is not.
    #[error("inconsistent tillsync data: {0}")]
    Inconsistent(String),
    /// PostgreSQL said no (or could not be reached). The text is the
    /// server's own message when there is one ("terminating connection due
    /// to administrator command"), not the client's bare "db error".
    #[cfg(feature = "postgres")]
    #[error("PostgreSQL: {}", pg_message(.0))]
    Postgres(#[from] postgres::Error),
}

/// A conflict policy name read or given that is none of the three: a value
/// that is not valid (the policy's own words).
impl From<tillsync_core::customers::conflict::UnknownPolicy> for StoreError {
    fn from(e: tillsync_core::customers::conflict::UnknownPolicy) -> Self {
        StoreError::Invalid(e.to_string())
    }
}

/// A fiscal value refused (a period with no closing, a record's body): a
/// value that is not valid.
impl From<tillsync_core::fiscal::error::FiscalError> for StoreError {
    fn from(e: tillsync_core::fiscal::error::FiscalError) -> Self {
        StoreError::Invalid(e.to_string())
    }
}

impl StoreError {
    /// True when a package could not be applied because the till needs a
    /// full load instead (layout changed, missing incremental).
    pub fn needs_full(&self) -> bool {
        matches!(self, StoreError::Refused { reason, .. } if reason.starts_with("needs a full load"))
    }
}

#[cfg(feature = "postgres")]
/// The server's message of a PostgreSQL error (or the error as text).
pub fn pg_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => d.message().to_string(),
        None => match std::error::Error::source(e) {
            // "error connecting to server: Connection refused", not just
            // "error connecting to server".
            Some(src) if !e.to_string().contains(&src.to_string()) => format!("{e}: {src}"),
            _ => e.to_string(),
        },
    }
}
