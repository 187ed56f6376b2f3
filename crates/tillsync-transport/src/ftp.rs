//! The FTP client (suppaftp, synchronous): `FtpClient`, the `FtpStore` package store and `check_ftp`.
//!
//! Every connection logs in, switches to BINARY mode (suppaftp starts in
//! ASCII mode, which turns LF into CRLF and corrupts packages), uses passive
//! mode with the data connection sent to the host of the control connection
//! (suppaftp's NAT workaround: a server behind NAT or announcing a wrong
//! address still works), and enters the target folder of the address.

use std::fmt;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use suppaftp::types::{FileType, Response};
use suppaftp::{FtpError, FtpStream, Mode, Status};
use tillsync_core::FtpAddress;

use crate::error::TransportError;
use crate::store::{PackageStore, clean_listing, temp_name, validate_name};

/// The file that the "Test connection" button downloads from the target folder.
pub const TEST_FILE: &str = "test.txt";

/// Message of [`TransportError::Protocol`] when the server hung up.
const CONNECTION_CLOSED: &str = "the server closed the connection";

/// Whether `e` means the control connection is gone (idle timeout, server
/// restart), so that a fresh connection may succeed.
fn connection_lost(e: &TransportError) -> bool {
    match e {
        TransportError::Protocol { message, .. } => message.starts_with(CONNECTION_CLOSED),
        TransportError::Unavailable { .. } => true,
        _ => false,
    }
}

/// A logged-in FTP connection whose working folder is the target folder of
/// its [`FtpAddress`].
///
/// Tills never create the target folder: when it is missing, file operations
/// fail with [`TransportError::FolderNotFound`]. The server calls
/// [`FtpClient::ensure_target_dir`] before publishing.
pub struct FtpClient {
    stream: FtpStream,
    addr: FtpAddress,
    shown: String,
    user: String,
    welcome: Option<String>,
    in_target: bool,
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

/// What an FTP operation was doing, for error messages.
#[derive(Debug, Clone, Copy)]
enum Op<'a> {
    Connect,
    Greeting,
    Login,
    Binary,
    Cwd,
    Mkdir(&'a str),
    Retr(&'a str),
    Stor(&'a str),
    RenameFrom(&'a str),
    RenameTo(&'a str, &'a str),
    Dele(&'a str),
    List,
    Quit,
}

impl Op<'_> {
    /// "while …" form.
    fn doing(&self) -> String {
        match self {
            Op::Connect => "connecting".into(),
            Op::Greeting => "waiting for the welcome message".into(),
            Op::Login => "logging in".into(),
            Op::Binary => "switching to binary transfer mode".into(),
            Op::Cwd => "opening the target folder".into(),
            Op::Mkdir(d) => format!("creating the folder {d}"),
            Op::Retr(n) => format!("downloading {n}"),
            Op::Stor(n) => format!("uploading {n}"),
            Op::RenameFrom(n) => format!("renaming {n}"),
            Op::RenameTo(a, b) => format!("renaming {a} to {b}"),
            Op::Dele(n) => format!("deleting {n}"),
            Op::List => "listing the folder".into(),
            Op::Quit => "closing the connection".into(),
        }
    }

    /// "could not …" form.
    fn action(&self) -> String {
        match self {
            Op::Connect => "connect".into(),
            Op::Greeting => "read the welcome message".into(),
            Op::Login => "log in".into(),
            Op::Binary => "switch to binary transfer mode".into(),
            Op::Cwd => "open the target folder".into(),
            Op::Mkdir(d) => format!("create the folder {d}"),
            Op::Retr(n) => format!("read {n}"),
            Op::Stor(n) => format!("write {n}"),
            Op::RenameFrom(n) => format!("rename {n}"),
            Op::RenameTo(a, b) => format!("rename {a} to {b}"),
            Op::Dele(n) => format!("delete {n}"),
            Op::List => "list the files".into(),
            Op::Quit => "close the connection".into(),
        }
    }
}

/// The passive data connection could not be opened; carried inside an
/// `io::Error` through suppaftp so that it is not mistaken for a refused
/// control connection.
#[derive(Debug)]
struct DataConnectError {
    data_addr: SocketAddr,
    source: io::Error,
}

impl fmt::Display for DataConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "data connection to {} failed: {}",
            self.data_addr, self.source
        )
    }
}

impl std::error::Error for DataConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Reply code of a response (suppaftp maps unknown codes to 0).
fn reply_code(resp: &Response) -> u32 {
    let code = resp.status.code();
    if code != 0 {
        return code;
    }
    let b = &resp.body;
    if b.len() >= 3 && b[..3].iter().all(u8::is_ascii_digit) {
        u32::from(b[0] - b'0') * 100 + u32::from(b[1] - b'0') * 10 + u32::from(b[2] - b'0')
    } else {
        0
    }
}

/// The reply as one line of text.
fn reply_text(resp: &Response) -> String {
    String::from_utf8_lossy(&resp.body)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" / ")
}

