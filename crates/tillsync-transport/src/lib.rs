//! Package stores: where the server publishes packages and tills read them.
//!
//! - [`PackageStore`]: the synchronous store API (put atomically, get, list,
//!   delete), implemented by [`ShareFolder`] (a folder) and [`FtpStore`]
//!   (an FTP server, through [`FtpClient`] on suppaftp).
//! - [`check_ftp`]: the "Test connection" button of the FTP tab.
//! - [`EmbeddedFtp`]: the read-only FTP server (libunftp) that serves the
//!   share folder to tills.
//! - [`TransportError`]: every failure, in words a retail IT person reads.

#![warn(missing_docs)]

pub mod embedded;
pub mod error;
pub mod ftp;
pub mod share;
pub mod store;

pub use embedded::{DEFAULT_SHUTDOWN_GRACE, EmbeddedFtp, EmbeddedFtpBackground, EmbeddedFtpHandle};
pub use error::TransportError;
pub use ftp::{CheckReport, FtpClient, FtpStore, TEST_FILE, check_ftp};
pub use share::ShareFolder;
pub use store::{PackageStore, is_temp_name, validate_name};
