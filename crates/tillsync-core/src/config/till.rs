//! The till's own configuration file: `TDIR/till.toml` (identity, folder
//! and its payment methods, server, FTP access, synchroniser timings).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::error::{ConfigError, read_config};
use crate::config::server::ServerConfig;
use crate::config::text_serde::{ftp_address_serde, http_url_serde};
use crate::config::timings::SyncTimings;
use crate::config::validate::{
    check_http_url, validate_code, validate_folder_name, validate_password,
    validate_payment_methods, validate_text,
};
use crate::fsio;
use crate::ftp_address::FtpAddress;
use crate::keys;
use crate::lang::Lang;
use crate::secret::Secret;
use crate::ticket::types::default_payment_methods;

/// File name of the till configuration inside a till data folder.
pub const FILE_NAME: &str = "till.toml";

/// `[till]`: who this till is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TillIdentity {
    /// `till.id`: the till code, e.g. `T001`.
    pub id: String,
    /// `till.store`: the store code, e.g. `S01`.
    pub store: String,
    /// `till.listen`: where `till run` serves the cashier page (default
    /// `127.0.0.1:8090`; port 0 picks a free port). Its PIN login is no
    /// network barrier: `till run` refuses a non-loopback address unless
    /// told otherwise.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// `till.language`: the cashier page's language, `fr` (default) or `en`.
    #[serde(default)]
    pub language: Lang,
}

/// Default of `till.listen`: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8090";

fn default_listen() -> String {
    DEFAULT_LISTEN.to_string()
}

impl TillIdentity {
    /// Till `id` of `store`, with the cashier page's defaults.
    pub fn new(id: &str, store: &str) -> Self {
        TillIdentity {
            id: id.to_string(),
            store: store.to_string(),
            listen: default_listen(),
            language: Lang::default(),
        }
    }

    /// `till.listen` as a socket address.
    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        parse_listen("till.listen", &self.listen)
    }
}

/// Parse a cashier page address (`IP:PORT`), naming `key` in the error.
pub fn parse_listen(key: &str, value: &str) -> Result<SocketAddr, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError::Invalid {
        key: key.to_string(),
        value: value.to_string(),
        reason: "expected IP:PORT, e.g. 127.0.0.1:8090 (port 0 picks a free port)".to_string(),
    })
}

/// `[folder]`: the POS folder the till belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TillFolder {
    /// `folder.name`, e.g. `DEMO`.
    pub name: String,
    /// `folder.payment_methods`: the payment methods this till accepts, as
    /// the server's `folder.payment_methods` (from the deployment package;
    /// default cash, card, cheque, voucher).
    #[serde(default = "default_payment_methods")]
    pub payment_methods: Vec<String>,
    /// `folder.timezone`: the IANA time zone of the till's business days and
    /// of every time it shows (default `Europe/Paris`).
    #[serde(default = "crate::config::server::default_timezone")]
    pub timezone: String,
    /// `folder.day_close_time`: local `HH:MM` at which the agent closes the
    /// business day by itself when no one did (default `23:59`).
    #[serde(default = "crate::config::server::default_day_close_time")]
    pub day_close_time: String,
}

impl TillFolder {
    /// The till's time zone.
    pub fn zone(
        &self,
    ) -> Result<crate::fiscal::local::LocalZone, crate::fiscal::error::FiscalError> {
        crate::fiscal::local::LocalZone::new(&self.timezone)
    }
}

/// `[server]`: how to reach and trust the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TillServer {
    /// `server.webservice_url`: the web service; always ends with `/`.
    #[serde(with = "http_url_serde")]
    pub webservice_url: Url,
    /// `server.public_key`: the server's Ed25519 verifying key, 64 hex characters.
    pub public_key: String,
    /// `server.ca_pem`: the PEM certificate(s) the till trusts for HTTPS
    /// (from the deployment package), when the web service uses its own CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
}

/// `[ftp]`: where packages are fetched. `Debug` masks the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TillFtp {
    /// `ftp.address`, stored as `ftp://host:port/path`.
    #[serde(with = "ftp_address_serde")]
    pub address: FtpAddress,
    /// `ftp.user`.
    pub user: String,
    /// `ftp.password` (secret).
    pub password: Secret,
}

