//! Test support: an embedded FTP server over a temporary share folder, sample data, a closed port.

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

use tillsync_core::FtpAddress;
use tillsync_transport::{EmbeddedFtp, EmbeddedFtpBackground, ShareFolder};

/// Time limit for every FTP exchange in tests.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The FTP user of the embedded server in tests.
pub const USER: &str = "till";

/// Its password.
pub const PASSWORD: &str = "pw-for-tests-only";

/// Bytes that ASCII mode would corrupt: CRLF, lone LF and CR, NUL, every
/// byte value, and enough of them to need several TCP segments.
pub fn binary_sample() -> Vec<u8> {
    let mut v = b"line1\r\nline2\nline3\rNUL:\0\0end\r\n".to_vec();
    for i in 0..300_000u32 {
        v.push((i.wrapping_mul(31) % 256) as u8);
    }
    v.extend_from_slice(b"\n\r\n\0");
    v
}

/// An embedded, read-only FTP server on 127.0.0.1 (any free port) serving a
/// temporary folder; writes go through [`Embedded::share`].
pub struct Embedded {
    /// The running server (declared first: stopped before the folder goes).
    pub server: EmbeddedFtpBackground,
    /// The served folder.
    pub dir: tempfile::TempDir,
}

impl Embedded {
    /// Starts a server.
    pub fn start() -> Embedded {
        let dir = tempfile::tempdir().expect("temp dir");
        let server = EmbeddedFtp::start_in_background(
            dir.path().to_path_buf(),
            USER,
            PASSWORD,
            "127.0.0.1:0".parse().unwrap(),
        )
        .expect("embedded FTP server starts");
        Embedded { server, dir }
    }

    /// The FTP address of target folder `path`.
    pub fn addr(&self, path: &str) -> FtpAddress {
        self.server.ftp_address(path)
    }

    /// A share folder writing into target folder `path` of the server.
    pub fn share(&self, path: &str) -> ShareFolder {
        ShareFolder::new(self.folder(path))
    }

    /// The local folder behind target folder `path`.
    pub fn folder(&self, path: &str) -> PathBuf {
        if path.is_empty() {
            self.dir.path().to_path_buf()
        } else {
            self.dir.path().join(path)
        }
    }
}

/// A port on 127.0.0.1 where nothing listens (bound, then released).
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    port
}
