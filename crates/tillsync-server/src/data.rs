//! The server data folder: `tillsync.toml`, the signing key `server.key`
//! (mode 0600), the database, and `server init` which creates them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ed25519_dalek::SigningKey;
use tillsync_core::config::DbUrl;
use tillsync_core::{Direction, ServerConfig, SyncTable, SyncType, keys};
use tillsync_server_db::store::ServerStore;
use tillsync_server_sqlite::ServerDb;
use tillsync_transport::{FtpStore, PackageStore, ShareFolder};

use crate::error::ServerError;

/// File name of the signing key in the data folder.
pub const KEY_FILE: &str = "server.key";

/// A server data folder.
#[derive(Debug, Clone)]
pub struct DataDir {
    dir: PathBuf,
}

/// What `server init` created.
#[derive(Debug, Clone)]
pub struct InitReport {
    /// The data folder.
    pub dir: PathBuf,
    /// The server's public key (hex).
    pub public_key: String,
    /// Demo rows created, if `--demo`.
    pub demo: Option<tillsync_db::demo::DemoCounts>,
}

impl DataDir {
    /// An existing, initialised data folder.
    pub fn open(dir: &Path) -> Result<Self, ServerError> {
        if !ServerConfig::path(dir).exists() {
            return Err(ServerError::NotInitialised(dir.display().to_string()));
        }
        Ok(DataDir {
            dir: dir.to_path_buf(),
        })
    }

    /// `server init`: create the folder, `tillsync.toml`, the signing key and
    /// the database; with `demo_rows`, demo business tables registered as
    /// sync tables. Refuses a folder that already holds a server.
    pub fn init(
        dir: &Path,
        folder_name: &str,
        demo_rows: Option<usize>,
    ) -> Result<(DataDir, InitReport), ServerError> {
        Self::init_with_db(dir, folder_name, demo_rows, None)
    }

