//! `till init`: create a till folder from a deployment package: the till's
//! own key, `till.toml` (mode 0600; the folder's payment methods included,
//! the default list when the package names none) and the till database
//! `till.db`, then the key's enrolment (`crate::enrol`).

use std::path::Path;

use tillsync_core::TillConfig;
use tillsync_core::config::till::{TillAuth, TillFolder, TillFtp, TillIdentity, TillServer};
use tillsync_core::config::timings::SyncTimings;
use tillsync_core::secret::Secret;
use tillsync_core::ticket::default_payment_methods;
use tillsync_till_db::TillDb;
use tillsync_wire::deploy::{DEPLOY_FORMAT, DEPLOY_VERSION, DeploymentPackage};

use crate::enrol::ensure_enrolled;
use crate::error::TillError;
use crate::files::{DB_FILE, KEY_HISTORY_FILE};

/// Read and check a deployment package file.
pub fn read_package(path: &Path) -> Result<DeploymentPackage, TillError> {
    let err = |reason: String| TillError::Deployment {
        path: path.display().to_string(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| err(format!("cannot read it: {e}")))?;
    let probe: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| err(format!("not a deployment package (invalid JSON: {e})")))?;
    if probe.get("format").and_then(|f| f.as_str()) != Some(DEPLOY_FORMAT) {
        return Err(err("not a tillsync deployment package".into()));
    }
    if probe.get("version").and_then(|v| v.as_u64()) != Some(u64::from(DEPLOY_VERSION)) {
        return Err(err(format!(
            "deployment package version {} is not supported (this tillsync reads version {DEPLOY_VERSION}); generate it again with `tillsync server package`",
            probe
                .get("version")
                .map(|v| v.to_string())
                .unwrap_or_default()
        )));
    }
    serde_json::from_value(probe).map_err(|e| err(format!("unreadable: {e}")))
}

/// What `till init` did.
#[derive(Debug, Clone)]
pub struct Installed {
    /// The till's configuration as saved.
    pub config: TillConfig,
    /// The key id of the key the till made.
    pub key_id: String,
    /// `None`: enrolled; `Some(reason)`: the server could not be reached,
    /// the till is installed not enrolled (`till sync` enrols it).
    pub pending: Option<String>,
}

/// Install a till in `dir` from the deployment package at `package`: make
/// its key (the operating system's random generator), write `till.toml`
/// (mode 0600) and `till.db`, then enrol the key with the package's
/// one-time secret. An unreachable server leaves the till installed, not
/// enrolled; a refusal (a used, expired or superseded package) undoes the
/// install and says why. Refuses a folder that already holds a till.
pub fn init(dir: &Path, package: &Path) -> Result<Installed, TillError> {
    let p = read_package(package)?;
    let config = TillConfig::path(dir);
    if config.exists() {
        return Err(TillError::Deployment {
            path: package.display().to_string(),
            reason: format!("{} already holds a till (till.toml exists)", dir.display()),
        });
    }
    let bad = |reason: String| TillError::Deployment {
        path: package.display().to_string(),
        reason,
    };
    let key = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    let created_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut cfg = TillConfig {
        till: TillIdentity::new(&p.till_id, &p.store),
        folder: TillFolder {
            name: p.folder.clone(),
            payment_methods: if p.payment_methods.is_empty() {
                default_payment_methods()
            } else {
                p.payment_methods.clone()
            },
            timezone: p.timezone.clone(),
            day_close_time: p.day_close_time.clone(),
        },
        server: TillServer {
            webservice_url: p
                .webservice_url
                .parse()
                .map_err(|e| bad(format!("web service URL {:?}: {e}", p.webservice_url)))?,
            public_key: p.server_public_key.clone(),
            ca_pem: p.server_ca_pem.clone(),
        },
        ftp: TillFtp {
            address: p.ftp_address.parse().map_err(|e| bad(format!("{e}")))?,
            user: p.ftp_user.clone(),
            password: Secret::new(p.ftp_password.clone()),
        },
        auth: TillAuth::new_install(&key, &created_at, &p.enrolment_secret),
        sync: SyncTimings {
            sync_interval_ms: p.sync_interval_ms,
            ws_timeout_ms: p.ws_timeout_ms,
            ping_timeout_ms: p.ping_timeout_ms,
            retry_interval_ms: p.retry_interval_ms,
        },
    };
    cfg.validate()?;
    let existed = dir.exists();
    std::fs::create_dir_all(dir).map_err(|source| TillError::Io {
        what: "cannot create",
        path: dir.display().to_string(),
        source,
    })?;
    let db = TillDb::open(&dir.join(DB_FILE))?;
    db.journal(
        "install",
        "ok",
        &format!(
            "till {} of store {} installed for folder {}",
            p.till_id, p.store, p.folder
        ),
    )?;
    // The configuration is written last: its presence marks a finished install.
    cfg.save(dir)?;
    let key_id = tillsync_core::key_history::key_id(&key.verifying_key());
    match ensure_enrolled(dir, &mut cfg, &db) {
        Ok(_) => Ok(Installed {
            config: cfg,
            key_id,
            pending: None,
        }),
        Err(e) if e.is_unavailable() => Ok(Installed {
            config: cfg,
            key_id,
            pending: Some(e.to_string()),
        }),
        Err(e) => {
            // Refused: nothing of this install stays.
            drop(db);
            undo(dir, existed);
            Err(bad(format!(
                "the till was not installed: the server refused its enrolment: {e}"
            )))
        }
    }
}

/// Remove what [`init`] created in `dir` (the folder itself when it did not
/// exist before).
fn undo(dir: &Path, existed: bool) {
    for name in [
        tillsync_core::config::till::FILE_NAME,
        KEY_HISTORY_FILE,
        DB_FILE,
        "till.db-wal",
        "till.db-shm",
    ] {
        let _ = std::fs::remove_file(dir.join(name));
    }
    if !existed {
        let _ = std::fs::remove_dir(dir);
    }
}
