//! The "Test connection" button of the FTP tab: [`check_ftp`] and its [`CheckReport`].

use std::fmt;
use std::time::{Duration, Instant};

use tillsync_core::FtpAddress;

use crate::error::TransportError;
use crate::ftp::client::FtpClient;

/// The file that the "Test connection" button downloads from the target folder.
pub const TEST_FILE: &str = "test.txt";

/// What the "Test connection" button reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// The address tested, `ftp://host:port/path`.
    pub address: String,
    /// The server's welcome banner, if any.
    pub welcome: Option<String>,
    /// The file that was downloaded ([`TEST_FILE`]).
    pub test_file: String,
    /// Its size in bytes.
    pub test_file_size: u64,
    /// Time from connecting to having the file, in milliseconds.
    pub elapsed_ms: u64,
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "connected to {}, logged in and read {} ({} bytes) in {} ms",
            self.address, self.test_file, self.test_file_size, self.elapsed_ms
        )?;
        if let Some(w) = &self.welcome {
            write!(f, "; the server says: {w}")?;
        }
        Ok(())
    }
}

/// The "Test connection" button of the FTP tab: connects, logs in and
/// downloads [`TEST_FILE`] from the target folder.
///
/// A missing folder gives [`TransportError::FolderNotFound`], a missing
/// `test.txt` gives [`TransportError::NotFound`] naming the file and folder.
pub fn check_ftp(
    addr: &FtpAddress,
    user: &str,
    password: &str,
    timeout: Duration,
) -> Result<CheckReport, TransportError> {
    let start = Instant::now();
    let mut client = FtpClient::connect(addr, user, password, timeout)?;
    let bytes = client.download(TEST_FILE)?;
    let elapsed_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    let welcome = client.welcome.clone();
    let _ = client.quit();
    Ok(CheckReport {
        address: addr.to_string(),
        welcome,
        test_file: TEST_FILE.to_string(),
        test_file_size: bytes.len() as u64,
        elapsed_ms,
    })
}
