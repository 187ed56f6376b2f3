//! The keys of `tillsync.toml`: [`KEYS`], the list with descriptions, and
//! `ServerConfig::get` / `ServerConfig::set` by key name (what the `server
//! config` command and the admin pages use).

use std::path::PathBuf;

use crate::config::error::ConfigError;
use crate::config::server::{DbUrl, ServerConfig, redact_db_url};
use crate::config::validate::{
    parse_bool, parse_ftp_address, parse_http_url, parse_ms, parse_opt_path, parse_payment_methods,
    parse_socket, validate_code, validate_folder_name, validate_password, validate_path,
    validate_text,
};
use crate::secret::{MASK, Secret};

/// Every key of `tillsync.toml`: `(key, description, secret)`.
pub const KEYS: &[(&str, &str, bool)] = &[
    (
        "folder.name",
        "POS folder (company) this configuration applies to, e.g. DEMO",
        false,
    ),
    (
        "folder.admin",
        "user account that administers the POS folder",
        false,
    ),
    (
        "folder.payment_methods",
        "payment methods the tills accept, comma-separated (default cash,card,cheque,voucher); a till gets them with its deployment package",
        false,
    ),
    (
        "folder.timezone",
        "IANA time zone naming business days and shown times, e.g. Europe/Paris, Indian/Reunion (default Europe/Paris)",
        false,
    ),
    (
        "server.listen",
        "address and port the web service listens on (default 127.0.0.1:8080)",
        false,
    ),
    (
        "server.tls_cert",
        "PEM certificate (chain) of the web service; with server.tls_key it serves HTTPS (empty: HTTP)",
        false,
    ),
    (
        "server.tls_key",
        "PEM private key of server.tls_cert (empty: HTTP)",
        false,
    ),
    (
        "db.url",
        "server database: sqlite://PATH, relative to the data folder (default sqlite://server.db), or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE",
        false,
    ),
    (
        "ftp.mode",
        "how packages reach the FTP server: copy (into the share folder) or put (FTP upload)",
        false,
    ),
    (
        "ftp.share_dir",
        "share folder where packages are prepared, relative to the data folder (default share)",
        false,
    ),
    (
        "ftp.address",
        "FTP server address: ftp://host:port/path or host:port{}target-dir (default ftp://127.0.0.1:2121)",
        false,
    ),
    (
        "ftp.user",
        "user name for logging in to the FTP server (default till)",
        false,
    ),
    (
        "ftp.password",
        "password of the FTP user (generated at init)",
        true,
    ),
    (
        "ftp.embedded",
        "run the built-in FTP server serving the share folder: true or false (default true)",
        false,
    ),
    (
        "ftp.listen",
        "address and port of the built-in FTP server (default 127.0.0.1:2121)",
        false,
    ),
    (
        "till.webservice_url",
        "URL the tills use to reach the web service, http:// or https:// (default http://127.0.0.1:8080)",
        false,
    ),
    (
        "till.sync_interval_ms",
        "wait between two ticket synchronisations on a till, in ms (default 5000)",
        false,
    ),
    (
        "till.ws_timeout_ms",
        "web service call timeout on a till, in ms (default 60000)",
        false,
    ),
    (
        "till.ping_timeout_ms",
        "timeout of the till's connection check to the server, in ms (default 3000)",
        false,
    ),
    (
        "till.retry_interval_ms",
        "wait between two synchronisation attempts after an error, in ms (default 10000)",
        false,
    ),
    (
        "till.template_customer",
        "code of the template customer that customers created at a till are copied from (default CLI000000)",
        false,
    ),
    (
        "till.day_close_time",
        "local time HH:MM at which a till closes its business day by itself when no one did (default 23:59)",
        false,
    ),
    (
        "export.interval_ms",
        "wait between two export runs on the server, in ms (default 60000)",
        false,
    ),
    (
        "export.retention",
        "incremental packages kept per table on the FTP server, at least 1 (default 10)",
        false,
    ),
    (
        "ui.language",
        "language of the admin web pages: fr or en (default fr)",
        false,
    ),
];

