//! Package stores: where the server publishes packages and tills read them.
//!
//! - [`PackageStore`]: the synchronous store API (put atomically, get, list,
//!   delete), implemented by [`ShareFolder`] (a folder) and [`FtpStore`]
//!   (an FTP server, through [`FtpClient`] on suppaftp).
//! - [`check_ftp`]: the "Test connection" button of the FTP tab.
//! - [`EmbeddedFtp`]: the read-only FTP server (libunftp) that serves the
//!   share folder to tills.
//! - [`TransportError`]: every failure, in words a retail IT person reads.
//!
//! # Layout
//!
//! - `store`: the [`PackageStore`] trait, package file names and temporary names.
//! - `share`: [`ShareFolder`], the store in a (shared) folder.
//! - `error`: [`TransportError`], worded for the retail IT person.
//! - `ftp/`: the FTP client.
//!   - `ftp/reply`: FTP replies and I/O failures mapped to [`TransportError`]
//!     (`map_reply`, one match from reply code to error kind).
//!   - `ftp/client`: [`FtpClient`]'s connection: connect, login, BINARY and
//!     passive mode, the target folder.
//!   - `ftp/files`: [`FtpClient`]'s file operations (upload by temporary name
//!     and rename, download, list, delete, rename).
//!   - `ftp/store`: [`FtpStore`], the [`PackageStore`] that reconnects once.
//!   - `ftp/check`: [`check_ftp`] and its [`CheckReport`].
//! - `embedded/`: the embedded, read-only FTP server.
//!   - `embedded/server`: [`EmbeddedFtp`] (configuration, start) and its
//!     handles [`EmbeddedFtpHandle`], [`EmbeddedFtpBackground`] (stop).
//!   - `embedded/session`: the accept loop, one libunftp server per
//!     connection, the passive port binder.
//!   - `embedded/auth`: the one account (user and password in constant time).
//!   - `embedded/storage`: the read-only file system back end.

#![warn(missing_docs)]

pub mod embedded;
pub mod error;
pub mod ftp;
pub mod share;
pub mod store;

pub use embedded::server::{
    DEFAULT_SHUTDOWN_GRACE, EmbeddedFtp, EmbeddedFtpBackground, EmbeddedFtpHandle,
};
pub use error::TransportError;
pub use ftp::check::{CheckReport, TEST_FILE, check_ftp};
pub use ftp::client::FtpClient;
pub use ftp::store::FtpStore;
pub use share::ShareFolder;
pub use store::{PackageStore, is_temp_name, validate_name};
