//! Test support: a whole server (web service and embedded FTP server on
//! 127.0.0.1:0) over demo data in its own temp folder, tills installed from
//! real deployment packages (enrolled at install while the server runs),
//! and comparisons of a till with the server.
//!
//! # Example
//! ```no_run
//! let server = tillsync_testkit::TestServer::start(500);
//! server.export();
//! let till = server.install_till("T001");
//! tillsync_testkit::pull(&till).unwrap();
//! server.assert_till_matches(&till);
//! ```
//!
//! [`proxy::FaultProxy`] is a fault-injecting TCP proxy to put between a till
//! and the server; [`browser::Browser`] drives headless Chromium through
//! chromedriver for tests of the web pages.
//!
//! # Backends
//! The server database is a SQLite file, or, with `TILLSYNC_TEST_PG_URL`
//! set, a fresh PostgreSQL database per test server ([`pg`]): the same
//! tests run against both. Tests that play the ERP use [`TestServer::erp`]
//! and [`TestServer::query`], which work on both.

pub mod browser;
pub mod pg;
pub mod proxy;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use tillsync_core::{ServerConfig, TillConfig};
use tillsync_server::down::export::{ExportOptions, export};
use tillsync_server::down::report::ExportReport;
use tillsync_server::run::{RunOptions, RunningServer, start};
use tillsync_server::verify::{TableMatch, compare_with_till};
use tillsync_server::{DataDir, ServerError, deploy};
use tillsync_server_db::store::ServerStore;
use tillsync_server_sqlite::ServerDb;
use tillsync_till::down::pull::{PullOptions, PullReport, pull as till_pull};
use tillsync_till::{DB_FILE, TillError, install};
use tillsync_till_db::TillDb;

/// A server in a temp folder, its web service and FTP server on loopback.
pub struct TestServer {
    /// The temp folder holding the server (`server/`) and tills (`T001/`…).
    pub root: tempfile::TempDir,
    /// The server data folder.
    pub data: DataDir,
    rt: tokio::runtime::Runtime,
    running: Option<RunningServer>,
    /// Web service address.
    pub web_addr: SocketAddr,
    /// Embedded FTP server address.
    pub ftp_addr: SocketAddr,
    /// The PostgreSQL database of this server, when the suite runs on PostgreSQL.
    pub pg: Option<pg::TestDb>,
}

impl TestServer {
    /// Init a server with `rows` demo items and start it (no export yet).
    pub fn start(rows: usize) -> Self {
        Self::start_with(rows, pg::test_url().as_deref())
    }

    /// [`TestServer::start`] on a fresh database of the PostgreSQL server
    /// of `admin_url` (e.g. a [`pg::PrivateCluster`]), whatever the test
    /// run's backend.
    pub fn start_on_postgres(rows: usize, admin_url: &str) -> Self {
        Self::start_with(rows, Some(admin_url))
    }

    fn start_with(rows: usize, pg_admin_url: Option<&str>) -> Self {
        let root = tempfile::tempdir().expect("temp dir");
        let dir = root.path().join("server");
        let pg = pg_admin_url.map(pg::TestDb::create);
        let (data, _) = DataDir::init_with_db(
            &dir,
            "DEMO",
            Some(rows),
            pg.as_ref().map(|p| p.url.as_str()),
        )
        .expect("server init");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let mut s = TestServer {
            root,
            data,
            rt,
            running: None,
            web_addr: "127.0.0.1:0".parse().expect("addr"),
            ftp_addr: "127.0.0.1:0".parse().expect("addr"),
            pg,
        };
        s.restart();
        s
    }

