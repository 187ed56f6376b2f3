//! The value checks and parsers shared by `tillsync.toml` and `till.toml`,
//! each refusal naming the key and the value: names, codes, passwords,
//! paths, milliseconds, booleans, socket, FTP and http(s) addresses,
//! payment methods.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use url::Url;

use crate::config::error::ConfigError;
use crate::ftp_address::FtpAddress;
use crate::secret::Secret;

/// A folder name: non-empty, at most 64 characters, no blanks around it, no
/// control characters and no `/` or `\` (it ends up in paths).
pub(crate) fn validate_folder_name(key: &str, value: &str) -> Result<(), ConfigError> {
    validate_text(key, value)?;
    if value.chars().count() > 64 {
        return Err(ConfigError::invalid(
            key,
            value,
            "at most 64 characters are allowed",
        ));
    }
    if value.contains(['/', '\\']) {
        return Err(ConfigError::invalid(
            key,
            value,
            "'/' and '\\' are not allowed in a folder name",
        ));
    }
    Ok(())
}

/// Non-empty, no blanks around it, no control characters.
pub(crate) fn validate_text(key: &str, value: &str) -> Result<(), ConfigError> {
    if value.trim().is_empty() {
        return Err(ConfigError::invalid(key, value, "it must not be empty"));
    }
    if value.trim() != value {
        return Err(ConfigError::invalid(
            key,
            value,
            "remove the spaces at the start or end",
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ConfigError::invalid(
            key,
            value,
            "control characters (tabs, line breaks…) are not allowed",
        ));
    }
    Ok(())
}

/// A till or store code: 1 to 32 ASCII letters, digits, `_` or `-`.
pub(crate) fn validate_code(key: &str, value: &str) -> Result<(), ConfigError> {
    if value.is_empty() {
        return Err(ConfigError::invalid(key, value, "it must not be empty"));
    }
    if value.len() > 32
        || !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(ConfigError::invalid(
            key,
            value,
            "expected up to 32 letters (A-Z, a-z), digits, '_' or '-', e.g. T001",
        ));
    }
    Ok(())
}

pub(crate) fn validate_path(key: &str, p: &Path) -> Result<(), ConfigError> {
    let s = p.to_string_lossy();
    if s.trim().is_empty() {
        return Err(ConfigError::invalid(
            key,
            &s,
            "the folder must not be empty",
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(ConfigError::invalid(
            key,
            &s,
            "control characters are not allowed in a path",
        ));
    }
    Ok(())
}

pub(crate) fn validate_password(key: &str, s: &Secret) -> Result<(), ConfigError> {
    if s.is_empty() {
        return Err(ConfigError::InvalidSecret {
            key: key.to_string(),
            reason: "the password must not be empty".to_string(),
        });
    }
    if s.expose().chars().any(char::is_control) {
        return Err(ConfigError::InvalidSecret {
            key: key.to_string(),
            reason: "control characters (tabs, line breaks…) are not allowed".to_string(),
        });
    }
    Ok(())
}

pub(crate) fn positive(key: &str, n: u64) -> Result<(), ConfigError> {
    if n == 0 {
        return Err(ConfigError::invalid(
            key,
            "0",
            "expected a number of milliseconds greater than 0",
        ));
    }
    Ok(())
}

pub(crate) fn parse_ms(key: &str, value: &str) -> Result<u64, ConfigError> {
    let n: u64 = value.trim().parse().map_err(|_| {
        ConfigError::invalid(
            key,
            value,
            "expected a whole number of milliseconds greater than 0, e.g. 5000",
        )
    })?;
    if n == 0 {
        return Err(ConfigError::invalid(
            key,
            value,
            "expected a number of milliseconds greater than 0",
        ));
    }
    Ok(n)
}

pub(crate) fn parse_bool(key: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(ConfigError::invalid(
            key,
            value,
            "expected true or false (yes/no, on/off, 1/0 also work)",
        )),
    }
}

pub(crate) fn socket_reason() -> &'static str {
    "expected an IP address and port such as 127.0.0.1:8080 or [::1]:8080"
}

pub(crate) fn parse_socket(key: &str, value: &str) -> Result<SocketAddr, ConfigError> {
    value
        .trim()
        .parse()
        .map_err(|_| ConfigError::invalid(key, value, socket_reason()))
}

pub(crate) fn parse_ftp_address(key: &str, value: &str) -> Result<FtpAddress, ConfigError> {
    value
        .parse::<FtpAddress>()
        .map_err(|e| ConfigError::invalid(key, value, e.reason))
}

/// An `http://` or `https://` URL with a host, no credentials, query or
/// fragment; the path is made to end with `/`.
pub(crate) fn parse_http_url(key: &str, value: &str) -> Result<Url, ConfigError> {
    let mut url = Url::parse(value.trim())
        .map_err(|e| ConfigError::invalid(key, value, format!("not a valid URL ({e})")))?;
    check_http_url(key, value, &url)?;
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
}

/// Checks a parsed URL; `raw` is what the user typed, for the error message.
pub(crate) fn check_http_url(key: &str, raw: &str, url: &Url) -> Result<(), ConfigError> {
    let bad = |reason: &str| Err(ConfigError::invalid(key, raw, reason));
    if !matches!(url.scheme(), "http" | "https") {
        return bad("expected an http:// or https:// URL, e.g. http://127.0.0.1:8080");
    }
    if url.host_str().is_none_or(str::is_empty) {
        return bad("the host is missing");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return bad("credentials do not belong in the URL");
    }
    if url.query().is_some() || url.fragment().is_some() {
        return bad("remove the '?…' or '#…' part");
    }
    Ok(())
}

/// An optional path: empty clears it.
pub(crate) fn parse_opt_path(key: &str, value: &str) -> Result<Option<PathBuf>, ConfigError> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let p = PathBuf::from(v);
    validate_path(key, &p)?;
    Ok(Some(p))
}

/// `folder.payment_methods`: at least one method, each 1 to 32 lower-case
/// ASCII letters, digits, `-` or `_`, none twice.
pub(crate) fn validate_payment_methods(key: &str, methods: &[String]) -> Result<(), ConfigError> {
    let shown = methods.join(",");
    if methods.is_empty() {
        return Err(ConfigError::invalid(
            key,
            &shown,
            "name at least one payment method, e.g. cash,card,cheque,voucher",
        ));
    }
    for (i, m) in methods.iter().enumerate() {
        let ok = !m.is_empty()
            && m.len() <= 32
            && m.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !ok {
            return Err(ConfigError::invalid(
                key,
                &shown,
                format!(
                    "payment method {m:?}: 1 to 32 lower-case letters, digits, '-' or '_' are allowed"
                ),
            ));
        }
        if methods[..i].contains(m) {
            return Err(ConfigError::invalid(
                key,
                &shown,
                format!("payment method {m:?} is named twice"),
            ));
        }
    }
    Ok(())
}

/// A comma-separated list of payment methods (`cash, card`), checked.
pub(crate) fn parse_payment_methods(key: &str, value: &str) -> Result<Vec<String>, ConfigError> {
    let methods: Vec<String> = value
        .split(',')
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty())
        .collect();
    match validate_payment_methods(key, &methods) {
        Ok(()) => Ok(methods),
        // Name the value as typed.
        Err(ConfigError::Invalid { reason, .. }) => Err(ConfigError::invalid(key, value, reason)),
        Err(e) => Err(e),
    }
}
