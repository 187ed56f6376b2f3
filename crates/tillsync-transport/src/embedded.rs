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
//! [`Binder`], so many servers and tests can run
//! side by side; [`EmbeddedFtp::passive_ports`] sets a fixed range instead
//! (for firewalls).

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use libunftp::options::{Binder, PassiveHost};
use libunftp::{Server, ServerBuilder};
use tillsync_core::FtpAddress;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use unftp_core::auth::{AuthenticationError, Authenticator, Credentials, DefaultUser, Principal};
use unftp_core::storage::{self, ErrorKind, Fileinfo, Metadata, StorageBackend};
use unftp_sbe_fs::{Filesystem, Meta};

use crate::error::TransportError;
use crate::store::is_temp_name;

/// How long [`EmbeddedFtpHandle::shutdown`] lets open sessions finish.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

const GREETING: &str = "tillsync package server (read-only)";

/// Configuration of the embedded, read-only FTP server.
///
/// ```no_run
/// # async fn demo() -> Result<(), tillsync_transport::TransportError> {
/// use tillsync_transport::EmbeddedFtp;
/// let handle = EmbeddedFtp::start(
///     "/srv/tillsync/share".into(),
///     "till",
///     "secret",
///     "127.0.0.1:0".parse().unwrap(),
/// )
/// .await?;
/// println!("FTP on {}", handle.local_addr());
/// handle.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct EmbeddedFtp {
    root: PathBuf,
    user: String,
    password: String,
    listen: SocketAddr,
    passive_ports: Option<RangeInclusive<u16>>,
    idle_timeout: Duration,
}

impl fmt::Debug for EmbeddedFtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedFtp")
            .field("root", &self.root)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("listen", &self.listen)
            .field("passive_ports", &self.passive_ports)
            .field("idle_timeout", &self.idle_timeout)
            .finish()
    }
}

impl EmbeddedFtp {
    /// A server for the folder `root`, accepting only `user` with `password`,
    /// listening on `listen` (port 0: any free port).
    pub fn new(root: PathBuf, user: &str, password: &str, listen: SocketAddr) -> Self {
        EmbeddedFtp {
            root,
            user: user.to_string(),
            password: password.to_string(),
            listen,
            passive_ports: None,
            idle_timeout: Duration::from_secs(120),
        }
    }

    /// Use this range for passive data ports instead of ephemeral ports.
    pub fn passive_ports(mut self, range: RangeInclusive<u16>) -> Self {
        self.passive_ports = Some(range);
        self
    }

    /// Close control connections idle for longer than this (default 120 s).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Starts a server with the default options on the current tokio runtime.
    pub async fn start(
        root: PathBuf,
        user: &str,
        password: &str,
        listen: SocketAddr,
    ) -> Result<EmbeddedFtpHandle, TransportError> {
        Self::new(root, user, password, listen).spawn().await
    }

    /// Starts a server with the default options on its own thread and
    /// runtime, for synchronous callers and tests.
    pub fn start_in_background(
        root: PathBuf,
        user: &str,
        password: &str,
        listen: SocketAddr,
    ) -> Result<EmbeddedFtpBackground, TransportError> {
        Self::new(root, user, password, listen).spawn_in_background()
    }

    fn start_error(&self, reason: impl Into<String>) -> TransportError {
        TransportError::ServerStart {
            addr: self.listen.to_string(),
            reason: reason.into(),
        }
    }