    /// Start (again) the web service and FTP server; the first start picks
    /// free ports, a restart reuses them, and the configuration tells the tills.
    pub fn restart(&mut self) {
        assert!(self.running.is_none(), "server already running");
        let (web, ftp) = (self.web_addr, self.ftp_addr);
        let data = self.data.clone();
        let running = self
            .rt
            .block_on(async move {
                let listener = tokio::net::TcpListener::bind(web).await?;
                start(
                    data,
                    RunOptions {
                        web_listener: Some(listener),
                        ftp_listen: Some(ftp),
                        scheduled_exports: false,
                    },
                )
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))
            })
            .expect("server start");
        self.web_addr = running.web_addr;
        // The URL the tills use; a certificate for HTTPS names 127.0.0.1.
        self.ftp_addr = running.ftp_addr.expect("embedded FTP runs");
        let mut cfg = self.config();
        let scheme = if running.https { "https" } else { "http" };
        cfg.set(
            "till.webservice_url",
            &format!("{scheme}://{}/", self.web_addr),
        )
        .expect("url");
        cfg.set("ftp.address", &format!("ftp://{}", self.ftp_addr))
            .expect("ftp address");
        cfg.set("till.ws_timeout_ms", "5000").expect("timeout");
        cfg.save(self.data.path()).expect("save config");
        self.running = Some(running);
    }

    /// Stop the web service and the FTP server (the data folder stays).
    pub fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            self.rt.block_on(r.shutdown());
        }
    }

    /// The server data folder.
    pub fn dir(&self) -> &Path {
        self.data.path()
    }

    /// The configuration as saved.
    pub fn config(&self) -> ServerConfig {
        ServerConfig::load(self.data.path()).expect("config")
    }

    /// The folder the embedded FTP server serves (copy mode publishes here).
    pub fn share_dir(&self) -> PathBuf {
        self.config().share_dir(self.data.path())
    }

    /// The server database as a SQLite connection (tests that are
    /// SQLite-only by nature; see [`TestServer::is_postgres`]).
    pub fn db(&self) -> ServerDb {
        self.data.open_db().expect("server db")
    }

    /// The server database, whatever its backend.
    pub fn store(&self) -> Box<dyn ServerStore> {
        self.data.open_store().expect("server db")
    }

    /// Whether this server's database is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// `sql` for this server's backend: on PostgreSQL, where an unquoted
    /// name folds to lower case, the upper-case business tables of the
    /// demo (`ART`, `CLI`, `TICKET`…) are quoted.
    pub fn sql(&self, sql: &str) -> String {
        if self.is_postgres() {
            pg::quote_demo_tables(sql)
        } else {
            sql.to_string()
        }
    }

    /// Run SQL on the server database as the ERP would (any writer).
    pub fn erp(&self, sql: &str) {
        let sql = self.sql(sql);
        self.store()
            .execute_batch(&sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The first column of the first row of `sql`, as text.
    pub fn query(&self, sql: &str) -> Option<String> {
        let sql = self.sql(sql);
        self.store()
            .query_text(&sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Every row of `sql`, values as text.
    pub fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let sql = self.sql(sql);
        self.store()
            .query_rows(&sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// [`TestServer::query`] as a number.
    pub fn count(&self, sql: &str) -> i64 {
        self.query(sql)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{sql}: not a number"))
    }

    /// Run one export (incremental where possible).
    pub fn export(&self) -> ExportReport {
        self.try_export(false).expect("export")
    }

    /// Run one export, full or not, returning errors.
    pub fn try_export(&self, full: bool) -> Result<ExportReport, ServerError> {
        let cfg = self.config();
        let mut store = self.data.package_store(&cfg)?;
        export(
            &self.data,
            store.as_mut(),
            ExportOptions { full },
            &mut |_| {},
        )
    }

    /// Write a new deployment package of `till` to `root/<till>.deploy.json`.
    pub fn write_package(&self, till: &str) -> PathBuf {
        let pkg = self.root.path().join(format!("{till}.deploy.json"));
        deploy::write(
            &deploy::build(&self.data, till).expect("deployment package"),
            &pkg,
        )
        .expect("write deployment package");
        pkg
    }

    /// Write the deployment package of `till` and install it in
    /// `root/<till>`; while the server runs, the till enrols at install.
    pub fn install_till(&self, till: &str) -> PathBuf {
        self.install_till_at(till, &self.root.path().join(till))
    }

    /// [`TestServer::install_till`] into `tdir` (a second install of a
    /// till, e.g. a reinstall from a newer package).
    pub fn install_till_at(&self, till: &str, tdir: &Path) -> PathBuf {
        let pkg = self.write_package(till);
        let done = install::init(tdir, &pkg).expect("till init");
        if self.running.is_some() {
            assert_eq!(done.pending, None, "till {till} did not enrol at install");
        }
        tdir.to_path_buf()
    }

    /// Compare a till with the server, table by table.
    pub fn compare(&self, tdir: &Path) -> Vec<TableMatch> {
        let cfg = TillConfig::load(tdir).expect("till config");
        let db = TillDb::open(&tdir.join(DB_FILE)).expect("till db");
        compare_with_till(&self.data, db.conn(), &cfg.till.store).expect("compare")
    }

    /// Panic with the differences unless the till equals the server.
    pub fn assert_till_matches(&self, tdir: &Path) {
        let m = self.compare(tdir);
        assert!(
            m.iter().all(|t| t.matches),
            "till {} differs from the server: {m:#?}",
            tdir.display()
        );
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
        // The database goes after the server that used it.
        self.pg.take();
    }
}

/// One pull (incremental where possible) for the till in `tdir`.
pub fn pull(tdir: &Path) -> Result<PullReport, TillError> {
    till_pull(tdir, PullOptions::default(), &mut |_| {})
}

/// One full pull for the till in `tdir`.
pub fn pull_full(tdir: &Path) -> Result<PullReport, TillError> {
    till_pull(tdir, PullOptions { full: true }, &mut |_| {})
}

/// Versions the till holds, by table.
pub fn till_versions(tdir: &Path) -> Vec<(String, u64)> {
    TillDb::open(&tdir.join(DB_FILE))
        .expect("till db")
        .table_versions()
        .expect("versions")
        .into_iter()
        .map(|v| (v.table, v.version))
        .collect()
}

/// A digest of every synced table of the till (to show "unchanged").
pub fn till_snapshot(tdir: &Path) -> Vec<(String, u64, String)> {
    let db = TillDb::open(&tdir.join(DB_FILE)).expect("till db");
    let mut out = Vec::new();
    for v in db.table_versions().expect("versions") {
        let layout = tillsync_db::introspect::layout(db.conn(), &v.table).expect("layout");
        let d =
            tillsync_db::digest::table_digest(db.conn(), &v.table, &layout, None).expect("digest");
        out.push((v.table, v.version, d.sha256));
    }
    out
}
