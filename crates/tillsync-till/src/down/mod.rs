//! The down path (server -> till): the packages the server published,
//! loaded into the till database.
//!
//! - [`pull`]: `till sync`'s pull: the plan (from the web service, or the
//!   signed package index when it is unreachable), each package applied in
//!   one transaction, full loads when the incrementals cannot be used.
//! - `fetch`: the package index and the packages from the package store,
//!   refused unless size, checksum, signature, table and version are the
//!   published ones.

mod fetch;
pub mod pull;