/// `[auth]`: the till's own secrets: the key it made at install, and its
/// bearer token once enrolled (before that, the enrolment secret of its
/// deployment package). See `docs/till-keys.md`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TillAuth {
    /// `auth.token`: the bearer token of this till on the web service
    /// (secret), from its enrolment; absent while the till is not enrolled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    /// `auth.signing_key`: the till's Ed25519 key that signs its tickets,
    /// 64 hex characters (secret), made on the till.
    pub signing_key: Secret,
    /// `auth.key_created_at`: when the till made `signing_key` (RFC 3339;
    /// absent for a key of a version-2 deployment package).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_created_at: Option<String>,
    /// `auth.enrolment_secret`: the one-time secret of the deployment
    /// package (secret), kept until the enrolment succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrolment_secret: Option<Secret>,
    /// `auth.next_signing_key`: a key being rotated to (secret), until the
    /// server registered it (`till rotate-key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_signing_key: Option<Secret>,
    /// `auth.next_key_created_at`: when `next_signing_key` was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_key_created_at: Option<String>,
}

/// Parse a 64-hex-character Ed25519 secret key, naming `key` in the error.
fn parse_signing_key(key: &str, secret: &Secret) -> Result<ed25519_dalek::SigningKey, ConfigError> {
    let bad = |reason: &str| ConfigError::InvalidSecret {
        key: key.to_string(),
        reason: reason.to_string(),
    };
    let bytes =
        hex::decode(secret.expose().trim()).map_err(|_| bad("expected 64 hex characters"))?;
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| bad("expected 64 hex characters"))?;
    Ok(ed25519_dalek::SigningKey::from_bytes(&arr))
}

impl TillAuth {
    /// The credentials of a till just installed: its new key, made at
    /// `created_at`, and the enrolment secret of its package.
    pub fn new_install(key: &ed25519_dalek::SigningKey, created_at: &str, secret: &str) -> Self {
        TillAuth {
            token: None,
            signing_key: Secret::new(hex::encode(key.to_bytes())),
            key_created_at: Some(created_at.to_string()),
            enrolment_secret: Some(Secret::new(secret)),
            next_signing_key: None,
            next_key_created_at: None,
        }
    }

    /// The ticket signing key.
    pub fn signing_key(&self) -> Result<ed25519_dalek::SigningKey, ConfigError> {
        parse_signing_key("auth.signing_key", &self.signing_key)
    }

    /// The key being rotated to, if any.
    pub fn next_signing_key(&self) -> Result<Option<ed25519_dalek::SigningKey>, ConfigError> {
        self.next_signing_key
            .as_ref()
            .map(|k| parse_signing_key("auth.next_signing_key", k))
            .transpose()
    }

    /// Whether the till has its bearer token (it enrolled, or was installed
    /// from a version-2 package).
    pub fn is_enrolled(&self) -> bool {
        self.token.is_some()
    }

    fn validate(&self) -> Result<(), ConfigError> {
        match (&self.token, &self.enrolment_secret) {
            (Some(t), _) => validate_password("auth.token", t)?,
            (None, Some(s)) => {
                if s.expose().len() != 64 || !s.expose().bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(ConfigError::InvalidSecret {
                        key: "auth.enrolment_secret".to_string(),
                        reason: "expected 64 hex characters".to_string(),
                    });
                }
            }
            (None, None) => {
                return Err(ConfigError::InvalidSecret {
                    key: "auth.token".to_string(),
                    reason: "the till has neither a token nor an enrolment secret: install it again from a new deployment package".to_string(),
                });
            }
        }
        self.signing_key()?;
        self.next_signing_key()?;
        Ok(())
    }
}

/// The till configuration (`till.toml`). `Debug` masks the FTP password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TillConfig {
    /// Identity.
    pub till: TillIdentity,
    /// POS folder.
    pub folder: TillFolder,
    /// Server access and trust.
    pub server: TillServer,
    /// FTP access.
    pub ftp: TillFtp,
    /// The till's credentials and ticket key.
    pub auth: TillAuth,
    /// Synchroniser timings (defaults when the section is absent).
    #[serde(default)]
    pub sync: SyncTimings,
}

const HEADER: &str =
    "# tillsync till configuration. It holds the FTP password: keep it private (mode 0600).\n\n";

