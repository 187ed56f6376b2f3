//! Sync table definitions: which table travels, in which direction, full or incremental.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ident::{self, IdentError};

/// How a table is sent down to the tills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncType {
    /// Always a complete snapshot of the table.
    Full,
    /// A first snapshot, then the changes since the till's version.
    Incremental,
}

/// Which way a table travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Server to tills, through packages.
    Down,
    /// Tills to server, through the web service.
    Up,
}

/// Why a sync table definition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncTableError {
    /// Not `full` or `incremental`.
    #[error("unknown sync type {0:?}: expected one of full, incremental")]
    UnknownSyncType(String),
    /// Not `down` or `up`.
    #[error("unknown direction {0:?}: expected one of down, up")]
    UnknownDirection(String),
    /// The table name is not a valid identifier.
    #[error("invalid table name: {0}")]
    Table(IdentError),
    /// The filter column name is not a valid identifier.
    #[error("invalid filter column for table {table:?}: {error}")]
    Filter {
        /// The table whose filter was refused.
        table: String,
        /// Why the column name was refused.
        error: IdentError,
    },
}

impl SyncType {
    /// All values, in the order shown to users.
    pub const ALL: [SyncType; 2] = [SyncType::Full, SyncType::Incremental];

    /// The lowercase name used in files, the CLI and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncType::Full => "full",
            SyncType::Incremental => "incremental",
        }
    }
}

impl Direction {
    /// All values, in the order shown to users.
    pub const ALL: [Direction; 2] = [Direction::Down, Direction::Up];

    /// The lowercase name used in files, the CLI and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Down => "down",
            Direction::Up => "up",
        }
    }
}

impl fmt::Display for SyncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SyncType {
    type Err = SyncTableError;

    /// Parses `full` or `incremental` (case-insensitive, surrounding blanks ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        SyncType::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| SyncTableError::UnknownSyncType(s.to_string()))
    }
}

impl FromStr for Direction {
    type Err = SyncTableError;

    /// Parses `down` or `up` (case-insensitive, surrounding blanks ignored).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Direction::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| SyncTableError::UnknownDirection(s.to_string()))
    }
}

/// One entry of the sync tables: a table, its sync type and direction, and an
/// optional filter column used to subset rows per till or store.
///
/// A table that travels both ways is defined twice, once per direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncTable {
    /// Table name (a valid [`ident`] identifier).
    pub table: String,
    /// Full or incremental.
    pub sync_type: SyncType,
    /// Down (server to tills) or up (tills to server).
    pub direction: Direction,
    /// Column whose value selects the rows of one till or store, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

impl SyncTable {
    /// A validated sync table definition.
    pub fn new(
        table: impl Into<String>,
        sync_type: SyncType,
        direction: Direction,
        filter: Option<String>,
    ) -> Result<Self, SyncTableError> {
        let t = SyncTable {
            table: table.into(),
            sync_type,
            direction,
            filter,
        };
        t.validate()?;
        Ok(t)
    }

    /// Checks the table and filter column names.
    pub fn validate(&self) -> Result<(), SyncTableError> {
        ident::validate(&self.table).map_err(SyncTableError::Table)?;
        if let Some(col) = &self.filter {
            ident::validate(col).map_err(|error| SyncTableError::Filter {
                table: self.table.clone(),
                error,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        for t in SyncType::ALL {
            assert_eq!(t.to_string().parse::<SyncType>().unwrap(), t);
        }
        for d in Direction::ALL {
            assert_eq!(d.to_string().parse::<Direction>().unwrap(), d);
        }
        assert_eq!(" Full ".parse::<SyncType>().unwrap(), SyncType::Full);
        assert_eq!("UP".parse::<Direction>().unwrap(), Direction::Up);
    }

    #[test]
    fn errors_list_valid_values() {
        let e = "delta".parse::<SyncType>().unwrap_err().to_string();
        assert!(
            e.contains("\"delta\"") && e.contains("full, incremental"),
            "{e}"
        );
        let e = "sideways".parse::<Direction>().unwrap_err().to_string();
        assert!(e.contains("\"sideways\"") && e.contains("down, up"), "{e}");
    }

    #[test]
    fn serde_lowercase() {
        let t = SyncTable::new(
            "CLI",
            SyncType::Incremental,
            Direction::Down,
            Some("store".into()),
        )
        .unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(
            json,
            r#"{"table":"CLI","sync_type":"incremental","direction":"down","filter":"store"}"#
        );
        assert_eq!(serde_json::from_str::<SyncTable>(&json).unwrap(), t);
        let no_filter: SyncTable =
            serde_json::from_str(r#"{"table":"ART","sync_type":"full","direction":"up"}"#).unwrap();
        assert_eq!(no_filter.filter, None);
    }

    #[test]
    fn names_are_validated() {
        let e = SyncTable::new("tillsync_x", SyncType::Full, Direction::Down, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("tillsync_x"), "{e}");
        let e = SyncTable::new("ART", SyncType::Full, Direction::Down, Some("a-b".into()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("ART") && e.contains("a-b"), "{e}");
    }
}