    /// Binds the listening socket and serves on the current tokio runtime
    /// (creates the folder if needed). Returns once the port is bound.
    pub async fn spawn(self) -> Result<EmbeddedFtpHandle, TransportError> {
        if self.user.is_empty() || self.password.is_empty() {
            return Err(self.start_error("an FTP user name and password are required"));
        }
        std::fs::create_dir_all(&self.root).map_err(|e| {
            self.start_error(format!(
                "could not create the folder {}: {e}",
                self.root.display()
            ))
        })?;
        Filesystem::new(self.root.clone()).map_err(|e| {
            self.start_error(format!(
                "could not open the folder {}: {e}",
                self.root.display()
            ))
        })?;
        let listener = TcpListener::bind(self.listen)
            .await
            .map_err(|e| self.start_error(e.to_string()))?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| self.start_error(e.to_string()))?;
        let shared = Arc::new(Shared {
            root: self.root.clone(),
            auth: Arc::new(SingleUser {
                user: self.user.clone(),
                password: self.password.clone(),
            }),
            passive_ports: self.passive_ports.clone(),
            idle_timeout: self.idle_timeout,
        });
        let (stop_tx, stop_rx) = oneshot::channel();
        let task = tokio::spawn(accept_loop(listener, shared, stop_rx));
        tracing::info!(addr = %local_addr, root = %self.root.display(), "embedded FTP server listening");
        Ok(EmbeddedFtpHandle {
            local_addr,
            stop: Some(stop_tx),
            task: Some(task),
        })
    }

    /// Like [`spawn`](Self::spawn) but on a dedicated thread with its own
    /// single-threaded tokio runtime. Returns once the port is bound.
    pub fn spawn_in_background(self) -> Result<EmbeddedFtpBackground, TransportError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<Duration>();
        let listen = self.listen;
        let thread = std::thread::Builder::new()
            .name("tillsync-ftp".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(self.start_error(e.to_string())));
                        return;
                    }
                };
                rt.block_on(async move {
                    let handle = match self.spawn().await {
                        Ok(h) => h,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(handle.local_addr()));
                    let grace = stop_rx.await.unwrap_or(Duration::ZERO);
                    handle.shutdown_with_grace(grace).await;
                });
                // Blocking file reads of unfinished transfers must not hold us up.
                rt.shutdown_timeout(Duration::from_secs(1));
            })
            .map_err(|e| TransportError::ServerStart {
                addr: listen.to_string(),
                reason: format!("could not start a thread: {e}"),
            })?;
        let local_addr = match ready_rx.recv() {
            Ok(Ok(addr)) => addr,
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(e);
            }
            Err(_) => {
                let _ = thread.join();
                return Err(TransportError::ServerStart {
                    addr: listen.to_string(),
                    reason: "the server thread stopped unexpectedly".into(),
                });
            }
        };
        Ok(EmbeddedFtpBackground {
            local_addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

/// The `ftp://` address of a server listening on `local_addr`, with `path`
/// as target folder (an unspecified listen address becomes loopback).
fn address_of(local_addr: SocketAddr, path: &str) -> FtpAddress {
    let ip = match local_addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    FtpAddress {
        host: ip.to_string(),
        port: local_addr.port(),
        path: path.trim_matches('/').to_string(),
    }
}

/// A running embedded server on a tokio runtime. Dropping it stops the
/// server at once (open sessions are closed); [`shutdown`](Self::shutdown)
/// lets them finish first.
#[derive(Debug)]
pub struct EmbeddedFtpHandle {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<Duration>>,
    task: Option<JoinHandle<()>>,
}

impl EmbeddedFtpHandle {
    /// The address actually bound (the real port when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The `ftp://` address of this server with `path` as target folder.
    pub fn ftp_address(&self, path: &str) -> FtpAddress {
        address_of(self.local_addr, path)
    }

    /// Stops accepting, lets open sessions end for up to
    /// [`DEFAULT_SHUTDOWN_GRACE`], then closes the rest.
    pub async fn shutdown(self) {
        self.shutdown_with_grace(DEFAULT_SHUTDOWN_GRACE).await;
    }

    /// Stops accepting, lets open sessions end for up to `grace`, then
    /// closes the rest.
    pub async fn shutdown_with_grace(mut self, grace: Duration) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(grace);
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        tracing::info!(addr = %self.local_addr, "embedded FTP server stopped");
    }
}

impl Drop for EmbeddedFtpHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// A running embedded server on its own thread (see
/// [`EmbeddedFtp::start_in_background`]). Dropping it stops the server at
/// once and waits (about a second at most) for the thread.
#[derive(Debug)]
pub struct EmbeddedFtpBackground {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<Duration>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EmbeddedFtpBackground {
    /// The address actually bound (the real port when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The `ftp://` address of this server with `path` as target folder.
    pub fn ftp_address(&self, path: &str) -> FtpAddress {
        address_of(self.local_addr, path)
    }

    /// Stops the server, letting open sessions end for up to
    /// [`DEFAULT_SHUTDOWN_GRACE`], and waits for its thread.
    pub fn shutdown(mut self) {
        self.stop_and_join(DEFAULT_SHUTDOWN_GRACE);
    }

    /// Stops the server, letting open sessions end for up to `grace`, and
    /// waits for its thread.
    pub fn shutdown_with_grace(mut self, grace: Duration) {
        self.stop_and_join(grace);
    }

    fn stop_and_join(&mut self, grace: Duration) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(grace);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for EmbeddedFtpBackground {
    fn drop(&mut self) {
        self.stop_and_join(Duration::ZERO);
    }
}

/// What every connection's server shares.
#[derive(Debug)]
struct Shared {
    root: PathBuf,
    auth: Arc<SingleUser>,
    passive_ports: Option<RangeInclusive<u16>>,
    idle_timeout: Duration,
}

fn build_server(shared: &Shared) -> Result<Server<ReadOnlyFs, DefaultUser>, libunftp::ServerError> {
    let root = shared.root.clone();
    let builder = ServerBuilder::with_authenticator(
        Box::new(move || ReadOnlyFs::open(&root)),
        shared.auth.clone(),
    )
    .greeting(GREETING)
    .idle_session_timeout(shared.idle_timeout.as_secs().max(1))
    .passive_host(PassiveHost::FromConnection);
    let builder = match &shared.passive_ports {
        Some(range) => builder.passive_ports(range.clone()),
        None => builder.binder(EphemeralPortBinder),
    };
    builder.build()
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: oneshot::Receiver<Duration>,
) {
    let mut sessions = JoinSet::new();
    let grace = loop {
        tokio::select! {
            grace = &mut stop => break grace.unwrap_or(Duration::ZERO),
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => match build_server(&shared) {
                    Ok(server) => {
                        tracing::debug!(%peer, "embedded FTP: new connection");
                        sessions.spawn(async move {
                            if let Err(e) = server.service(socket).await {
                                tracing::debug!(%peer, error = ?e, "embedded FTP: session ended with an error");
                            }
                        });
                    }
                    Err(e) => tracing::error!(error = %e, "embedded FTP: could not set up a session"),
                },
                Err(e) => {
                    // Typically "too many open files": wait a little instead of spinning.
                    tracing::warn!(error = %e, "embedded FTP: could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    };
    drop(listener);
    if !grace.is_zero() && !sessions.is_empty() {
        let _ = tokio::time::timeout(grace, async {
            while sessions.join_next().await.is_some() {}
        })
        .await;
    }
    // Aborting a session drops its shutdown notifier: libunftp's control loop
    // then closes the connection.
    sessions.shutdown().await;
}

/// Binds passive data sockets to an ephemeral port on the control
/// connection's local address.
#[derive(Debug)]
struct EphemeralPortBinder;

#[async_trait]
impl Binder for EphemeralPortBinder {
    async fn bind(
        &mut self,
        local_addr: IpAddr,
        _passive_ports: RangeInclusive<u16>,
    ) -> io::Result<TcpSocket> {
        let socket = match local_addr {
            IpAddr::V4(_) => TcpSocket::new_v4()?,
            IpAddr::V6(_) => TcpSocket::new_v6()?,
        };
        socket.bind(SocketAddr::new(local_addr, 0))?;
        Ok(socket)
    }
}

/// The one account of the embedded server.
struct SingleUser {
    user: String,
    password: String,
}

impl fmt::Debug for SingleUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SingleUser")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Compares without an early exit, so the time taken does not tell how many
/// leading bytes were right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0);
    }
    std::hint::black_box(diff) == 0
}

#[async_trait]
impl Authenticator for SingleUser {
    async fn authenticate(
        &self,
        username: &str,
        creds: &Credentials,
    ) -> Result<Principal, AuthenticationError> {
        let password = creds.password.as_deref().unwrap_or("");
        let user_ok = constant_time_eq(username.as_bytes(), self.user.as_bytes());
        let password_ok = constant_time_eq(password.as_bytes(), self.password.as_bytes());
        if user_ok & password_ok {
            Ok(Principal {
                username: username.to_string(),
            })
        } else {
            tracing::info!(user = username, source = %creds.source_ip, "embedded FTP: login refused");
            Err(if user_ok {
                AuthenticationError::BadPassword
            } else {
                AuthenticationError::BadUser
            })
        }
    }
}

/// The file system back end with every write refused: tills only read.
/// Temporary upload names of the share folder are hidden from listings.
#[derive(Debug)]
struct ReadOnlyFs {
    inner: Option<Filesystem>,
}

impl ReadOnlyFs {
    fn open(root: &Path) -> Self {
        match Filesystem::new(root.to_path_buf()) {
            Ok(fs) => ReadOnlyFs { inner: Some(fs) },
            Err(e) => {
                tracing::error!(root = %root.display(), error = %e, "embedded FTP: cannot open the folder");
                ReadOnlyFs { inner: None }
            }
        }
    }

    fn fs(&self) -> storage::Result<&Filesystem> {
        self.inner
            .as_ref()
            .ok_or_else(|| storage::Error::from(ErrorKind::LocalError))
    }
}

fn read_only<T>() -> storage::Result<T> {
    Err(storage::Error::from(ErrorKind::PermissionDenied))
}

#[async_trait]
impl StorageBackend<DefaultUser> for ReadOnlyFs {
    type Metadata = Meta;

    fn enter(&mut self, user_detail: &DefaultUser) -> io::Result<()> {
        match self.inner.as_mut() {
            Some(fs) => StorageBackend::<DefaultUser>::enter(fs, user_detail),
            None => Ok(()),
        }
    }

    fn supported_features(&self) -> u32 {
        storage::FEATURE_RESTART
    }

    async fn metadata<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> storage::Result<Self::Metadata> {
        self.fs()?.metadata(user, path).await
    }

    async fn list<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> storage::Result<Vec<Fileinfo<PathBuf, Self::Metadata>>>
    where
        <Self as StorageBackend<DefaultUser>>::Metadata: Metadata,
    {
        let mut entries = self.fs()?.list(user, path).await?;
        entries.retain(|fi| {
            !fi.path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(is_temp_name)
        });
        Ok(entries)
    }

    async fn get<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &DefaultUser,
        path: P,
        start_pos: u64,
    ) -> storage::Result<Box<dyn tokio::io::AsyncRead + Send + Sync + Unpin>> {
        self.fs()?.get(user, path, start_pos).await
    }

    async fn put<
        P: AsRef<Path> + Send + fmt::Debug,
        R: tokio::io::AsyncRead + Send + Sync + Unpin + 'static,
    >(
        &self,
        _user: &DefaultUser,
        _input: R,
        _path: P,
        _start_pos: u64,
    ) -> storage::Result<u64> {
        read_only()
    }

    async fn del<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        _user: &DefaultUser,
        _path: P,
    ) -> storage::Result<()> {
        read_only()
    }

    async fn mkd<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        _user: &DefaultUser,
        _path: P,
    ) -> storage::Result<()> {
        read_only()
    }

    async fn rename<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        _user: &DefaultUser,
        _from: P,
        _to: P,
    ) -> storage::Result<()> {
        read_only()
    }

    async fn rmd<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        _user: &DefaultUser,
        _path: P,
    ) -> storage::Result<()> {
        read_only()
    }

    async fn cwd<P: AsRef<Path> + Send + fmt::Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> storage::Result<()> {
        self.fs()?.cwd(user, path).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_works() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn debug_never_shows_the_password() {
        let cfg = EmbeddedFtp::new(
            "/x".into(),
            "till",
            "s3cret-pw",
            "127.0.0.1:0".parse().unwrap(),
        );
        let s = format!("{cfg:?}");
        assert!(!s.contains("s3cret-pw") && s.contains("till"), "{s}");
        let u = SingleUser {
            user: "till".into(),
            password: "s3cret-pw".into(),
        };
        assert!(!format!("{u:?}").contains("s3cret-pw"));
    }

    #[tokio::test]
    async fn authenticator_accepts_only_the_user() {
        let u = SingleUser {
            user: "till".into(),
            password: "pw".into(),
        };
        assert!(
            u.authenticate("till", &Credentials::from("pw"))
                .await
                .is_ok()
        );
        assert!(
            u.authenticate("till", &Credentials::from("px"))
                .await
                .is_err()
        );
        assert!(
            u.authenticate("tilx", &Credentials::from("pw"))
                .await
                .is_err()
        );
        assert!(
            u.authenticate("anonymous", &Credentials::from(""))
                .await
                .is_err()
        );
    }

    #[test]
    fn unspecified_listen_address_becomes_loopback() {
        let a = address_of("0.0.0.0:2121".parse().unwrap(), "/pkgs/");
        assert_eq!(a.to_string(), "ftp://127.0.0.1:2121/pkgs");
    }

    #[tokio::test]
    async fn port_zero_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let h = EmbeddedFtp::start(dir.path().into(), "u", "p", "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        assert_ne!(h.local_addr().port(), 0);
        h.shutdown().await;
    }

    #[tokio::test]
    async fn empty_password_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = EmbeddedFtp::start(dir.path().into(), "u", "", "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap_err();
        assert!(matches!(e, TransportError::ServerStart { .. }), "{e:?}");
    }
}