fn mentions_permission(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("permission") || t.contains("denied") || t.contains("not allowed")
}

/// Turns a suppaftp error into a [`TransportError`] that names the server.
fn map_ftp_error(shown: &str, user: &str, op: Op<'_>, err: FtpError) -> TransportError {
    match err {
        FtpError::ConnectionError(io) => map_io_error(shown, op, io),
        FtpError::UnexpectedResponse(resp) => {
            map_reply(shown, user, op, reply_code(&resp), reply_text(&resp))
        }
        FtpError::BadResponse => TransportError::Protocol {
            addr: shown.to_string(),
            what: op.doing(),
            message: "the reply is not valid FTP (is this really an FTP server?)".into(),
        },
        FtpError::InvalidAddress(e) => TransportError::Protocol {
            addr: shown.to_string(),
            what: op.doing(),
            message: format!("the server sent an invalid address: {e}"),
        },
        #[allow(unreachable_patterns)]
        other => TransportError::Protocol {
            addr: shown.to_string(),
            what: op.doing(),
            message: other.to_string(),
        },
    }
}

fn map_io_error(shown: &str, op: Op<'_>, io: io::Error) -> TransportError {
    if let Some(data) = io
        .get_ref()
        .and_then(|e| e.downcast_ref::<DataConnectError>())
    {
        let reason = match data.source.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => "no answer in time".to_string(),
            io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
            _ => data.source.to_string(),
        };
        return TransportError::DataConnection {
            addr: shown.to_string(),
            data_addr: data.data_addr.to_string(),
            reason,
        };
    }
    let addr = shown.to_string();
    match io.kind() {
        io::ErrorKind::ConnectionRefused => TransportError::ConnectionRefused { addr },
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => TransportError::Timeout {
            addr,
            what: op.doing(),
        },
        io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
            TransportError::HostUnreachable { addr }
        }
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => TransportError::Protocol {
            addr,
            what: op.doing(),
            message: CONNECTION_CLOSED.into(),
        },
        _ => TransportError::Io {
            location: addr,
            action: op.action(),
            source: io,
        },
    }
}

fn map_reply(shown: &str, user: &str, op: Op<'_>, code: u32, text: String) -> TransportError {
    let location = shown.to_string();
    let perm = mentions_permission(&text);
    match (code, op) {
        (530, _) => TransportError::LoginRefused {
            addr: location,
            user: user.to_string(),
        },
        (421, _) => TransportError::Unavailable {
            addr: location,
            message: text,
        },
        // "221 Session timed out" (libunftp) when not quitting: the session is over.
        (221, op) if !matches!(op, Op::Quit) => TransportError::Protocol {
            addr: location,
            what: op.doing(),
            message: format!("{CONNECTION_CLOSED} (\"{text}\")"),
        },
        (550 | 450, Op::Retr(name) | Op::RenameFrom(name)) if !perm => TransportError::NotFound {
            name: name.to_string(),
            location,
        },
        (550, Op::Cwd) => TransportError::FolderNotFound { location },
        (550 | 553 | 532 | 450, Op::Stor(_) | Op::Mkdir(_) | Op::RenameTo(..) | Op::Dele(_))
        | (550 | 450, Op::Retr(_) | Op::RenameFrom(_)) => TransportError::PermissionDenied {
            location,
            action: op.action(),
        },
        _ => TransportError::Protocol {
            addr: location,
            what: op.doing(),
            message: format!("the server answered \"{text}\""),
        },
    }
}

