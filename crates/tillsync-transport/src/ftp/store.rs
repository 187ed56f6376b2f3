//! [`FtpStore`]: the [`PackageStore`] on an FTP server, reconnecting once
//! when the server closed an idle connection.

use std::fmt;
use std::time::Duration;

use tillsync_core::FtpAddress;

use crate::error::TransportError;
use crate::ftp::client::FtpClient;
use crate::ftp::reply::connection_lost;
use crate::store::PackageStore;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<FtpStore>();
        assert_send::<FtpClient>();
    }
}
