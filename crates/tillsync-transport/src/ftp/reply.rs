//! How FTP replies and I/O failures become a [`TransportError`]: the operation
//! being done ([`Op`]), `map_reply`'s one match from reply code to error kind,
//! and the reading of reply codes, reply texts and welcome banners.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use suppaftp::FtpError;
use suppaftp::types::Response;

use crate::error::TransportError;

/// Message of [`TransportError::Protocol`] when the server hung up.
const CONNECTION_CLOSED: &str = "the server closed the connection";

/// Whether `e` means the control connection is gone (idle timeout, server
/// restart), so that a fresh connection may succeed.
pub(super) fn connection_lost(e: &TransportError) -> bool {
    match e {
        TransportError::Protocol { message, .. } => message.starts_with(CONNECTION_CLOSED),
        TransportError::Unavailable { .. } => true,
        _ => false,
    }
}

/// What an FTP operation was doing, for error messages.
#[derive(Debug, Clone, Copy)]
pub(super) enum Op<'a> {
    Connect,
    Greeting,
    Login,
    Binary,
    Cwd,
    Mkdir(&'a str),
    Retr(&'a str),
    Stor(&'a str),
    RenameFrom(&'a str),
    RenameTo(&'a str, &'a str),
    Dele(&'a str),
    List,
    Quit,
}

impl Op<'_> {
    /// "while …" form.
    pub(super) fn doing(&self) -> String {
        match self {
            Op::Connect => "connecting".into(),
            Op::Greeting => "waiting for the welcome message".into(),
            Op::Login => "logging in".into(),
            Op::Binary => "switching to binary transfer mode".into(),
            Op::Cwd => "opening the target folder".into(),
            Op::Mkdir(d) => format!("creating the folder {d}"),
            Op::Retr(n) => format!("downloading {n}"),
            Op::Stor(n) => format!("uploading {n}"),
            Op::RenameFrom(n) => format!("renaming {n}"),
            Op::RenameTo(a, b) => format!("renaming {a} to {b}"),
            Op::Dele(n) => format!("deleting {n}"),
            Op::List => "listing the folder".into(),
            Op::Quit => "closing the connection".into(),
        }
    }

    /// "could not …" form.
    pub(super) fn action(&self) -> String {
        match self {
            Op::Connect => "connect".into(),
            Op::Greeting => "read the welcome message".into(),
            Op::Login => "log in".into(),
            Op::Binary => "switch to binary transfer mode".into(),
            Op::Cwd => "open the target folder".into(),
            Op::Mkdir(d) => format!("create the folder {d}"),
            Op::Retr(n) => format!("read {n}"),
            Op::Stor(n) => format!("write {n}"),
            Op::RenameFrom(n) => format!("rename {n}"),
            Op::RenameTo(a, b) => format!("rename {a} to {b}"),
            Op::Dele(n) => format!("delete {n}"),
            Op::List => "list the files".into(),
            Op::Quit => "close the connection".into(),
        }
    }
}

/// The passive data connection could not be opened; carried inside an
/// `io::Error` through suppaftp so that it is not mistaken for a refused
/// control connection.
#[derive(Debug)]
pub(super) struct DataConnectError {
    pub(super) data_addr: SocketAddr,
    pub(super) source: io::Error,
}

impl fmt::Display for DataConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "data connection to {} failed: {}",
            self.data_addr, self.source
        )
    }
}

impl std::error::Error for DataConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Reply code of a response (suppaftp maps unknown codes to 0).
pub(super) fn reply_code(resp: &Response) -> u32 {
    let code = resp.status.code();
    if code != 0 {
        return code;
    }
    let b = &resp.body;
    if b.len() >= 3 && b[..3].iter().all(u8::is_ascii_digit) {
        u32::from(b[0] - b'0') * 100 + u32::from(b[1] - b'0') * 10 + u32::from(b[2] - b'0')
    } else {
        0
    }
}

/// The reply as one line of text.
fn reply_text(resp: &Response) -> String {
    String::from_utf8_lossy(&resp.body)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" / ")
}

fn mentions_permission(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("permission") || t.contains("denied") || t.contains("not allowed")
}