/// Strips the reply codes from a (possibly multi-line) welcome banner.
fn banner_text(raw: &str) -> String {
    raw.lines()
        .map(|l| {
            let l = l.trim();
            if l.len() >= 4
                && l[..3].bytes().all(|b| b.is_ascii_digit())
                && matches!(l.as_bytes()[3], b' ' | b'-')
            {
                l[4..].trim()
            } else {
                l
            }
        })
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
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

    fn map(&self, op: Op<'_>, e: FtpError) -> TransportError {
        map_ftp_error(&self.shown, &self.user, op, e)
    }

    fn require_target(&self) -> Result<(), TransportError> {
        if self.in_target {
            Ok(())
        } else {
            Err(TransportError::FolderNotFound {
                location: self.shown.clone(),
            })
        }
    }

    /// Stores `bytes` as `remote` (no temporary name, no rename).
    fn store_raw(
        &mut self,
        remote: &str,
        shown_name: &str,
        bytes: &[u8],
    ) -> Result<(), TransportError> {
        let op = Op::Stor(shown_name);
        let mut transfer = self
            .stream
            .put_with_stream(remote)
            .map_err(|e| self.map(op, e))?;
        let written = transfer.write_all(bytes).and_then(|()| transfer.flush());
        let finished = transfer.finish();
        match (written, finished) {
            (Ok(()), Ok(())) => Ok(()),
            // The server's reply explains a failed write better than a broken pipe.
            (_, Err(e @ FtpError::UnexpectedResponse(_))) => Err(self.map(op, e)),
            (Err(io), _) => Err(self.map(op, FtpError::ConnectionError(io))),
            (Ok(()), Err(e)) => Err(self.map(op, e)),
        }
    }

    /// RNFR + RNTO. Returns whether RNFR was accepted, with the result.
    fn rename_raw(&mut self, from: &str, to: &str) -> (bool, Result<(), TransportError>) {
        if let Err(e) = self
            .stream
            .custom_command(format!("RNFR {from}"), &[Status::RequestFilePending])
        {
            return (false, Err(self.map(Op::RenameFrom(from), e)));
        }
        let result = self
            .stream
            .custom_command(
                format!("RNTO {to}"),
                &[Status::RequestedFileActionOk, Status::CommandOk],
            )
            .map(|_| ())
            .map_err(|e| self.map(Op::RenameTo(from, to), e));
        (true, result)
    }

    /// Publishes `bytes` as `name`: uploads under a temporary name, then
    /// renames it over `name`. If the server refuses to rename over an
    /// existing file (some Windows servers do), the old file is deleted and
    /// the rename retried.
    pub fn upload(&mut self, name: &str, bytes: &[u8]) -> Result<(), TransportError> {
        validate_name(name)?;
        self.require_target()?;
        let tmp = temp_name(name);
        if let Err(e) = self.store_raw(&tmp, name, bytes) {
            let _ = self.stream.rm(&tmp);
            return Err(e);
        }
        let (from_ok, result) = self.rename_raw(&tmp, name);
        let result = match result {
            Err(first) if from_ok => {
                if self.stream.rm(name).is_ok() {
                    self.rename_raw(&tmp, name).1.map_err(|_| first)
                } else {
                    Err(first)
                }
            }
            other => other,
        };
        if result.is_err() {
            let _ = self.stream.rm(&tmp);
        }
        result
    }

    /// Downloads `name` from the target folder.
    pub fn download(&mut self, name: &str) -> Result<Vec<u8>, TransportError> {
        validate_name(name)?;
        self.require_target()?;
        self.stream
            .retr(name, |r| {
                let mut buf = Vec::new();
                r.read_to_end(&mut buf).map_err(FtpError::ConnectionError)?;
                Ok(buf)
            })
            .map_err(|e| self.map(Op::Retr(name), e))
    }

    /// The file names of the target folder (NLST), without folder prefix,
    /// `.`, `..` and temporary names, sorted.
    pub fn list(&mut self) -> Result<Vec<String>, TransportError> {
        self.require_target()?;
        match self.stream.nlst(None) {
            Ok(lines) => Ok(clean_listing(lines)),
            // Some servers answer "550/450 No files found" for an empty folder.
            Err(FtpError::UnexpectedResponse(r)) if matches!(reply_code(&r), 450 | 550) => {
                Ok(Vec::new())
            }
            Err(e) => Err(self.map(Op::List, e)),
        }
    }

    /// Deletes `name`; a missing file is not an error.
    pub fn delete(&mut self, name: &str) -> Result<(), TransportError> {
        validate_name(name)?;
        self.require_target()?;
        match self.stream.rm(name) {
            Ok(()) => Ok(()),
            Err(FtpError::UnexpectedResponse(r)) if matches!(reply_code(&r), 450 | 550) => {
                // 550 means "missing" or "not allowed" depending on the server:
                // look whether the file is still there.
                let refused = self.map(Op::Dele(name), FtpError::UnexpectedResponse(r));
                match self.list() {
                    Ok(names) if !names.iter().any(|n| n == name) => Ok(()),
                    _ => Err(refused),
                }
            }
            Err(e) => Err(self.map(Op::Dele(name), e)),
        }
    }

    /// Renames `from` to `to` in the target folder.
    pub fn rename(&mut self, from: &str, to: &str) -> Result<(), TransportError> {
        validate_name(from)?;
        validate_name(to)?;
        self.require_target()?;
        self.rename_raw(from, to).1
    }

    /// Says goodbye to the server and closes the connection.
    pub fn quit(mut self) -> Result<(), TransportError> {
        self.stream.quit().map_err(|e| self.map(Op::Quit, e))
    }
}

