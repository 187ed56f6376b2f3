//! The FTP connection: [`FtpClient`], how it connects, logs in, switches to
//! BINARY and passive mode and enters (or creates) the target folder.
//!
//! Its file operations are in the `files` module.

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use suppaftp::types::FileType;
use suppaftp::{FtpError, FtpStream, Mode};
use tillsync_core::FtpAddress;

use crate::error::TransportError;
use crate::ftp::reply::{
    DataConnectError, Op, banner_text, map_ftp_error, map_io_error, reply_code,
};

/// A logged-in FTP connection whose working folder is the target folder of
/// its [`FtpAddress`].
///
/// Tills never create the target folder: when it is missing, file operations
/// fail with [`TransportError::FolderNotFound`]. The server calls
/// [`FtpClient::ensure_target_dir`] before publishing.
pub struct FtpClient {
    pub(super) stream: FtpStream,
    addr: FtpAddress,
    pub(super) shown: String,
    user: String,
    pub(super) welcome: Option<String>,
    pub(super) in_target: bool,
}

impl fmt::Debug for FtpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FtpClient")
            .field("addr", &self.shown)
            .field("user", &self.user)
            .field("in_target", &self.in_target)
            .finish_non_exhaustive()
    }
}

impl FtpClient {
    /// Connects to `addr` within `timeout` (also used as the read/write
    /// timeout of every later exchange), logs in as `user`, switches to
    /// BINARY and passive mode and enters the target folder.
    ///
    /// A missing target folder is not an error here: file operations then
    /// fail with [`TransportError::FolderNotFound`] unless
    /// [`ensure_target_dir`](Self::ensure_target_dir) creates it.
    pub fn connect(
        addr: &FtpAddress,
        user: &str,
        password: &str,
        timeout: Duration,
    ) -> Result<FtpClient, TransportError> {
        let timeout = timeout.max(Duration::from_millis(10));
        let shown = addr.to_string();
        let err = |op: Op<'_>, e: FtpError| map_ftp_error(&shown, user, op, e);

        let targets: Vec<SocketAddr> = addr
            .host_port()
            .to_socket_addrs()
            .map_err(|_| TransportError::Resolve {
                addr: shown.clone(),
            })?
            .collect();
        if targets.is_empty() {
            return Err(TransportError::Resolve { addr: shown });
        }
        let mut last_error = None;
        let mut socket = None;
        for target in &targets {
            match TcpStream::connect_timeout(target, timeout) {
                Ok(s) => {
                    socket = Some(s);
                    break;
                }
                Err(e) => last_error = Some(e),
            }
        }
        let socket = match socket {
            Some(s) => s,
            None => {
                let e = last_error.unwrap_or_else(|| io::Error::from(io::ErrorKind::NotConnected));
                return Err(map_io_error(&shown, Op::Connect, e));
            }
        };
        let io = |e: io::Error| map_io_error(&shown, Op::Connect, e);
        socket.set_read_timeout(Some(timeout)).map_err(io)?;
        socket.set_write_timeout(Some(timeout)).map_err(io)?;
        socket.set_nodelay(true).map_err(io)?;
        let ipv6 = socket.peer_addr().map_err(io)?.is_ipv6();

        let stream = FtpStream::connect_with_stream(socket).map_err(|e| err(Op::Greeting, e))?;
        let mut stream = stream.passive_stream_builder(move |data_addr: SocketAddr| {
            let open = || -> io::Result<TcpStream> {
                let s = TcpStream::connect_timeout(&data_addr, timeout)?;
                s.set_read_timeout(Some(timeout))?;
                s.set_write_timeout(Some(timeout))?;
                Ok(s)
            };
            open().map_err(|source| {
                FtpError::ConnectionError(io::Error::new(
                    source.kind(),
                    DataConnectError { data_addr, source },
                ))
            })
        });
        // PASV only carries IPv4 addresses; EPSV is the IPv6 way. With the NAT
        // workaround the data connection always goes to the control peer.
        stream.set_mode(if ipv6 {
            Mode::ExtendedPassive
        } else {
            Mode::Passive
        });
        stream.set_passive_nat_workaround(true);
        let welcome = stream
            .get_welcome_msg()
            .map(banner_text)
            .filter(|s| !s.is_empty());

        stream
            .login(user, password)
            .map_err(|e| err(Op::Login, e))?;
        stream
            .transfer_type(FileType::Binary)
            .map_err(|e| err(Op::Binary, e))?;

        let mut client = FtpClient {
            stream,
            addr: addr.clone(),
            shown: shown.clone(),
            user: user.to_string(),
            welcome,
            in_target: addr.path.is_empty(),
        };
        if !client.in_target {
            match client.stream.cwd(&addr.path) {
                Ok(()) => client.in_target = true,
                Err(FtpError::UnexpectedResponse(r)) if reply_code(&r) == 550 => {}
                Err(e) => return Err(err(Op::Cwd, e)),
            }
        }
        Ok(client)
    }

    /// Creates the target folder if it is missing (like `mkdir -p`, one
    /// level at a time) and enters it. Used by the server before publishing.
    pub fn ensure_target_dir(&mut self) -> Result<(), TransportError> {
        if self.in_target {
            return Ok(());
        }
        let path = self.addr.path.clone();
        for segment in path.split('/').filter(|s| !s.is_empty()) {
            match self.stream.cwd(segment) {
                Ok(()) => continue,
                Err(FtpError::UnexpectedResponse(r)) if reply_code(&r) == 550 => {}
                Err(e) => return Err(self.map(Op::Cwd, e)),
            }
            if let Err(e) = self.stream.mkdir(segment) {
                // Someone else may have created it meanwhile: try to enter anyway.
                if self.stream.cwd(segment).is_ok() {
                    continue;
                }
                return Err(self.map(Op::Mkdir(segment), e));
            }
            self.stream
                .cwd(segment)
                .map_err(|e| self.map(Op::Mkdir(segment), e))?;
        }
        self.in_target = true;
        Ok(())
    }

    /// Whether the target folder exists (and is the working folder).
    pub fn target_exists(&self) -> bool {
        self.in_target
    }

    /// The address this client is connected to.
    pub fn address(&self) -> &FtpAddress {
        &self.addr
    }

    /// The server's welcome banner without reply codes, if it sent one.
    pub fn welcome(&self) -> Option<&str> {
        self.welcome.as_deref()
    }

    pub(super) fn map(&self, op: Op<'_>, e: FtpError) -> TransportError {
        map_ftp_error(&self.shown, &self.user, op, e)
    }

    pub(super) fn require_target(&self) -> Result<(), TransportError> {
        if self.in_target {
            Ok(())
        } else {
            Err(TransportError::FolderNotFound {
                location: self.shown.clone(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unresolvable_host() {
        let addr: FtpAddress = "ftp://no-such-host.invalid:21/x".parse().unwrap();
        let e = FtpClient::connect(&addr, "u", "p", Duration::from_secs(5)).unwrap_err();
        assert!(matches!(e, TransportError::Resolve { .. }), "{e:?}");
        assert!(e.to_string().contains("no-such-host.invalid"), "{e}");
    }
}
