//! The errors of package stores, worded for the retail IT person who reads them.

use std::io;

/// Why a package store operation failed.
///
/// Every message names the server, folder or file concerned and never
/// contains a password.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// Nothing listens on the address (wrong port, FTP service stopped).
    #[error(
        "the FTP server {addr} refused the connection: check that the FTP service is running and that the address and port are right"
    )]
    ConnectionRefused {
        /// `host:port` or `ftp://…` address that was tried.
        addr: String,
    },

    /// The server did not answer within the time limit.
    #[error(
        "the FTP server {addr} did not answer in time while {what}: check the network and that the server is not overloaded"
    )]
    Timeout {
        /// Address of the server.
        addr: String,
        /// What was being done, e.g. "connecting" or "downloading test.txt".
        what: String,
    },

    /// No route to the host or its network.
    #[error(
        "the FTP server {addr} cannot be reached: check the network cable, Wi-Fi or VPN, and the address"
    )]
    HostUnreachable {
        /// Address of the server.
        addr: String,
    },

    /// The host name could not be turned into an IP address.
    #[error(
        "the FTP server name in {addr} cannot be found: check the spelling of the host name and the DNS settings"
    )]
    Resolve {
        /// Address of the server.
        addr: String,
    },

    /// The server refused the user name or password.
    #[error(
        "the FTP server {addr} refused the login of user {user:?}: check the FTP user name and password"
    )]
    LoginRefused {
        /// Address of the server.
        addr: String,
        /// User name that was refused (the password is never shown).
        user: String,
    },

    /// The server is up but refuses service for now (FTP reply 421).
    #[error("the FTP server {addr} is not available right now ({message}): try again later")]
    Unavailable {
        /// Address of the server.
        addr: String,
        /// What the server said.
        message: String,
    },

    /// A file is missing.
    #[error("{name} was not found in {location}")]
    NotFound {
        /// File name.
        name: String,
        /// Where it was looked for, e.g. "ftp://host:21/pkgs" or "share folder /srv/pkgs".
        location: String,
    },

    /// The folder itself is missing.
    #[error("{location} does not exist: check the folder name in the configuration")]
    FolderNotFound {
        /// The folder, e.g. "ftp://host:21/pkgs" or "share folder /srv/pkgs".
        location: String,
    },

    /// The account may not do what was asked.
    #[error(
        "permission denied: could not {action} in {location}; check the access rights of the account"
    )]
    PermissionDenied {
        /// Where, e.g. "ftp://host:21/pkgs".
        location: String,
        /// What was refused, e.g. "write p.tspkg".
        action: String,
    },

    /// The server opened a passive data connection that could not be reached.
    #[error(
        "the FTP server {addr} offered a data connection on {data_addr} that could not be opened ({reason}): check the firewall and the server's passive port settings"
    )]
    DataConnection {
        /// Address of the server.
        addr: String,
        /// The address the server asked us to connect to.
        data_addr: String,
        /// Why the connection failed.
        reason: String,
    },

    /// The server answered something unexpected.
    #[error("the FTP server {addr} gave an unexpected answer while {what}: {message}")]
    Protocol {
        /// Address of the server.
        addr: String,
        /// What was being done.
        what: String,
        /// The server's reply or what was wrong with it.
        message: String,
    },

    /// Another input/output error.
    #[error("could not {action} in {location}: {source}")]
    Io {
        /// Where, e.g. "share folder /srv/pkgs".
        location: String,
        /// What was being done, e.g. "write p.tspkg".
        action: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// A file name that is not a plain package file name.
    #[error("{name:?} is not a valid package file name: {reason}")]
    InvalidName {
        /// The refused name.
        name: String,
        /// Why.
        reason: String,
    },

    /// The embedded FTP server could not start.
    #[error("the embedded FTP server could not start on {addr}: {reason}")]
    ServerStart {
        /// The listening address.
        addr: String,
        /// Why.
        reason: String,
    },
}

impl TransportError {
    /// The file (or its folder) does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. } | Self::FolderNotFound { .. })
    }

    /// The server could not be reached or did not answer: worth retrying later
    /// (connection refused, timeout, unreachable host, service not available).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::ConnectionRefused { .. }
                | Self::Timeout { .. }
                | Self::HostUnreachable { .. }
                | Self::Unavailable { .. }
        )
    }

    /// The account is not allowed to do this (login refused or permission denied).
    pub fn is_permission_denied(&self) -> bool {
        matches!(
            self,
            Self::PermissionDenied { .. } | Self::LoginRefused { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_server_and_never_the_password() {
        let e = TransportError::LoginRefused {
            addr: "ftp://10.0.0.5:21/pkgs".into(),
            user: "till".into(),
        };
        let s = e.to_string();
        assert!(s.contains("ftp://10.0.0.5:21/pkgs"), "{s}");
        assert!(s.contains("\"till\""), "{s}");
        assert!(s.contains("password"), "{s}");
        assert!(!e.is_unavailable());
        assert!(e.is_permission_denied());
    }

    #[test]
    fn predicates() {
        let refused = TransportError::ConnectionRefused {
            addr: "h:21".into(),
        };
        assert!(refused.is_unavailable());
        assert!(!refused.is_not_found());
        let timeout = TransportError::Timeout {
            addr: "h:21".into(),
            what: "connecting".into(),
        };
        assert!(timeout.is_unavailable());
        assert!(timeout.to_string().contains("while connecting"));
        let nf = TransportError::NotFound {
            name: "test.txt".into(),
            location: "ftp://h:21/pkgs".into(),
        };
        assert!(nf.is_not_found());
        assert_eq!(nf.to_string(), "test.txt was not found in ftp://h:21/pkgs");
        assert!(
            TransportError::FolderNotFound {
                location: "x".into()
            }
            .is_not_found()
        );
    }
}