/// How to connect again; the password stays out of `Debug`.
struct Reconnect {
    addr: FtpAddress,
    user: String,
    password: String,
    timeout: Duration,
    create_target: bool,
}

/// A [`PackageStore`] in the target folder of an FTP server.
///
/// A store made by [`FtpStore::connect`] reconnects once when the server has
/// closed the connection meanwhile (idle timeout between two exports) and
/// retries the operation: every operation is idempotent.
pub struct FtpStore {
    client: FtpClient,
    reconnect: Option<Reconnect>,
}

impl fmt::Debug for FtpStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FtpStore")
            .field("client", &self.client)
            .field("reconnects", &self.reconnect.is_some())
            .finish()
    }
}

impl FtpStore {
    /// Wraps a connected client (no automatic reconnection).
    pub fn new(client: FtpClient) -> Self {
        FtpStore {
            client,
            reconnect: None,
        }
    }

    /// Connects (see [`FtpClient::connect`]); with `create_target` the target
    /// folder is created when missing (server side, publishing).
    pub fn connect(
        addr: &FtpAddress,
        user: &str,
        password: &str,
        timeout: Duration,
        create_target: bool,
    ) -> Result<Self, TransportError> {
        let reconnect = Reconnect {
            addr: addr.clone(),
            user: user.to_string(),
            password: password.to_string(),
            timeout,
            create_target,
        };
        let client = Self::open(&reconnect)?;
        Ok(FtpStore {
            client,
            reconnect: Some(reconnect),
        })
    }

    fn open(r: &Reconnect) -> Result<FtpClient, TransportError> {
        let mut client = FtpClient::connect(&r.addr, &r.user, &r.password, r.timeout)?;
        if r.create_target {
            client.ensure_target_dir()?;
        }
        Ok(client)
    }

    /// Runs `op`; if the connection turns out to be lost, connects again
    /// once and reruns it.
    fn retrying<T>(
        &mut self,
        mut op: impl FnMut(&mut FtpClient) -> Result<T, TransportError>,
    ) -> Result<T, TransportError> {
        match op(&mut self.client) {
            Err(e) if connection_lost(&e) => {
                let Some(r) = &self.reconnect else {
                    return Err(e);
                };
                tracing::info!(addr = %self.client.shown, error = %e, "FTP connection lost; connecting again");
                self.client = Self::open(r)?;
                op(&mut self.client)
            }
            other => other,
        }
    }

    /// The underlying client.
    pub fn client(&mut self) -> &mut FtpClient {
        &mut self.client
    }

    /// Gives the client back.
    pub fn into_client(self) -> FtpClient {
        self.client
    }
}

impl PackageStore for FtpStore {
    fn put(&mut self, name: &str, bytes: &[u8]) -> Result<(), TransportError> {
        self.retrying(|c| c.upload(name, bytes))
    }

    fn get(&mut self, name: &str) -> Result<Vec<u8>, TransportError> {
        self.retrying(|c| c.download(name))
    }

    fn list(&mut self) -> Result<Vec<String>, TransportError> {
        self.retrying(FtpClient::list)
    }

    fn delete(&mut self, name: &str) -> Result<(), TransportError> {
        self.retrying(|c| c.delete(name))
    }

