//! The server: its data folder, the export job that builds and publishes
//! packages (the down path), the web service the tills call, with the
//! outbox and customers calls (the up path) and the admin pages, the "Test
//! connection" checks and deployment packages.
//!
//! # Layout
//! - [`data`]: the server data folder (`tillsync.toml`, signing key, database) and `server init`.
//! - [`database`]: the server database named by `db.url` (SQLite or PostgreSQL behind one trait).
//! - `error`: [`ServerError`], the errors of the server.
//! - [`down`]: the export job: decide, read, publish (full and incremental packages, index last, retention).
//! - [`up`]: `POST /api/v1/outbox` (tickets and other outbox items, checked, then one transaction and one commit per group of batches) and `POST /api/v1/customers`.
//! - [`http`]: the web service under `/api/v1`: shared state, router, authenticated till, catalog, bookkeeping, `GET /metrics`, the accept loop.
//! - [`admin`]: the admin web pages at `/admin` (login, POS folder, sync tables, tills, journal, export).
//! - [`archive`]: `server archive` (a till's closed period from the server's copy, signed by
//!   the server) and the verification of the server's copy of a till's records.
//! - [`check`]: "Test connection" for the database and the FTP server.
//! - [`deploy`]: deployment packages that install a till (with a one-time enrolment secret).
//! - [`till_keys`]: `POST /api/v1/till/enrol` and `POST /api/v1/till/key`: the tills' keys
//!   accepted into their key histories, signed by the server.
//! - [`verify`]: compare a till database with the server (demo, tests, support).
//! - [`receipts`]: a receipt's QR code checked against the till's keys the server holds.
//! - [`run`]: `server run`: web service, embedded FTP server and export schedule together.
//!
//! The modules import one another without cycles: `http::state` (the
//! shared state) and the leaves it holds import no handler; the handlers
//! (`up`, `till_keys`, `http`, `admin`) import the state; `http::router` and `run`
//! import the handlers.

pub mod admin;
pub mod archive;
pub mod check;
pub mod data;
pub mod database;
pub mod deploy;
pub mod down;
mod error;
pub mod http;
pub mod receipts;
pub mod run;
pub mod till_keys;
pub mod up;
pub mod verify;

// The two types every other crate uses, at the crate root.
pub use data::DataDir;
pub use error::ServerError;
