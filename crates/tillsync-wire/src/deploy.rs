//! The deployment package: one file that installs a till (its identity, where
//! to reach the server and the package store, the server's public key, and
//! the one-time secret with which the till enrols the key it makes).

use serde::{Deserialize, Serialize};

/// Value of the `format` field.
pub const DEPLOY_FORMAT: &str = "tillsync-deployment";
/// Version of the deployment package format. Version 3 carries a one-time
/// enrolment secret instead of version 2's bearer token and ticket key.
pub const DEPLOY_VERSION: u32 = 3;

/// A deployment package (JSON). It holds secrets (the FTP password, the
/// enrolment secret): written with mode 0600.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentPackage {
    /// Always [`DEPLOY_FORMAT`].
    pub format: String,
    /// Always [`DEPLOY_VERSION`] for this layout.
    pub version: u32,
    /// POS folder name.
    pub folder: String,
    /// Till identity.
    pub till_id: String,
    /// Store the till belongs to.
    pub store: String,
    /// Web service base URL.
    pub webservice_url: String,
    /// FTP address where packages are read (`ftp://host:port/path`).
    pub ftp_address: String,
    /// FTP user for reading packages.
    pub ftp_user: String,
    /// FTP password (secret).
    pub ftp_password: String,
    /// The server's Ed25519 public key (hex), to verify packages.
    pub server_public_key: String,
    /// The one-time enrolment secret (64 hex digits; secret: the server
    /// keeps only its SHA-256). `till init` sends it once with the public
    /// key the till made; the server then refuses it.
    pub enrolment_secret: String,
    /// Until when the server accepts the secret (RFC 3339 UTC).
    pub enrolment_expires_at: String,
    /// PEM of the CA (or self-signed certificate) the till trusts for the
    /// web service over HTTPS; absent for plain HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_ca_pem: Option<String>,
    /// Synchroniser settings (`till.*` keys of the POS folder).
    pub sync_interval_ms: u64,
    /// Web-service timeout.
    pub ws_timeout_ms: u64,
    /// Ping timeout.
    pub ping_timeout_ms: u64,
    /// Wait after an error.
    pub retry_interval_ms: u64,
    /// The payment methods the till accepts (`folder.payment_methods`);
    /// absent: the default list (cash, card, cheque, voucher).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payment_methods: Vec<String>,
    /// When it was generated (RFC 3339).
    pub created_at: String,
    /// `folder.timezone` (absent from older packages: `Europe/Paris`).
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// `till.day_close_time` (absent from older packages: `23:59`).
    #[serde(default = "default_day_close_time")]
    pub day_close_time: String,
}

fn default_timezone() -> String {
    "Europe/Paris".to_string()
}

fn default_day_close_time() -> String {
    "23:59".to_string()
}

impl std::fmt::Debug for DeploymentPackage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeploymentPackage")
            .field("folder", &self.folder)
            .field("till_id", &self.till_id)
            .field("store", &self.store)
            .field("webservice_url", &self.webservice_url)
            .field("ftp_address", &self.ftp_address)
            .field("ftp_user", &self.ftp_user)
            .field("ftp_password", &"********")
            .field("enrolment_secret", &"********")
            .field("enrolment_expires_at", &self.enrolment_expires_at)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password_and_the_enrolment_secret() {
        let p = DeploymentPackage {
            format: DEPLOY_FORMAT.into(),
            version: DEPLOY_VERSION,
            folder: "DEMO".into(),
            till_id: "T001".into(),
            store: "S01".into(),
            webservice_url: "http://127.0.0.1:8080".into(),
            ftp_address: "ftp://127.0.0.1:2121".into(),
            ftp_user: "till".into(),
            ftp_password: "s3cr3t-pw".into(),
            server_public_key: "00".into(),
            enrolment_secret: "3nr0l-v4lue".into(),
            enrolment_expires_at: "later".into(),
            server_ca_pem: None,
            sync_interval_ms: 1,
            ws_timeout_ms: 1,
            ping_timeout_ms: 1,
            retry_interval_ms: 1,
            payment_methods: vec![],
            created_at: "now".into(),
            timezone: default_timezone(),
            day_close_time: default_day_close_time(),
        };
        let shown = format!("{p:?}");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("3nr0l"),
            "{shown}"
        );
    }
}
