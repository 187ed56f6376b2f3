//! The tills' keys on the server (`docs/till-keys.md`): a till enrols the
//! key it made with the one-time secret of its deployment package
//! (`POST /api/v1/till/enrol`), or, enrolled, rotates to a new one
//! (`POST /api/v1/till/key`); every key accepted becomes a record of the
//! till's key history, signed with the server's key.
//!
//! # Layout
//! - [`accept`]: a request checked (key, times, proof), then decided and written in one
//!   transaction (`tillsync_server_db::keys::change_key`); the till's token issued.
//! - [`handlers`]: the two HTTP handlers and the answers of a refusal.
//! - [`listing`]: `server tills keys`: a till's history checked, its packages, keys not recorded.

pub mod accept;
pub mod handlers;
pub mod listing;
