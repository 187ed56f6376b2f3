//! The embedded server's configuration and its start and stop: [`EmbeddedFtp`]
//! binds the listening socket and runs the accept loop on a tokio runtime
//! (the current one or its own thread); [`EmbeddedFtpHandle`] and
//! [`EmbeddedFtpBackground`] stop it.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tillsync_core::FtpAddress;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use unftp_sbe_fs::Filesystem;

use crate::embedded::auth::SingleUser;
use crate::embedded::session::{Shared, accept_loop};
use crate::error::TransportError;

/// How long [`EmbeddedFtpHandle::shutdown`] lets open sessions finish.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

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

#[cfg(test)]
mod tests {
    use super::*;

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