impl ServerConfig {
    /// The value of `key` as text; secrets show as `********`.
    pub fn get(&self, key: &str) -> Result<String, ConfigError> {
        Ok(match key {
            "folder.name" => self.folder.name.clone(),
            "folder.admin" => self.folder.admin.clone(),
            "folder.payment_methods" => self.folder.payment_methods.join(","),
            "folder.timezone" => self.folder.timezone.clone(),
            "server.listen" => self.server.listen.to_string(),
            "server.tls_cert" => opt_path(&self.server.tls_cert),
            "server.tls_key" => opt_path(&self.server.tls_key),
            "db.url" => redact_db_url(&self.db.url),
            "ftp.mode" => self.ftp.mode.to_string(),
            "ftp.share_dir" => self.ftp.share_dir.display().to_string(),
            "ftp.address" => self.ftp.address.to_string(),
            "ftp.user" => self.ftp.user.clone(),
            "ftp.password" => MASK.to_string(),
            "ftp.embedded" => self.ftp.embedded.to_string(),
            "ftp.listen" => self.ftp.listen.to_string(),
            "till.webservice_url" => self.till.webservice_url.to_string(),
            "till.sync_interval_ms" => self.till.sync_interval_ms.to_string(),
            "till.ws_timeout_ms" => self.till.ws_timeout_ms.to_string(),
            "till.ping_timeout_ms" => self.till.ping_timeout_ms.to_string(),
            "till.retry_interval_ms" => self.till.retry_interval_ms.to_string(),
            "till.template_customer" => self.till.template_customer.clone(),
            "till.day_close_time" => self.till.day_close_time.clone(),
            "export.interval_ms" => self.export.interval_ms.to_string(),
            "export.retention" => self.export.retention.to_string(),
            "ui.language" => self.ui.language.to_string(),
            _ => return Err(unknown_key(key)),
        })
    }

    /// Sets `key` from text, validating it. On error `self` is unchanged.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        let mut next = self.clone();
        match key {
            "folder.name" => {
                validate_folder_name(key, value)?;
                next.folder.name = value.to_string();
            }
            "folder.admin" => {
                validate_text(key, value)?;
                next.folder.admin = value.to_string();
            }
            "folder.payment_methods" => {
                next.folder.payment_methods = parse_payment_methods(key, value)?;
            }
            "folder.timezone" => {
                crate::fiscal::local::LocalZone::new(value.trim())
                    .map_err(|e| ConfigError::invalid(key, value, e.to_string()))?;
                next.folder.timezone = value.trim().to_string();
            }
            "server.listen" => next.server.listen = parse_socket(key, value)?,
            "server.tls_cert" => next.server.tls_cert = parse_opt_path(key, value)?,
            "server.tls_key" => next.server.tls_key = parse_opt_path(key, value)?,
            "db.url" => {
                DbUrl::parse(value)?;
                next.db.url = value.trim().to_string();
            }
            "ftp.mode" => next.ftp.mode = value.parse()?,
            "ftp.share_dir" => {
                let p = PathBuf::from(value);
                validate_path(key, &p)?;
                next.ftp.share_dir = p;
            }
            "ftp.address" => next.ftp.address = parse_ftp_address(key, value)?,
            "ftp.user" => {
                validate_text(key, value)?;
                next.ftp.user = value.to_string();
            }
            "ftp.password" => {
                let s = Secret::new(value);
                validate_password(key, &s)?;
                next.ftp.password = s;
            }
            "ftp.embedded" => next.ftp.embedded = parse_bool(key, value)?,
            "ftp.listen" => next.ftp.listen = parse_socket(key, value)?,
            "till.webservice_url" => next.till.webservice_url = parse_http_url(key, value)?,
            "till.sync_interval_ms" => next.till.sync_interval_ms = parse_ms(key, value)?,
            "till.ws_timeout_ms" => next.till.ws_timeout_ms = parse_ms(key, value)?,
            "till.ping_timeout_ms" => next.till.ping_timeout_ms = parse_ms(key, value)?,
            "till.retry_interval_ms" => next.till.retry_interval_ms = parse_ms(key, value)?,
            "till.template_customer" => {
                validate_code(key, value)?;
                next.till.template_customer = value.to_string();
            }
            "till.day_close_time" => {
                crate::fiscal::local::parse_time_of_day(value)
                    .map_err(|e| ConfigError::invalid(key, value, e.to_string()))?;
                next.till.day_close_time = value.trim().to_string();
            }
            "export.interval_ms" => next.export.interval_ms = parse_ms(key, value)?,
            "export.retention" => {
                let n: u32 = value.trim().parse().map_err(|_| {
                    ConfigError::invalid(key, value, "expected a whole number of at least 1")
                })?;
                if n < 1 {
                    return Err(ConfigError::invalid(
                        key,
                        value,
                        "at least 1 incremental package per table must be kept",
                    ));
                }
                next.export.retention = n;
            }
            "ui.language" => {
                next.ui.language = value
                    .parse()
                    .map_err(|_| ConfigError::invalid(key, value, "expected fr or en"))?;
            }
            _ => return Err(unknown_key(key)),
        }
        next.validate()?;
        *self = next;
        Ok(())
    }
}

