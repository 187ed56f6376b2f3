//! The files of a till's data directory (`--data`) that the agent names
//! itself: the till database and the till's copy of its key history.
//! (`till.toml` is named by `tillsync_core::config::till::FILE_NAME`.)

/// File name of the till database in a till's data directory.
pub const DB_FILE: &str = "till.db";

/// File name of the till's key history (`docs/till-keys.md`), kept from
/// its enrolment on.
pub const KEY_HISTORY_FILE: &str = "key-history.json";