/// Turns a suppaftp error into a [`TransportError`] that names the server.
pub(super) fn map_ftp_error(shown: &str, user: &str, op: Op<'_>, err: FtpError) -> TransportError {
    match err {
        FtpError::ConnectionError(io) => map_io_error(shown, op, io),
        FtpError::UnexpectedResponse(resp) => {
            map_reply(shown, user, op, reply_code(&resp), reply_text(&resp))
        }
        FtpError::BadResponse => TransportError::Protocol {
            addr: shown.to_string(),
            what: op.doing(),
            message: "the reply is not valid FTP (is this really an FTP server?)".into(),
        },
        FtpError::InvalidAddress(e) => TransportError::Protocol {
            addr: shown.to_string(),
            what: op.doing(),
            message: format!("the server sent an invalid address: {e}"),
        },
        #[allow(unreachable_patterns)]
        other => TransportError::Protocol {
            addr: shown.to_string(),
            what: op.doing(),
            message: other.to_string(),
        },
    }
}

pub(super) fn map_io_error(shown: &str, op: Op<'_>, io: io::Error) -> TransportError {
    if let Some(data) = io
        .get_ref()
        .and_then(|e| e.downcast_ref::<DataConnectError>())
    {
        let reason = match data.source.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => "no answer in time".to_string(),
            io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
            _ => data.source.to_string(),
        };
        return TransportError::DataConnection {
            addr: shown.to_string(),
            data_addr: data.data_addr.to_string(),
            reason,
        };
    }
    let addr = shown.to_string();
    match io.kind() {
        io::ErrorKind::ConnectionRefused => TransportError::ConnectionRefused { addr },
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => TransportError::Timeout {
            addr,
            what: op.doing(),
        },
        io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
            TransportError::HostUnreachable { addr }
        }
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => TransportError::Protocol {
            addr,
            what: op.doing(),
            message: CONNECTION_CLOSED.into(),
        },
        _ => TransportError::Io {
            location: addr,
            action: op.action(),
            source: io,
        },
    }
}

fn map_reply(shown: &str, user: &str, op: Op<'_>, code: u32, text: String) -> TransportError {
    let location = shown.to_string();
    let perm = mentions_permission(&text);
    match (code, op) {
        (530, _) => TransportError::LoginRefused {
            addr: location,
            user: user.to_string(),
        },
        (421, _) => TransportError::Unavailable {
            addr: location,
            message: text,
        },
        // "221 Session timed out" (libunftp) when not quitting: the session is over.
        (221, op) if !matches!(op, Op::Quit) => TransportError::Protocol {
            addr: location,
            what: op.doing(),
            message: format!("{CONNECTION_CLOSED} (\"{text}\")"),
        },
        (550 | 450, Op::Retr(name) | Op::RenameFrom(name)) if !perm => TransportError::NotFound {
            name: name.to_string(),
            location,
        },
        (550, Op::Cwd) => TransportError::FolderNotFound { location },
        (550 | 553 | 532 | 450, Op::Stor(_) | Op::Mkdir(_) | Op::RenameTo(..) | Op::Dele(_))
        | (550 | 450, Op::Retr(_) | Op::RenameFrom(_)) => TransportError::PermissionDenied {
            location,
            action: op.action(),
        },
        _ => TransportError::Protocol {
            addr: location,
            what: op.doing(),
            message: format!("the server answered \"{text}\""),
        },
    }
}

