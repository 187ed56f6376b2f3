//! The FTP address of a POS folder: `ftp://host:port/path` or the seed's `host:port{}target-dir`.

use std::fmt;
use std::str::FromStr;

/// Where packages live on an FTP server: host, port and the target folder
/// (per environment) below the FTP user's root.
///
/// Two notations are accepted:
/// - `ftp://host[:port][/path]` (port 21 when omitted);
/// - the seed's `host[:port]{}target-dir`, where the part after `{}` names the
///   target folder.
///
/// The path is kept without leading or trailing `/`; empty means the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FtpAddress {
    /// Host name or IP address.
    pub host: String,
    /// TCP port of the control connection.
    pub port: u16,
    /// Target folder below the FTP root, `a/b` form, empty for the root.
    pub path: String,
}

/// Why an FTP address was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid FTP address {input:?}: {reason}")]
pub struct FtpAddressError {
    /// What was given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FtpAddress {
    /// `host:port`, for connecting.
    pub fn host_port(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The remote path of `file` inside the target folder.
    pub fn remote_path(&self, file: &str) -> String {
        if self.path.is_empty() {
            file.to_string()
        } else {
            format!("{}/{}", self.path, file)
        }
    }
}

impl FromStr for FtpAddress {
    type Err = FtpAddressError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason: &str| FtpAddressError {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        let s = input.trim();
        if s.is_empty() {
            return Err(err("it is empty"));
        }
        let (authority, path) = if let Some(rest) = s.strip_prefix("ftp://") {
            match rest.find('/') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, ""),
            }
        } else if s.contains("://") {
            return Err(err("only ftp:// addresses are supported"));
        } else if let Some(i) = s.find("{}") {
            (&s[..i], &s[i + 2..])
        } else {
            match s.find('/') {
                Some(i) => (&s[..i], &s[i + 1..]),
                None => (s, ""),
            }
        };
        if authority.contains('@') {
            return Err(err(
                "credentials do not belong in the address; use ftp.user and ftp.password",
            ));
        }
        let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
            let end = rest.find(']').ok_or_else(|| err("unclosed '[' in host"))?;
            let host = &rest[..end];
            let after = &rest[end + 1..];
            let port = match after.strip_prefix(':') {
                Some(p) => parse_port(p).map_err(|r| err(&r))?,
                None if after.is_empty() => 21,
                None => return Err(err("unexpected text after host")),
            };
            (host.to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), parse_port(p).map_err(|r| err(&r))?),
                None => (authority.to_string(), 21),
            }
        };
        if host.is_empty() {
            return Err(err("the host is missing"));
        }
        if !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
        {
            return Err(err("the host contains characters that are not allowed"));
        }
        let path = path.trim_matches('/');
        if path.split('/').any(|seg| seg == ".." || seg == ".") {
            return Err(err("the target folder may not contain '.' or '..'"));
        }
        if path.contains("//") || path.chars().any(|c| c.is_control()) {
            return Err(err("the target folder is not a clean path"));
        }
        Ok(FtpAddress {
            host,
            port,
            path: path.to_string(),
        })
    }
}

fn parse_port(p: &str) -> Result<u16, String> {
    match p.parse::<u16>() {
        Ok(0) => Err("port 0 is not a valid FTP port".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("port {p:?} is not a number from 1 to 65535")),
    }
}

impl fmt::Display for FtpAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ftp://{}", self.host_port())?;
        if !self.path.is_empty() {
            write!(f, "/{}", self.path)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_notation() {
        let a: FtpAddress = "ftp://127.0.0.1:2121/prod/pkgs/".parse().unwrap();
        assert_eq!(a.host, "127.0.0.1");
        assert_eq!(a.port, 2121);
        assert_eq!(a.path, "prod/pkgs");
        assert_eq!(a.remote_path("x.tspkg"), "prod/pkgs/x.tspkg");
        assert_eq!(a.to_string(), "ftp://127.0.0.1:2121/prod/pkgs");
    }

    #[test]
    fn seed_notation_with_target_dir() {
        let a: FtpAddress = "ftp.example.com:21{}recette".parse().unwrap();
        assert_eq!(a.host, "ftp.example.com");
        assert_eq!(a.port, 21);
        assert_eq!(a.path, "recette");
    }

    #[test]
    fn default_port_and_root() {
        let a: FtpAddress = "ftp://files.local".parse().unwrap();
        assert_eq!(a.port, 21);
        assert_eq!(a.path, "");
        assert_eq!(a.remote_path("index"), "index");
    }

    #[test]
    fn refusals_name_the_problem() {
        for (input, needle) in [
            ("", "empty"),
            ("http://x", "ftp://"),
            ("ftp://host:99999", "65535"),
            ("ftp://host:0", "port 0"),
            ("ftp://user:pw@host", "credentials"),
            ("ftp://host/../etc", ".."),
            ("ftp://:21", "host is missing"),
        ] {
            let e = input.parse::<FtpAddress>().unwrap_err();
            assert!(e.to_string().contains(needle), "{input}: {e}");
        }
    }
}
