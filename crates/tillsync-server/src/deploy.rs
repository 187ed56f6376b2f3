//! Deployment packages: one file that installs a till (identity, web service,
//! FTP access for reading packages, the server's public key, a one-time
//! enrolment secret).

use std::path::Path;

use chrono::SecondsFormat;

use tillsync_core::keys;
use tillsync_wire::deploy::{DEPLOY_FORMAT, DEPLOY_VERSION, DeploymentPackage};

use crate::data::DataDir;
use crate::error::ServerError;

/// How long the enrolment secret of a deployment package is accepted.
pub const ENROLMENT_VALIDITY: chrono::TimeDelta = chrono::TimeDelta::days(7);

/// Build the deployment package of `till_id` (which must be in `STORE_TILL`).
/// It carries a new one-time enrolment secret, valid
/// [`ENROLMENT_VALIDITY`], of which the server keeps only the SHA-256;
/// the till makes its own key and gets its token when it enrols with it
/// (`docs/till-keys.md`). A newer package supersedes the till's unused
/// older ones; an installed till keeps working until a newer package is
/// used.
pub fn build(data: &DataDir, till_id: &str) -> Result<DeploymentPackage, ServerError> {
    build_at(data, till_id, chrono::Utc::now())
}

/// [`build`] as if it were `now` (tests of the expiry).
pub fn build_at(
    data: &DataDir,
    till_id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<DeploymentPackage, ServerError> {
    let cfg = data.config()?;
    let mut db = data.open_store_with(&cfg)?;
    let store = db.till_store(till_id)?;
    let key = data.signing_key()?;
    let mut secret_bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret_bytes);
    let secret = hex::encode(secret_bytes);
    let at = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let expires_at = at(now + ENROLMENT_VALIDITY);
    db.issue_enrolment(
        till_id,
        &tillsync_wire::sha256_hex(secret.as_bytes()),
        &at(now),
        &expires_at,
    )?;
    let t = cfg.till.timings();
    Ok(DeploymentPackage {
        format: DEPLOY_FORMAT.into(),
        version: DEPLOY_VERSION,
        folder: cfg.folder.name.clone(),
        till_id: till_id.to_string(),
        store,
        webservice_url: cfg.till.webservice_url.to_string(),
        ftp_address: cfg.ftp.address.to_string(),
        ftp_user: cfg.ftp.user.clone(),
        ftp_password: cfg.ftp.password.expose().to_string(),
        server_public_key: keys::public_key_hex(&key),
        enrolment_secret: secret,
        enrolment_expires_at: expires_at,
        server_ca_pem: match cfg.tls_files(data.path())? {
            Some((cert, _)) => Some(
                std::fs::read_to_string(&cert)
                    .map_err(|e| ServerError::io("cannot read", &cert, e))?,
            ),
            None => None,
        },
        sync_interval_ms: t.sync_interval_ms,
        ws_timeout_ms: t.ws_timeout_ms,
        ping_timeout_ms: t.ping_timeout_ms,
        retry_interval_ms: t.retry_interval_ms,
        payment_methods: cfg.folder.payment_methods.clone(),
        created_at: at(now),
        timezone: cfg.folder.timezone.clone(),
        day_close_time: cfg.till.day_close_time.clone(),
    })
}

/// Write `pkg` to `out` (mode 0600: it holds the FTP password and the
/// enrolment secret), atomically.
pub fn write(pkg: &DeploymentPackage, out: &Path) -> Result<(), ServerError> {
    let json = serde_json::to_vec_pretty(pkg).expect("deployment package serializes");
    // Atomic and private (mode 0600 even over a leftover temporary file:
    // the package holds the FTP password).
    tillsync_core::fsio::write_atomic_private(out, &json)
        .map_err(|e| ServerError::io("cannot write", out, e))?;
    Ok(())
}
