//! The files of a till's data directory (`--data`) that the agent names
//! itself: the till database. (`till.toml` is named by
//! `tillsync_core::config::till::FILE_NAME`.)

/// File name of the till database in a till's data directory.
pub const DB_FILE: &str = "till.db";