    /// `server init` with the server database at `db_url` (`db.url`; the
    /// default SQLite file when `None`).
    pub fn init_with_db(
        dir: &Path,
        folder_name: &str,
        demo_rows: Option<usize>,
        db_url: Option<&str>,
    ) -> Result<(DataDir, InitReport), ServerError> {
        if ServerConfig::path(dir).exists() {
            return Err(ServerError::AlreadyInitialised(dir.display().to_string()));
        }
        let mut cfg = ServerConfig::new_default(folder_name)?;
        if let Some(url) = db_url {
            cfg.set("db.url", url)?;
        }
        let existed = dir.exists();
        std::fs::create_dir_all(dir).map_err(|e| ServerError::io("cannot create", dir, e))?;
        let result = Self::init_in(dir, cfg, demo_rows);
        if result.is_err() {
            // Undo what this init created, so that it can simply be retried.
            let _ = std::fs::remove_file(dir.join(KEY_FILE));
            if !existed {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
        result
    }

    fn init_in(
        dir: &Path,
        cfg: ServerConfig,
        demo_rows: Option<usize>,
    ) -> Result<(DataDir, InitReport), ServerError> {
        let key = keys::generate_signing_key(&dir.join(KEY_FILE))?;
        let data = DataDir {
            dir: dir.to_path_buf(),
        };
        std::fs::create_dir_all(cfg.share_dir(dir))
            .map_err(|e| ServerError::io("cannot create", &cfg.share_dir(dir), e))?;
        let mut db = data.open_store_with(&cfg)?;
        let demo = match demo_rows {
            Some(n) => {
                let counts = db.create_demo_tables(n, 20261128)?;
                for (table, sync_type, direction, filter) in [
                    ("ART", SyncType::Incremental, Direction::Down, None),
                    (
                        "CLI",
                        SyncType::Incremental,
                        Direction::Down,
                        Some("store".to_string()),
                    ),
                    // Customers travel both ways: till edits come up.
                    ("CLI", SyncType::Incremental, Direction::Up, None),
                    ("T012", SyncType::Full, Direction::Down, None),
                    ("STORE_TILL", SyncType::Full, Direction::Down, None),
                    // Each till gets its own store's identity (receipts)
                    // and cashiers (those of no store go to every till).
                    (
                        "STORE",
                        SyncType::Full,
                        Direction::Down,
                        Some("code".to_string()),
                    ),
                    (
                        "CASHIER",
                        SyncType::Full,
                        Direction::Down,
                        Some("store".to_string()),
                    ),
                ] {
                    db.add_sync_table(&SyncTable {
                        table: table.into(),
                        sync_type,
                        direction,
                        filter,
                    })?;
                }
                Some(counts)
            }
            None => None,
        };
        // The configuration is written last: its presence marks a finished init.
        cfg.save(dir)?;
        let public_key = keys::public_key_hex(&key);
        Ok((
            data.clone(),
            InitReport {
                dir: dir.to_path_buf(),
                public_key,
                demo,
            },
        ))
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Load `tillsync.toml`.
    pub fn config(&self) -> Result<ServerConfig, ServerError> {
        Ok(ServerConfig::load(&self.dir)?)
    }

    /// Load the signing key.
    pub fn signing_key(&self) -> Result<SigningKey, ServerError> {
        Ok(keys::load_signing_key(&self.dir.join(KEY_FILE))?)
    }

    /// Open the server database named by the configuration, whatever its
    /// backend.
    pub fn open_store(&self) -> Result<Box<dyn ServerStore>, ServerError> {
        self.open_store_with(&self.config()?)
    }

    /// Open the server database named by `cfg`, whatever its backend.
    pub fn open_store_with(&self, cfg: &ServerConfig) -> Result<Box<dyn ServerStore>, ServerError> {
        match DbUrl::parse(&cfg.db.url)? {
            DbUrl::Sqlite(p) => {
                let path = if p.is_absolute() { p } else { self.dir.join(p) };
                Ok(Box::new(ServerDb::open(&path)?))
            }
            DbUrl::Postgres(url) => Ok(crate::database::open_server_store(&url)?),
        }
    }

    /// Open the server database as SQLite, for the tools that work on the
    /// SQLite file itself (benchmarks, the demo); a PostgreSQL
    /// configuration is refused by name.
    pub fn open_db(&self) -> Result<ServerDb, ServerError> {
        self.open_db_with(&self.config()?)
    }

    /// Open the SQLite server database named by `cfg` (see [`DataDir::open_db`]).
    pub fn open_db_with(&self, cfg: &ServerConfig) -> Result<ServerDb, ServerError> {
        match DbUrl::parse(&cfg.db.url)? {
            DbUrl::Sqlite(p) => {
                let path = if p.is_absolute() { p } else { self.dir.join(p) };
                Ok(ServerDb::open(&path)?)
            }
            DbUrl::Postgres(_) => Err(tillsync_db::StoreError::Invalid(
                "this command works on a SQLite server database; db.url names a PostgreSQL database"
                    .into(),
            )
            .into()),
        }
    }

    /// The package store the export publishes to: the share folder (copy
    /// mode: the folder the FTP server serves, plus the target folder of
    /// `ftp.address`) or the FTP server itself (put mode).
    pub fn package_store(&self, cfg: &ServerConfig) -> Result<Box<dyn PackageStore>, ServerError> {
        Ok(match cfg.ftp.mode {
            tillsync_core::config::FtpMode::Copy => {
                let mut dir = cfg.share_dir(&self.dir);
                if !cfg.ftp.address.path.is_empty() {
                    dir = dir.join(&cfg.ftp.address.path);
                }
                Box::new(ShareFolder::new(dir))
            }
            tillsync_core::config::FtpMode::Put => Box::new(FtpStore::connect(
                &cfg.ftp.address,
                &cfg.ftp.user,
                cfg.ftp.password.expose(),
                Duration::from_millis(cfg.till.ws_timeout_ms),
                true,
            )?),
        })
    }

    /// The lock file that keeps two exports of this folder apart.
    pub(crate) fn export_lock_path(&self) -> PathBuf {
        self.dir.join("export.lock")
    }
}
