//! Deployment packages: one file that installs a till (identity, web service,
//! FTP access for reading packages, the server's public key).

use std::path::Path;

use tillsync_core::keys;
use tillsync_wire::deploy::{DEPLOY_FORMAT, DEPLOY_VERSION, DeploymentPackage};

use crate::data::DataDir;
use crate::error::ServerError;

/// Build the deployment package of `till_id` (which must be in `STORE_TILL`).
/// Issues new credentials: a bearer token and a ticket signing key, of which
/// the server keeps only the token's SHA-256 and the public key. Generating a
/// package again rotates them (the old token stops working; tickets signed
/// with an older key still verify).
pub fn build(data: &DataDir, till_id: &str) -> Result<DeploymentPackage, ServerError> {
    let cfg = data.config()?;
    let mut db = data.open_store_with(&cfg)?;
    let store = db.till_store(till_id)?;
    let key = data.signing_key()?;
    let mut token_bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut token_bytes);
    let till_token = hex::encode(token_bytes);
    let till_key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    db.issue_credentials(
        till_id,
        &tillsync_wire::sha256_hex(till_token.as_bytes()),
        &hex::encode(till_key.verifying_key().to_bytes()),
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
        till_token,
        till_signing_key: hex::encode(till_key.to_bytes()),
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
        created_at: tillsync_db::now_rfc3339(),
        timezone: cfg.folder.timezone.clone(),
        day_close_time: cfg.till.day_close_time.clone(),
    })
}

/// Write `pkg` to `out` (mode 0600: it holds the FTP password), atomically.
pub fn write(pkg: &DeploymentPackage, out: &Path) -> Result<(), ServerError> {
    let json = serde_json::to_vec_pretty(pkg).expect("deployment package serializes");
    // Atomic and private (mode 0600 even over a leftover temporary file:
    // the package holds the FTP password).
    tillsync_core::fsio::write_atomic_private(out, &json)
        .map_err(|e| ServerError::io("cannot write", out, e))?;
    Ok(())
}
