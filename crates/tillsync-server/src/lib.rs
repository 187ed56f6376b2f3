//! The server: its data folder, the export job that builds and publishes
//! packages, the web service the tills call, the "Test connection" checks and
//! deployment packages.
//!
//! # Layout
//! - [`data`]: the server data folder (`tillsync.toml`, signing key, database) and `server init`.
//! - [`export`]: the export job (full and incremental packages, atomic publication, retention).
//! - [`web`]: the HTTP web service under `/api/v1`.
//! - [`ingest`]: `POST /api/v1/outbox` (tickets and other outbox items, one transaction per batch) and `GET /api/v1/noop`.
//! - [`metrics`]: `GET /metrics` (Prometheus text format).
//! - `customers`: `POST /api/v1/customers`, customer creation from the template customer.
//! - [`check`]: "Test connection" for the database and the FTP server.
//! - [`deploy`]: deployment packages that install a till.
//! - [`verify`]: compare a till database with the server (demo, tests, support).
//! - [`admin`]: the admin web pages at `/admin` (login, POS folder, sync tables, tills, journal, export).
//! - [`run`]: `server run`: web service, embedded FTP server and export schedule together.

pub mod admin;
pub mod check;
pub mod data;
pub mod deploy;
pub mod down;
mod error;
pub mod http;
pub mod run;
pub mod up;
pub mod verify;

pub use data::DataDir;
pub use error::ServerError;
