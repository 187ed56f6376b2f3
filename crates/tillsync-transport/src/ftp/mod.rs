//! The FTP client (suppaftp, synchronous): `FtpClient`, the `FtpStore` package store and `check_ftp`.
//!
//! Every connection logs in, switches to BINARY mode (suppaftp starts in
//! ASCII mode, which turns LF into CRLF and corrupts packages), uses passive
//! mode with the data connection sent to the host of the control connection
//! (suppaftp's NAT workaround: a server behind NAT or announcing a wrong
//! address still works), and enters the target folder of the address.
//!
//! - `reply`: FTP reply codes and I/O failures mapped to [`TransportError`](crate::TransportError).
//! - [`client`]: [`FtpClient`](client::FtpClient), the connection (connect, login, target folder).
//! - `files`: the file operations of an `FtpClient`.
//! - [`store`]: [`FtpStore`](store::FtpStore), the reconnecting [`PackageStore`](crate::PackageStore).
//! - [`check`]: [`check_ftp`](check::check_ftp), the "Test connection" button.

pub mod check;
pub mod client;
mod files;
mod reply;
pub mod store;