    fn describe(&self) -> String {
        self.client.shown.clone()
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(code: u32, text: &str) -> FtpError {
        FtpError::UnexpectedResponse(Response::new(
            Status::from(code),
            format!("{code} {text}\r\n").into_bytes(),
        ))
    }

    const A: &str = "ftp://10.1.2.3:21/pkgs";

    #[test]
    fn login_refused_names_user_not_password() {
        let e = map_ftp_error(A, "till", Op::Login, resp(530, "Login incorrect."));
        assert!(matches!(e, TransportError::LoginRefused { .. }), "{e:?}");
        assert!(e.to_string().contains(A));
    }

    #[test]
    fn retr_550_is_not_found_and_names_file_and_folder() {
        let e = map_ftp_error(
            A,
            "u",
            Op::Retr("test.txt"),
            resp(550, "Failed to open file."),
        );
        assert!(e.is_not_found());
        let s = e.to_string();
        assert!(s.contains("test.txt") && s.contains(A), "{s}");
        let e = map_ftp_error(A, "u", Op::Retr("x"), resp(550, "Permission denied"));
        assert!(
            matches!(e, TransportError::PermissionDenied { .. }),
            "{e:?}"
        );
    }

    #[test]
    fn stor_refusals_are_permission_denied() {
        for code in [550, 553] {
            let e = map_ftp_error(A, "u", Op::Stor("p"), resp(code, "Could not create file."));
            assert!(
                matches!(e, TransportError::PermissionDenied { .. }),
                "{e:?}"
            );
        }
    }

    #[test]
    fn io_errors() {
        let e = map_ftp_error(
            A,
            "u",
            Op::Connect,
            FtpError::ConnectionError(io::ErrorKind::ConnectionRefused.into()),
        );
        assert!(matches!(e, TransportError::ConnectionRefused { .. }));
        assert!(e.is_unavailable());
        let e = map_ftp_error(
            A,
            "u",
            Op::Retr("a"),
            FtpError::ConnectionError(io::ErrorKind::WouldBlock.into()),
        );
        assert!(matches!(e, TransportError::Timeout { .. }));
        assert!(e.to_string().contains("downloading a"), "{e}");
        let data = io::Error::new(
            io::ErrorKind::ConnectionRefused,
            DataConnectError {
                data_addr: "10.1.2.3:40000".parse().unwrap(),
                source: io::ErrorKind::ConnectionRefused.into(),
            },
        );
        let e = map_ftp_error(A, "u", Op::List, FtpError::ConnectionError(data));
        assert!(matches!(e, TransportError::DataConnection { .. }), "{e:?}");
        assert!(!e.is_unavailable());
    }

    #[test]
    fn service_not_available_and_unknown_codes() {
        let e = map_ftp_error(A, "u", Op::Login, resp(421, "Too many users"));
        assert!(e.is_unavailable());
        assert!(e.to_string().contains("Too many users"));
        let e = map_ftp_error(A, "u", Op::List, resp(599, "odd"));
        assert!(e.to_string().contains("599 odd"), "{e}");
    }

    #[test]
    fn lost_connections_are_recognised() {
        let e = map_ftp_error(A, "u", Op::Retr("a"), resp(221, "Session timed out."));
        assert!(connection_lost(&e), "{e:?}");
        assert!(e.to_string().contains("Session timed out"), "{e}");
        let e = map_ftp_error(A, "u", Op::List, resp(421, "Timeout."));
        assert!(connection_lost(&e), "{e:?}");
        let e = map_ftp_error(
            A,
            "u",
            Op::List,
            FtpError::ConnectionError(io::ErrorKind::UnexpectedEof.into()),
        );
        assert!(connection_lost(&e), "{e:?}");
        let e = map_ftp_error(A, "u", Op::Retr("a"), resp(550, "No such file."));
        assert!(!connection_lost(&e));
        assert!(!connection_lost(&map_ftp_error(
            A,
            "u",
            Op::Quit,
            resp(221, "Bye")
        )));
    }

    #[test]
    fn banner_without_codes() {
        assert_eq!(banner_text("220 Welcome to X"), "Welcome to X");
        assert_eq!(banner_text("220-Hello\r\n220 World"), "Hello World");
        assert_eq!(banner_text("220 (vsFTPd 3.0.3)"), "(vsFTPd 3.0.3)");
        assert_eq!(banner_text("220é"), "220é");
    }

    #[test]
    fn store_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<FtpStore>();
        assert_send::<FtpClient>();
    }

    #[test]
    fn unresolvable_host() {
        let addr: FtpAddress = "ftp://no-such-host.invalid:21/x".parse().unwrap();
        let e = FtpClient::connect(&addr, "u", "p", Duration::from_secs(5)).unwrap_err();
        assert!(matches!(e, TransportError::Resolve { .. }), "{e:?}");
        assert!(e.to_string().contains("no-such-host.invalid"), "{e}");
    }
}
