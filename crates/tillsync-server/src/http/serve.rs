//! Serving the router on a socket until shutdown: plain HTTP/1.1
//! ([`serve_http`]) or HTTPS ([`serve_tls`], with [`tls_acceptor`] from the
//! PEM files of `server.tls_cert` and `server.tls_key`), over one accept
//! loop that survives failed accepts.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::error::ServerError;

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
/// requests in flight finish (graceful shutdown; `RunningServer::shutdown`
/// waits for that at most 10 s).
///
/// HTTP/1.1 only, not the auto-detecting HTTP/1.1-or-2 connection of
/// `axum::serve`: that connection's state is several times larger, and
/// thousands of tills each keep a connection open between their calls
/// (10,000 idle connections held about 340 MB with it; see
/// `docs/benchmarks.md`). Tills and browsers speak HTTP/1.1 over plain
/// HTTP; HTTPS keeps the auto-detecting connection ([`serve_tls`]).
pub async fn serve_http(
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
pub async fn serve_tls(
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
