//! How the embedded server serves each connection: what every connection's
//! libunftp server shares, the accept loop, and the binder of passive data
//! ports.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use libunftp::options::{Binder, PassiveHost};
use libunftp::{Server, ServerBuilder};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use unftp_core::auth::DefaultUser;

use crate::embedded::auth::SingleUser;
use crate::embedded::storage::ReadOnlyFs;

const GREETING: &str = "tillsync package server (read-only)";

/// What every connection's server shares.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) root: PathBuf,
    pub(super) auth: Arc<SingleUser>,
    pub(super) passive_ports: Option<RangeInclusive<u16>>,
    pub(super) idle_timeout: Duration,
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

pub(super) async fn accept_loop(
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
