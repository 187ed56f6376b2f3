//! `server run`: the web service, the embedded FTP server (when
//! `ftp.embedded`) and the scheduled export, in one process until shutdown.

use std::net::SocketAddr;
use std::time::Duration;

use tillsync_db::StoreError;
use tillsync_transport::{EmbeddedFtp, EmbeddedFtpHandle};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::data::DataDir;
use crate::down::export::{ExportOptions, export};
use crate::error::ServerError;
use crate::http::router::router;
use crate::http::serve::{serve_http, serve_tls, tls_acceptor};
use crate::http::state::AppState;

/// How to start the server; the defaults follow the configuration.
#[derive(Debug, Default)]
pub struct RunOptions {
    /// A listener already bound for the web service (tests, demo: port 0).
    pub web_listener: Option<tokio::net::TcpListener>,
    /// Override `ftp.listen` (tests, demo: port 0).
    pub ftp_listen: Option<SocketAddr>,
    /// Run the export on its schedule (`export.interval_ms`).
    pub scheduled_exports: bool,
}

/// A running server.
pub struct RunningServer {
    /// Whether the web service speaks HTTPS.
    pub https: bool,
    /// Where the web service listens.
    pub web_addr: SocketAddr,
    /// Where the embedded FTP server listens, if it runs.
    pub ftp_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    web: JoinHandle<std::io::Result<()>>,
    exports: Option<JoinHandle<()>>,
    ftp: Option<EmbeddedFtpHandle>,
}

/// Start everything the configuration asks for.
pub async fn start(data: DataDir, opts: RunOptions) -> Result<RunningServer, ServerError> {
    let cfg = data.config()?;
    // Opening the database may block (a PostgreSQL connection): not on the
    // runtime's own threads.
    let opening = data.clone();
    let state = tokio::task::spawn_blocking(move || AppState::open(opening))
        .await
        .map_err(|e| StoreError::Connect(format!("cannot open the server database: {e}")))??;
    let listener = match opts.web_listener {
        Some(l) => l,
        None => tokio::net::TcpListener::bind(cfg.server.listen)
            .await
            .map_err(|e| {
                ServerError::Invalid(format!(
                    "the web service cannot listen on {} (server.listen): {e}",
                    cfg.server.listen
                ))
            })?,
    };
    let web_addr = listener
        .local_addr()
        .map_err(|e| ServerError::Invalid(format!("web service address: {e}")))?;
    let ftp = if cfg.ftp.embedded {
        let listen = opts.ftp_listen.unwrap_or(cfg.ftp.listen);
        Some(
            EmbeddedFtp::start(
                cfg.share_dir(data.path()),
                &cfg.ftp.user,
                cfg.ftp.password.expose(),
                listen,
            )
            .await?,
        )
    } else {
        None
    };
    let ftp_addr = ftp.as_ref().map(|f| f.local_addr());
    let (stop, mut stopped) = watch::channel(false);
    let app = router(state.clone());
    let web_stop = stopped.clone();
    let tls = match cfg.tls_files(data.path())? {
        Some((cert, key)) => Some(tls_acceptor(&cert, &key)?),
        None => None,
    };
    let https = tls.is_some();
    let web = match tls {
        None => tokio::spawn(serve_http(listener, app, web_stop)),
        Some(acceptor) => tokio::spawn(serve_tls(listener, acceptor, app, web_stop)),
    };
    let exports = opts.scheduled_exports.then(|| {
        let interval = cfg.export.interval();
        let data = data.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = stopped.wait_for(|s| *s) => return,
                }
                let d = data.clone();
                let result = tokio::task::spawn_blocking(move || scheduled_export(&d)).await;
                match result {
                    Ok(Ok(packages)) => state.metrics.exported(packages),
                    Ok(Err(e)) => tracing::error!(error = %e, "scheduled export failed"),
                    Err(e) => tracing::error!(error = %e, "scheduled export panicked"),
                }
            }
        })
    });
    tracing::info!(%web_addr, https, ftp = ?ftp_addr, "server running");
    Ok(RunningServer {
        https,
        web_addr,
        ftp_addr,
        stop,
        web,
        exports,
        ftp,
    })
}

/// One scheduled export; returns the packages it published.
fn scheduled_export(data: &DataDir) -> Result<u64, ServerError> {
    let cfg = data.config()?;
    let result = data
        .package_store(&cfg)
        .and_then(|mut store| export(data, store.as_mut(), ExportOptions::default(), &mut |_| {}));
    match result {
        Ok(r) => {
            let changed = r.tables.iter().filter(|t| t.outcome != "unchanged").count();
            tracing::info!(
                tables_changed = changed,
                bytes = r.bytes,
                millis = r.millis,
                "export done"
            );
            Ok(r.tables.iter().map(|t| t.published.len() as u64).sum())
        }
        Err(ServerError::ExportBusy) => {
            tracing::info!("export skipped: another export is running");
            Ok(0)
        }
        Err(e) => {
            if let Ok(db) = data.open_store_with(&cfg) {
                let _ = db.journal("export", None, "error", &e.to_string());
            }
            Err(e)
        }
    }
}

impl RunningServer {
    /// Stop serving and wait for the tasks to end.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if let Some(e) = self.exports {
            let _ = e.await;
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), self.web).await;
        if let Some(f) = self.ftp {
            f.shutdown().await;
        }
    }
}