fn unknown_key(key: &str) -> ConfigError {
    ConfigError::UnknownKey {
        key: key.to_string(),
        valid: KEYS.iter().map(|k| k.0).collect::<Vec<_>>().join(", "),
    }
}

fn opt_path(p: &Option<PathBuf>) -> String {
    p.as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> ServerConfig {
        ServerConfig::new_default("DEMO").unwrap()
    }

    #[test]
    fn keys_list_matches_get() {
        let c = cfg();
        for (key, desc, secret) in KEYS {
            let v = c.get(key).unwrap();
            assert!(!desc.is_empty());
            assert_eq!(*secret, *key == "ftp.password");
            if *secret {
                assert_eq!(v, MASK);
            }
        }
        // The keys the POS folder's tabs must have (issue 2), and no duplicates.
        for key in [
            "folder.name",
            "folder.admin",
            "server.listen",
            "db.url",
            "ftp.mode",
            "ftp.share_dir",
            "ftp.address",
            "ftp.user",
            "ftp.password",
            "ftp.embedded",
            "ftp.listen",
            "till.webservice_url",
            "till.sync_interval_ms",
            "till.ws_timeout_ms",
            "till.ping_timeout_ms",
            "till.retry_interval_ms",
            "export.interval_ms",
            "export.retention",
        ] {
            assert!(KEYS.iter().any(|(k, _, _)| *k == key), "{key} missing");
        }
        let mut names: Vec<&str> = KEYS.iter().map(|(k, _, _)| *k).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), KEYS.len(), "duplicate keys");
    }

    #[test]
    fn set_errors_name_key_and_value_and_leave_config_unchanged() {
        let mut c = cfg();
        let before = c.clone();
        for (key, value, needle) in [
            ("till.webservice_url", "ftp://x", "http://"),
            ("till.webservice_url", "not a url", "not a valid URL"),
            ("till.sync_interval_ms", "abc", "whole number"),
            ("till.sync_interval_ms", "0", "greater than 0"),
            ("till.ws_timeout_ms", "-5", "whole number"),
            ("export.interval_ms", "0", "greater than 0"),
            ("export.retention", "0", "at least 1"),
            ("ftp.embedded", "maybe", "true or false"),
            ("ftp.mode", "scp", "copy"),
            ("ftp.address", "http://x", "ftp://"),
            ("ftp.address", "ftp://host:99999", "65535"),
            ("server.listen", "localhost", "IP address and port"),
            ("ftp.listen", "1.2.3.4", "IP address and port"),
            ("db.url", "mysql://x", "sqlite://"),
            ("db.url", "sqlite://", "missing"),
            ("folder.name", "", "empty"),
            ("folder.admin", " bob", "spaces"),
            ("folder.payment_methods", "", "at least one"),
            (
                "folder.payment_methods",
                "cash,Bitcoin",
                "\"Bitcoin\": 1 to 32 lower-case",
            ),
            (
                "folder.payment_methods",
                "cash, card,cash",
                "\"cash\" is named twice",
            ),
            ("ftp.user", "", "empty"),
        ] {
            let e = c.set(key, value).unwrap_err().to_string();
            assert!(e.contains(key), "{key}={value}: {e}");
            assert!(e.contains(&format!("{value:?}")), "{key}={value}: {e}");
            assert!(e.contains(needle), "{key}={value}: {e}");
            assert_eq!(c, before, "{key} changed the config");
        }
    }

    #[test]
    fn payment_methods_default_and_are_set_as_a_list() {
        let mut c = cfg();
        assert_eq!(
            c.get("folder.payment_methods").unwrap(),
            "cash,card,cheque,voucher"
        );
        c.set("folder.payment_methods", "cash, card ,ticket-resto")
            .unwrap();
        assert_eq!(c.folder.payment_methods, ["cash", "card", "ticket-resto"]);
        assert_eq!(
            c.get("folder.payment_methods").unwrap(),
            "cash,card,ticket-resto"
        );
    }

    #[test]
    fn postgres_urls_are_read_and_never_shown_with_their_password() {
        let mut c = cfg();
        for url in ["postgres://u:pw@h/db", "postgresql://h:5433/db"] {
            c.set("db.url", url).unwrap();
            assert_eq!(DbUrl::parse(url).unwrap(), DbUrl::Postgres(url.into()));
        }
        c.set("db.url", "postgres://u:pw@h/db").unwrap();
        assert_eq!(c.get("db.url").unwrap(), "postgres://u:********@h/db");
        for url in [
            "POSTGRES://u:pw@",
            "postgres://u:pw@h",
            "postgres://u:pw@h/",
        ] {
            let e = c.set("db.url", url).unwrap_err();
            assert!(matches!(e, ConfigError::BadPostgresUrl { .. }), "{e}");
            let msg = e.to_string();
            assert!(msg.contains("db.url"), "{msg}");
            assert!(!msg.contains("pw"), "{msg}");
        }
    }

    #[test]
    fn unknown_key_lists_valid_keys() {
        let mut c = cfg();
        let e = c.set("ftp.pasword", "x").unwrap_err().to_string();
        assert!(
            e.contains("ftp.pasword") && e.contains("ftp.password"),
            "{e}"
        );
        assert!(e.contains("export.retention"), "{e}");
        let e = c.get("nope").unwrap_err().to_string();
        assert!(e.contains("\"nope\"") && e.contains("folder.name"), "{e}");
    }

    #[test]
    fn set_accepts_valid_values() {
        let mut c = cfg();
        c.set("ftp.embedded", "false").unwrap();
        assert!(!c.ftp.embedded);
        c.set("ftp.embedded", "Yes").unwrap();
        assert!(c.ftp.embedded);
        c.set("ftp.address", "ftp://10.0.0.5:21/prod").unwrap();
        assert_eq!(c.get("ftp.address").unwrap(), "ftp://10.0.0.5:21/prod");
        c.set("server.listen", "0.0.0.0:9000").unwrap();
        assert_eq!(c.get("server.listen").unwrap(), "0.0.0.0:9000");
        c.set("till.ping_timeout_ms", "1500").unwrap();
        assert_eq!(c.till.ping_timeout_ms, 1500);
        c.set("ftp.password", "n3w-Secret").unwrap();
        assert_eq!(c.ftp.password.expose(), "n3w-Secret");
        assert_eq!(c.get("ftp.password").unwrap(), MASK);
        c.set("folder.admin", "Jean Dupont").unwrap();
        c.set("db.url", "sqlite:///var/lib/tillsync/pos.db")
            .unwrap();
    }

    #[test]
    fn empty_password_refused_without_echo() {
        let mut c = cfg();
        let e = c.set("ftp.password", "").unwrap_err().to_string();
        assert!(e.contains("ftp.password") && e.contains("empty"), "{e}");
        let e = c.set("ftp.password", "ab\ncd").unwrap_err().to_string();
        assert!(!e.contains("ab\ncd") && !e.contains("\\n"), "{e}");
    }

    #[test]
    fn template_customer_key() {
        let mut c = cfg();
        assert_eq!(c.get("till.template_customer").unwrap(), "CLI000000");
        c.set("till.template_customer", "TPL0001").unwrap();
        assert_eq!(c.till.template_customer, "TPL0001");
        let before = c.clone();
        let e = c
            .set("till.template_customer", "bad code!")
            .unwrap_err()
            .to_string();
        assert!(e.contains("till.template_customer"), "{e}");
        assert_eq!(c, before);
    }
}
