//! Serving the cashier page: the address it listens on (loopback unless
//! allowed otherwise), its own thread and small tokio runtime, and the
//! handle that stops it.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use tillsync_core::TillConfig;

use crate::cashier::router::router;
use crate::cashier::state::Cashier;
use crate::error::TillError;
use crate::link::Link;

/// How `till run` serves the cashier page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CashierOptions {
    /// Address to listen on; `None`: `till.listen` from the configuration.
    pub listen: Option<SocketAddr>,
    /// Accept a non-loopback address (the PIN login is no network barrier).
    pub allow_remote: bool,
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
            reason: "the cashier page is no network service (its PIN login only says who sells), so it listens on loopback only \
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
