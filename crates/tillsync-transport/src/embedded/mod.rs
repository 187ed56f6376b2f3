//! The embedded FTP server (libunftp): serves a folder read-only to tills, for exactly one user.
//!
//! libunftp's own `listen` does not report the port it bound, so this module
//! binds its own tokio `TcpListener` (port 0 allowed) and hands every
//! accepted socket to libunftp's per-connection entry point
//! [`Server::service`](libunftp::Server::service). That method consumes the
//! server, so a (cheap) server value is built per connection; all of them
//! share the authenticator and the folder.
//!
//! Passive data ports: by default every PASV/EPSV binds port 0 (an
//! ephemeral port chosen by the system) through a custom
//! [`Binder`](libunftp::options::Binder), so many servers and tests can run
//! side by side; [`EmbeddedFtp::passive_ports`] sets a fixed range instead
//! (for firewalls).
//!
//! - [`server`]: [`EmbeddedFtp`] (configuration, start) and its handles (stop).
//! - `session`: the accept loop and what every connection's server shares.
//! - `auth`: the one account, compared in constant time.
//! - `storage`: the read-only file system back end.

mod auth;
pub mod server;
mod session;
mod storage;

// For other crates (`tillsync_transport::embedded::EmbeddedFtp`).
pub use server::{DEFAULT_SHUTDOWN_GRACE, EmbeddedFtp, EmbeddedFtpBackground, EmbeddedFtpHandle};