impl TillConfig {
    /// The configuration a till of `server` gets (for a deployment package):
    /// folder, web service URL, FTP access and timings from the POS folder.
    pub fn from_server(
        server: &ServerConfig,
        till_id: &str,
        store: &str,
        public_key_hex: &str,
        auth: TillAuth,
    ) -> Result<Self, ConfigError> {
        let cfg = TillConfig {
            till: TillIdentity::new(till_id, store),
            folder: TillFolder {
                name: server.folder.name.clone(),
                payment_methods: server.folder.payment_methods.clone(),
                timezone: server.folder.timezone.clone(),
                day_close_time: server.till.day_close_time.clone(),
            },
            server: TillServer {
                webservice_url: server.till.webservice_url.clone(),
                public_key: public_key_hex.trim().to_string(),
                ca_pem: None,
            },
            ftp: TillFtp {
                address: server.ftp.address.clone(),
                user: server.ftp.user.clone(),
                password: server.ftp.password.clone(),
            },
            auth,
            sync: server.till.timings(),
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// `TDIR/till.toml`.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(FILE_NAME)
    }

    /// Reads and validates `TDIR/till.toml`. Unknown keys are refused.
    pub fn load(dir: &Path) -> Result<Self, ConfigError> {
        let path = Self::path(dir);
        Self::from_toml(&read_config(&path)?, &path)
    }

    /// Parses and validates the text of a `till.toml`; `path` names it in errors
    /// (e.g. when read from a deployment package).
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let cfg: TillConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        cfg.validate().map_err(|e| ConfigError::InFile {
            path: path.to_path_buf(),
            error: Box::new(e),
        })?;
        Ok(cfg)
    }

    /// The file text (validated first), as [`save`](Self::save) writes it.
    pub fn to_toml(&self) -> Result<String, ConfigError> {
        self.validate()?;
        let body = toml::to_string(self).map_err(|e| ConfigError::Encode(e.to_string()))?;
        Ok(format!("{HEADER}{body}"))
    }

    /// Validates, then writes `TDIR/till.toml` atomically (temporary file,
    /// fsync, rename) with mode 0600.
    pub fn save(&self, dir: &Path) -> Result<(), ConfigError> {
        let text = self.to_toml()?;
        let path = Self::path(dir);
        fsio::write_atomic_private(&path, text.as_bytes())
            .map_err(|error| ConfigError::Write { path, error })
    }

