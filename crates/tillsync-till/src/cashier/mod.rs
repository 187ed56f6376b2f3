//! The cashier page that `till run` serves on loopback (`till.listen`):
//! find items, build a ticket, take payment, show the receipt; create, edit
//! and abandon customers; a connection indicator and the count of tickets
//! waiting to go up. Server-rendered HTML (maud) with one small script;
//! every asset is in the binary.
//!
//! The page records nothing itself: a sale goes through [`Register::sell`]
//! (the path of `till sell`), customers through [`crate::up::customers`] (the
//! path of `till customer create|edit|abandon`). The ticket being built
//! lives in a server-side cart per browser session until payment is taken.
//!
//! The page has no login: it listens on loopback unless explicitly allowed
//! otherwise, checks the `Host` header (against DNS rebinding), and every
//! form carries a CSRF token that must match the session cookie.
//!
//! # Layout
//! - [`items`]: finding items in the till's `ART` by code, label or barcode.
//! - `session`: the session cookie, CSRF check and carts.
//! - `pages`: the HTML (French or English).
//! - `refusal`: the refusals shown, in the page's language.
//! - `routes`: the handlers.

pub mod items;
mod pages;
mod refusal;
mod routes;
mod session;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use tillsync_core::TillConfig;
use tillsync_core::lang::Lang;

use crate::error::TillError;
use crate::up::sell::Register;

pub use routes::router;

/// How `till run` serves the cashier page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CashierOptions {
    /// Address to listen on; `None`: `till.listen` from the configuration.
    pub listen: Option<SocketAddr>,
    /// Accept a non-loopback address (the page has no login).
    pub allow_remote: bool,
}

/// The connection to the server as the synchroniser last saw it (a push
/// that went through, or a ping answered within `ping_timeout_ms`). Shared
/// by the agent, which sets it, and the page, which shows it.
#[derive(Debug, Default)]
pub struct Link {
    /// 0: not checked yet, 1: online, 2: offline.
    state: AtomicU8,
}

impl Link {
    /// Not checked yet.
    pub fn new() -> Self {
        Link::default()
    }

    /// Record the outcome of a push or a ping.
    pub fn set(&self, online: bool) {
        self.state
            .store(if online { 1 } else { 2 }, Ordering::Relaxed);
    }

    /// `Some(true)` online, `Some(false)` offline, `None` not checked yet.
    pub fn online(&self) -> Option<bool> {
        match self.state.load(Ordering::Relaxed) {
            1 => Some(true),
            2 => Some(false),
            _ => None,
        }
    }
}

/// What the handlers share.
pub struct Cashier {
    /// The till data folder (the customer functions open it as the CLI does).
    dir: PathBuf,
    /// Till id.
    till: String,
    /// Store code.
    store: String,
    /// Page language.
    lang: Lang,
    /// The open till, for sales and reads (one sale at a time).
    register: Mutex<Register>,
    /// Carts and flashes per browser session.
    sessions: Mutex<session::Sessions>,
    /// The connection state.
    link: Arc<Link>,
    /// Check that `Host` names a loopback address.
    loopback_only: bool,
}

impl Cashier {
    /// The page state for the till in `dir`, its configuration `cfg`
    /// (language), the connection state `link`.
    pub fn open(dir: &Path, cfg: &TillConfig, link: Arc<Link>) -> Result<Self, TillError> {
        Ok(Cashier {
            dir: dir.to_path_buf(),
            till: cfg.till.id.clone(),
            store: cfg.till.store.clone(),
            lang: cfg.till.language,
            register: Mutex::new(Register::open(dir)?),
            sessions: Mutex::new(session::Sessions::default()),
            link,
            loopback_only: true,
        })
    }

    /// Accept any `Host` header (when listening beyond loopback on purpose).
    pub fn allow_any_host(mut self) -> Self {
        self.loopback_only = false;
        self
    }
}

/// A running cashier page.
pub struct RunningCashier {
    /// The address it is bound to.
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningCashier {
    /// The page's URL, e.g. `http://127.0.0.1:8090/`.
    pub fn url(&self) -> String {
        url_of(self.addr)
    }

    /// Stop serving and wait (at most a few seconds for open connections).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for RunningCashier {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// `http://ADDR/`.
pub fn url_of(addr: SocketAddr) -> String {
    format!("http://{addr}/")
}

/// The address to listen on: `opts.listen` or `till.listen`; refused when
/// not loopback unless `opts.allow_remote`.
pub fn listen_addr(cfg: &TillConfig, opts: &CashierOptions) -> Result<SocketAddr, TillError> {
    let addr = match opts.listen {
        Some(a) => a,
        None => cfg.till.listen_addr()?,
    };
    if !addr.ip().is_loopback() && !opts.allow_remote {
        return Err(TillError::Config(tillsync_core::ConfigError::Invalid {
            key: "till.listen".into(),
            value: addr.to_string(),
            reason: "the cashier page has no login, so it listens on loopback only \
                     (127.0.0.1 or ::1); allow another address explicitly with \
                     `till run --allow-remote`"
                .into(),
        }));
    }
    Ok(addr)
}

/// Bind the cashier page of the till in `dir` and serve it on a thread of
/// its own (a small tokio runtime) until [`RunningCashier::stop`].
pub fn start(
    dir: &Path,
    cfg: &TillConfig,
    opts: &CashierOptions,
    link: Arc<Link>,
) -> Result<RunningCashier, TillError> {
    let addr = listen_addr(cfg, opts)?;
    let mut state = Cashier::open(dir, cfg, link)?;
    if !addr.ip().is_loopback() {
        state = state.allow_any_host();
    }
    let io = |source| TillError::Io {
        what: "cashier page: cannot listen on",
        path: addr.to_string(),
        source,
    };
    let listener = std::net::TcpListener::bind(addr).map_err(io)?;
    listener.set_nonblocking(true).map_err(io)?;
    let bound = listener.local_addr().map_err(io)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| TillError::Io {
            what: "cashier page: cannot start its runtime for",
            path: addr.to_string(),
            source,
        })?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let app = router(Arc::new(state));
    let thread = std::thread::Builder::new()
        .name("cashier-page".into())
        .spawn(move || {
            rt.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::error!(error = %e, "cashier page: cannot listen");
                        return;
                    }
                };
                let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<()>();
                let server = axum::serve(listener, app).with_graceful_shutdown(async move {
                    let _ = stop_rx.await;
                    let _ = closed_tx.send(());
                });
                // Open keep-alive connections get a few seconds to finish.
                let deadline = async move {
                    let _ = closed_rx.await;
                    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
                };
                tokio::select! {
                    r = server => if let Err(e) = r {
                        tracing::error!(error = %e, "cashier page stopped");
                    },
                    _ = deadline => {}
                }
            });
            rt.shutdown_timeout(std::time::Duration::from_secs(1));
        })
        .map_err(|source| TillError::Io {
            what: "cashier page: cannot start its thread for",
            path: addr.to_string(),
            source,
        })?;
    tracing::info!(url = %url_of(bound), "cashier page serving");
    Ok(RunningCashier {
        addr: bound,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}