/// Strips the reply codes from a (possibly multi-line) welcome banner.
pub(super) fn banner_text(raw: &str) -> String {
    raw.lines()
        .map(|l| {
            let l = l.trim();
            if l.len() >= 4
                && l[..3].bytes().all(|b| b.is_ascii_digit())
                && matches!(l.as_bytes()[3], b' ' | b'-')
            {
                l[4..].trim()
            } else {
                l
            }
        })
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use suppaftp::Status;

    use super::*;

    fn resp(code: u32, text: &str) -> FtpError {
        FtpError::UnexpectedResponse(Response::new(
            Status::from(code),
            format!("{code} {text}\r\n").into_bytes(),
        ))
    }

    const A: &str = "ftp://10.1.2.3:21/pkgs";

    #[test]
    fn login_refused_names_user_not_password() {
        let e = map_ftp_error(A, "till", Op::Login, resp(530, "Login incorrect."));
        assert!(matches!(e, TransportError::LoginRefused { .. }), "{e:?}");
        assert!(e.to_string().contains(A));
    }

    #[test]
    fn retr_550_is_not_found_and_names_file_and_folder() {
        let e = map_ftp_error(
            A,
            "u",
            Op::Retr("test.txt"),
            resp(550, "Failed to open file."),
        );
        assert!(e.is_not_found());
        let s = e.to_string();
        assert!(s.contains("test.txt") && s.contains(A), "{s}");
        let e = map_ftp_error(A, "u", Op::Retr("x"), resp(550, "Permission denied"));
        assert!(
            matches!(e, TransportError::PermissionDenied { .. }),
            "{e:?}"
        );
    }

    #[test]
    fn stor_refusals_are_permission_denied() {
        for code in [550, 553] {
            let e = map_ftp_error(A, "u", Op::Stor("p"), resp(code, "Could not create file."));
            assert!(
                matches!(e, TransportError::PermissionDenied { .. }),
                "{e:?}"
            );
        }
    }

    #[test]
    fn io_errors() {
        let e = map_ftp_error(
            A,
            "u",
            Op::Connect,
            FtpError::ConnectionError(io::ErrorKind::ConnectionRefused.into()),
        );
        assert!(matches!(e, TransportError::ConnectionRefused { .. }));
        assert!(e.is_unavailable());
        let e = map_ftp_error(
            A,
            "u",
            Op::Retr("a"),
            FtpError::ConnectionError(io::ErrorKind::WouldBlock.into()),
        );
        assert!(matches!(e, TransportError::Timeout { .. }));
        assert!(e.to_string().contains("downloading a"), "{e}");
        let data = io::Error::new(
            io::ErrorKind::ConnectionRefused,
            DataConnectError {
                data_addr: "10.1.2.3:40000".parse().unwrap(),
                source: io::ErrorKind::ConnectionRefused.into(),
            },
        );
        let e = map_ftp_error(A, "u", Op::List, FtpError::ConnectionError(data));
        assert!(matches!(e, TransportError::DataConnection { .. }), "{e:?}");
        assert!(!e.is_unavailable());
    }

    #[test]
    fn service_not_available_and_unknown_codes() {
        let e = map_ftp_error(A, "u", Op::Login, resp(421, "Too many users"));
        assert!(e.is_unavailable());
        assert!(e.to_string().contains("Too many users"));
        let e = map_ftp_error(A, "u", Op::List, resp(599, "odd"));
        assert!(e.to_string().contains("599 odd"), "{e}");
    }

    #[test]
    fn lost_connections_are_recognised() {
        let e = map_ftp_error(A, "u", Op::Retr("a"), resp(221, "Session timed out."));
        assert!(connection_lost(&e), "{e:?}");
        assert!(e.to_string().contains("Session timed out"), "{e}");
        let e = map_ftp_error(A, "u", Op::List, resp(421, "Timeout."));
        assert!(connection_lost(&e), "{e:?}");
        let e = map_ftp_error(
            A,
            "u",
            Op::List,
            FtpError::ConnectionError(io::ErrorKind::UnexpectedEof.into()),
        );
        assert!(connection_lost(&e), "{e:?}");
        let e = map_ftp_error(A, "u", Op::Retr("a"), resp(550, "No such file."));
        assert!(!connection_lost(&e));
        assert!(!connection_lost(&map_ftp_error(
            A,
            "u",
            Op::Quit,
            resp(221, "Bye")
        )));
    }

    #[test]
    fn banner_without_codes() {
        assert_eq!(banner_text("220 Welcome to X"), "Welcome to X");
        assert_eq!(banner_text("220-Hello\r\n220 World"), "Hello World");
        assert_eq!(banner_text("220 (vsFTPd 3.0.3)"), "(vsFTPd 3.0.3)");
        assert_eq!(banner_text("220é"), "220é");
    }
}
