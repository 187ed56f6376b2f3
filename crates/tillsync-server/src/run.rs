//! `server run`: the web service, the embedded FTP server (when
//! `ftp.embedded`) and the scheduled export, in one process until shutdown.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio_rustls::TlsAcceptor;

use tillsync_transport::{EmbeddedFtp, EmbeddedFtpHandle};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::data::DataDir;
use crate::down::export::{ExportOptions, export};
use crate::error::ServerError;
use crate::web::{AppState, router};
use tillsync_store::StoreError;

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

/// A TLS acceptor from PEM files (`server.tls_cert`, `server.tls_key`).
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, ServerError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let bad = |what: &str, path: &Path, e: String| {
        ServerError::Invalid(format!("HTTPS: {what} {}: {e}", path.display()))
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad("cannot read the certificate", cert, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad("unreadable certificate", cert, e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no certificate in", cert, "expected PEM".into()));
    }
    let key_der = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| bad("cannot read the private key", key, e.to_string()))?;
    let config = tokio_rustls::rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key_der)
        .map_err(|e| bad("certificate and key do not fit", cert, e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The next connection, or `None` once `stop` turns true. A failed accept
/// (out of file descriptors, a connection reset before it was accepted) is
/// logged and the listener goes on: it must not end the web service.
async fn accept(
    listener: &tokio::net::TcpListener,
    stop: &mut watch::Receiver<bool>,
) -> Option<(tokio::net::TcpStream, SocketAddr)> {
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = stop.wait_for(|s| *s) => return None,
        };
        match accepted {
            Ok(c) => return Some(c),
            Err(e) => {
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Serve `app` over plain HTTP/1.1 until `stop` turns true, then let the
/// requests in flight finish (graceful shutdown; [`RunningServer::shutdown`]
/// waits for that at most 10 s).
///
/// HTTP/1.1 only, not the auto-detecting HTTP/1.1-or-2 connection of
/// `axum::serve`: that connection's state is several times larger, and
/// thousands of tills each keep a connection open between their calls
/// (10,000 idle connections held about 340 MB with it; see
/// `docs/benchmarks.md`). Tills and browsers speak HTTP/1.1 over plain
/// HTTP; HTTPS keeps the auto-detecting connection ([`serve_tls`]).
async fn serve_http(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    use hyper_util::rt::TokioIo;
    use hyper_util::service::TowerToHyperService;
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        let Some((tcp, _peer)) = accept(&listener, &mut stop).await else {
            break;
        };
        let _ = tcp.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        // No timer, hence no header read timeout, as with `axum::serve`:
        // hyper starts that timeout when a kept-alive connection goes idle,
        // which would close a till's connection between its calls.
        let conn =
            hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tcp), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Serve `app` over TLS until `stop` turns true.
async fn serve_tls(
    listener: tokio::net::TcpListener,
    acceptor: TlsAcceptor,
    app: axum::Router,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::service::TowerToHyperService;
    loop {
        let Some((tcp, peer)) = accept(&listener, &mut stop).await else {
            return Ok(());
        };
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let tls =
                match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => return,
                };
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection_with_upgrades(TokioIo::new(tls), service)
                .await;
        });
    }
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