    /// Checks every value.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_code("till.id", &self.till.id)?;
        validate_code("till.store", &self.till.store)?;
        self.till.listen_addr()?;
        validate_folder_name("folder.name", &self.folder.name)?;
        validate_payment_methods("folder.payment_methods", &self.folder.payment_methods)?;
        self.folder.zone().map_err(|e| {
            ConfigError::invalid("folder.timezone", &self.folder.timezone, e.to_string())
        })?;
        crate::fiscal::local::parse_time_of_day(&self.folder.day_close_time).map_err(|e| {
            ConfigError::invalid(
                "folder.day_close_time",
                &self.folder.day_close_time,
                e.to_string(),
            )
        })?;
        let url = &self.server.webservice_url;
        check_http_url("server.webservice_url", url.as_str(), url)?;
        self.verifying_key()?;
        validate_text("ftp.user", &self.ftp.user)?;
        validate_password("ftp.password", &self.ftp.password)?;
        self.auth.validate()?;
        self.sync.validate()
    }

    /// The server's verifying key, parsed from `server.public_key`.
    pub fn verifying_key(&self) -> Result<VerifyingKey, ConfigError> {
        keys::parse_verifying_key(&self.server.public_key).map_err(|e| {
            let reason = match e {
                keys::KeyError::PublicKey { reason, .. } => reason,
                other => other.to_string(),
            };
            ConfigError::Invalid {
                key: "server.public_key".to_string(),
                value: self.server.public_key.clone(),
                reason,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::secret::MASK;

    fn test_auth() -> TillAuth {
        TillAuth {
            token: Some(Secret::new("t0ken-secret-value")),
            ..TillAuth::new_install(
                &ed25519_dalek::SigningKey::from_bytes(&[0x11; 32]),
                "2026-12-04T09:00:00Z",
                &"ab".repeat(32),
            )
        }
    }

    fn server() -> ServerConfig {
        ServerConfig::new_default("DEMO").unwrap()
    }

    fn pubkey() -> String {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        keys::public_key_hex(&key)
    }

    fn till() -> TillConfig {
        TillConfig::from_server(&server(), "T001", "S01", &pubkey(), test_auth()).unwrap()
    }

    #[test]
    fn from_server_copies_the_folder_settings() {
        let s = server();
        let t = TillConfig::from_server(&s, "T002", "S01", &pubkey(), test_auth()).unwrap();
        assert_eq!(t.folder.name, "DEMO");
        assert_eq!(
            t.folder.payment_methods,
            ["cash", "card", "cheque", "voucher"]
        );
        assert_eq!(t.ftp.address, s.ftp.address);
        assert_eq!(t.ftp.password, s.ftp.password);
        assert_eq!(t.server.webservice_url, s.till.webservice_url);
        assert_eq!(t.sync, SyncTimings::default());
        assert_eq!(t.sync.ws_timeout(), Duration::from_secs(60));
    }

    #[test]
    fn round_trip_load_save() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = till();
        t.ftp.address = "ftp.example.com:2121{}prod".parse().unwrap();
        t.sync.sync_interval_ms = 1234;
        t.save(dir.path()).unwrap();
        assert!(!dir.path().join("till.toml.tmp").exists());
        let text = std::fs::read_to_string(TillConfig::path(dir.path())).unwrap();
        assert!(
            text.contains("address = \"ftp://ftp.example.com:2121/prod\""),
            "{text}"
        );
        let back = TillConfig::load(dir.path()).unwrap();
        assert_eq!(back, t);
        assert_eq!(back.verifying_key().unwrap(), {
            ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]).verifying_key()
        });
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(TillConfig::path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn load_validates() {
        let dir = tempfile::tempdir().unwrap();
        let text = till().to_toml().unwrap();
        let path = TillConfig::path(dir.path());
        for (from, to, needle) in [
            (pubkey(), "abcd".to_string(), "server.public_key"),
            (pubkey(), "zz".repeat(32), "hexadecimal"),
            (
                "address = \"ftp://127.0.0.1:2121\"".to_string(),
                "address = \"http://x\"".to_string(),
                "ftp://",
            ),
            (
                "id = \"T001\"".to_string(),
                "id = \"T 1\"".to_string(),
                "till.id",
            ),
            (
                "[sync]".to_string(),
                "[sync]\nbogus = 1".to_string(),
                "bogus",
            ),
            (
                "sync_interval_ms = 5000".to_string(),
                "sync_interval_ms = 0".to_string(),
                "sync.sync_interval_ms",
            ),
        ] {
            assert!(text.contains(&from), "{from} not in {text}");
            std::fs::write(&path, text.replace(&from, &to)).unwrap();
            let e = TillConfig::load(dir.path()).unwrap_err().to_string();
            assert!(e.contains("till.toml") && e.contains(needle), "{to}: {e}");
        }
        std::fs::remove_file(&path).unwrap();
        let e = TillConfig::load(dir.path()).unwrap_err();
        assert!(matches!(e, ConfigError::NotFound { .. }), "{e}");
    }

    #[test]
    fn cashier_page_keys_default_and_are_validated() {
        let dir = tempfile::tempdir().unwrap();
        let t = till();
        assert_eq!(t.till.listen, DEFAULT_LISTEN);
        assert_eq!(t.till.language, Lang::Fr);
        // A till.toml written before the keys existed still loads, with the defaults.
        let text = t.to_toml().unwrap();
        let old: String = text
            .lines()
            .filter(|l| !l.starts_with("listen") && !l.starts_with("language"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(!old.contains("listen"), "{old}");
        std::fs::write(TillConfig::path(dir.path()), &old).unwrap();
        let back = TillConfig::load(dir.path()).unwrap();
        assert_eq!(
            back.till.listen_addr().unwrap().to_string(),
            "127.0.0.1:8090"
        );
        assert_eq!(back.till.language, Lang::Fr);
        // Set, saved, read back.
        let mut t = back;
        t.till.listen = "127.0.0.1:0".into();
        t.till.language = Lang::En;
        t.save(dir.path()).unwrap();
        let back = TillConfig::load(dir.path()).unwrap();
        assert_eq!(back.till.listen_addr().unwrap().port(), 0);
        assert_eq!(back.till.language, Lang::En);
        // Bad values name the key.
        let text = back.to_toml().unwrap();
        for (from, to, needle) in [
            (
                "listen = \"127.0.0.1:0\"",
                "listen = \"localhost\"",
                "till.listen",
            ),
            ("language = \"en\"", "language = \"de\"", "language"),
        ] {
            assert!(text.contains(from), "{from} not in {text}");
            std::fs::write(TillConfig::path(dir.path()), text.replace(from, to)).unwrap();
            let e = TillConfig::load(dir.path()).unwrap_err().to_string();
            assert!(e.contains(needle), "{to}: {e}");
        }
    }

    #[test]
    fn payment_methods_default_when_absent_and_are_validated() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = till();
        t.folder.payment_methods = vec!["cash".into(), "card".into()];
        let text = t.to_toml().unwrap();
        assert!(text.contains("payment_methods = ["), "{text}");
        // A till.toml written before the key existed: the default list.
        let old: String = text
            .lines()
            .filter(|l| !l.starts_with("payment_methods"))
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(TillConfig::path(dir.path()), &old).unwrap();
        let back = TillConfig::load(dir.path()).unwrap();
        assert_eq!(
            back.folder.payment_methods,
            ["cash", "card", "cheque", "voucher"]
        );
        std::fs::write(
            TillConfig::path(dir.path()),
            text.replace("\"card\"", "\"Card!\""),
        )
        .unwrap();
        let e = TillConfig::load(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("folder.payment_methods") && e.contains("Card!"),
            "{e}"
        );
    }

    #[test]
    fn debug_never_shows_the_password() {
        let mut t = till();
        t.ftp.password = Secret::new("TillPassw0rdXYZ");
        let d = format!("{t:?} {t:#?}");
        assert!(!d.contains("TillPassw0rdXYZ"), "{d}");
        assert!(d.contains(MASK));
    }

    #[test]
    fn auth_before_and_after_enrolment() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = till();
        // Installed, not enrolled yet: the secret, no token.
        t.auth.token = None;
        assert!(!t.auth.is_enrolled());
        t.save(dir.path()).unwrap();
        let text = std::fs::read_to_string(TillConfig::path(dir.path())).unwrap();
        assert!(
            text.contains("enrolment_secret") && !text.contains("token"),
            "{text}"
        );
        assert_eq!(TillConfig::load(dir.path()).unwrap(), t);
        // A till.toml of a version-2 package: token and key only.
        let old =
            "[auth]\ntoken = \"tok\"\nsigning_key = \"".to_string() + &"11".repeat(32) + "\"\n";
        let body = text[..text.find("[auth]").unwrap()].to_string() + &old;
        std::fs::write(TillConfig::path(dir.path()), &body).unwrap();
        let back = TillConfig::load(dir.path()).unwrap();
        assert!(back.auth.is_enrolled() && back.auth.key_created_at.is_none());
        // Neither, or a malformed secret or next key: refused by name.
        for (auth, needle) in [
            (
                "[auth]\nsigning_key = \"".to_string() + &"11".repeat(32) + "\"\n",
                "neither a token nor an enrolment secret",
            ),
            (
                "[auth]\nenrolment_secret = \"abc\"\nsigning_key = \"".to_string()
                    + &"11".repeat(32)
                    + "\"\n",
                "auth.enrolment_secret",
            ),
            (
                old.clone() + "next_signing_key = \"zz\"\n",
                "auth.next_signing_key",
            ),
        ] {
            let body = text[..text.find("[auth]").unwrap()].to_string() + &auth;
            std::fs::write(TillConfig::path(dir.path()), &body).unwrap();
            let e = TillConfig::load(dir.path()).unwrap_err().to_string();
            assert!(e.contains(needle), "{auth}: {e}");
            assert!(!e.contains(&"11".repeat(32)), "{e}");
        }
    }

    #[test]
    fn empty_password_refused() {
        let mut t = till();
        t.ftp.password = Secret::new("");
        let e = t.validate().unwrap_err().to_string();
        assert!(e.contains("ftp.password") && e.contains("empty"), "{e}");
    }
}
