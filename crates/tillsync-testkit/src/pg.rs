//! The test matrix's PostgreSQL side: with `TILLSYNC_TEST_PG_URL` set
//! (`postgres://USER:PASSWORD@127.0.0.1:PORT/postgres`), every
//! [`crate::TestServer`] gets a fresh database of its own on that server
//! ([`TestDb`], the PostgreSQL crate's one fixture), dropped when the test
//! server is dropped. [`PrivateCluster`] is a
//! throwaway PostgreSQL cluster of one test, which it may restart or stop
//! without disturbing the others.

use std::fs;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};

pub use tillsync_server_pg::testdb::{ENV, TestDb, test_url};

/// A PostgreSQL cluster of one test: its own temp folder (owned by the
/// `postgres` user, as PostgreSQL refuses to run as root), `initdb` with
/// password authentication over TCP (as `.ci/start-postgres.sh` does), on a
/// free port of 127.0.0.1. Stopped (immediate) and removed on drop, also
/// when the test panics.
pub struct PrivateCluster {
    /// Holds `data/`, the log, the socket; removed on drop.
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// `postgres://postgres:PASSWORD@127.0.0.1:PORT/postgres`.
    pub admin_url: String,
}

const CLUSTER_PASSWORD: &str = "tillsync-private";

impl PrivateCluster {
    /// The PostgreSQL `bin` folder, or what is missing to run a private
    /// cluster: root (to act as the `postgres` user), the `postgres` user,
    /// `/usr/lib/postgresql/*/bin` with `initdb` and `pg_ctl`.
    pub fn requirements() -> Result<PathBuf, String> {
        let uid = Command::new("id")
            .arg("-u")
            .output()
            .map_err(|e| format!("cannot run `id -u`: {e}"))?;
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            return Err(
                "a private PostgreSQL cluster needs root (to run as the postgres user)".into(),
            );
        }
        let user = Command::new("id")
            .arg("postgres")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run `id postgres`: {e}"))?;
        if !user.success() {
            return Err("no `postgres` user (install Debian's postgresql package)".into());
        }
        let mut bins: Vec<PathBuf> = fs::read_dir("/usr/lib/postgresql")
            .map_err(|_| {
                "no /usr/lib/postgresql (install Debian's postgresql package)".to_string()
            })?
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .filter(|b| b.join("initdb").is_file() && b.join("pg_ctl").is_file())
            .collect();
        // The newest major version (numeric order: 9 < 10).
        bins.sort_by_key(|b| {
            b.parent()
                .and_then(|v| v.file_name())
                .and_then(|v| v.to_str())
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0)
        });
        bins.pop()
            .ok_or_else(|| "no /usr/lib/postgresql/*/bin with initdb and pg_ctl".to_string())
    }

    /// `initdb` and start a cluster; `Err` names what is missing or failed.
    pub fn start() -> Result<PrivateCluster, String> {
        let bin = Self::requirements()?;
        let dir = tempfile::Builder::new()
            .prefix("tillsync-pg-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        let path = dir
            .path()
            .to_str()
            .ok_or("temp dir is not UTF-8")?
            .to_string();
        if path.contains(|c: char| !(c.is_ascii_alphanumeric() || "/-_.".contains(c))) {
            return Err(format!("temp dir {path:?} needs shell quoting"));
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("free port: {e}"))?
            .port();
        fs::write(dir.path().join("pwfile"), format!("{CLUSTER_PASSWORD}\n"))
            .map_err(|e| format!("pwfile: {e}"))?;
        let cluster = PrivateCluster {
            admin_url: format!("postgres://postgres:{CLUSTER_PASSWORD}@127.0.0.1:{port}/postgres"),
            dir,
            bin,
            port,
        };
        let chown = Command::new("chown")
            .args(["-R", "postgres:postgres", &path])
            .status()
            .map_err(|e| format!("chown: {e}"))?;
        if !chown.success() {
            return Err(format!("chown postgres {path} failed"));
        }
        cluster.as_postgres(&format!(
            "{} -D {path}/data -U postgres --pwfile={path}/pwfile --auth-local=trust \
             --auth-host=scram-sha-256 --no-locale -E UTF8 --no-sync",
            cluster.bin.join("initdb").display()
        ))?;
        cluster.start_server()?;
        Ok(cluster)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `pg_ctl ACTION` with the server options, waiting for it to finish.
    fn pg_ctl(&self, action: &str) -> Result<(), String> {
        let path = self.dir.path().display();
        self.as_postgres(&format!(
            "{} -D {path}/data -l {path}/log -w -t 30 -o '-c listen_addresses=127.0.0.1 -p {} \
             -k {path} -c fsync=off -c max_connections=50' {action}",
            self.bin.join("pg_ctl").display(),
            self.port
        ))
    }

    fn start_server(&self) -> Result<(), String> {
        self.pg_ctl("start")
    }

    /// `pg_ctl restart -m fast`: every connection ends, the server is back
    /// when this returns.
    pub fn restart_fast(&self) -> Result<(), String> {
        self.pg_ctl("-m fast restart")
    }

    /// `pg_ctl stop -m fast`: connections are refused until [`Self::start_again`].
    pub fn stop_fast(&self) -> Result<(), String> {
        self.pg_ctl("-m fast stop")
    }

    /// Start the stopped server; it accepts connections when this returns.
    pub fn start_again(&self) -> Result<(), String> {
        self.start_server()
    }

    /// The server log (for failure messages).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// Run `script` as the postgres user. Output goes to a file, never to a
    /// pipe: the server started by `pg_ctl start` would hold the pipe open.
    fn as_postgres(&self, script: &str) -> Result<(), String> {
        let out_path = self.dir.path().join("command.out");
        let out =
            fs::File::create(&out_path).map_err(|e| format!("{}: {e}", out_path.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let status = Command::new("su")
            .args(["postgres", "-c", script])
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .status()
            .map_err(|e| format!("su postgres: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!(
                "`{script}` as postgres failed ({status}): {}\n{}",
                fs::read_to_string(&out_path).unwrap_or_default(),
                self.log()
            ))
        }
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        if self.dir.path().join("data/postmaster.pid").exists() {
            let _ = self.pg_ctl("-m immediate stop");
        }
        // The TempDir removes the folder (root may remove postgres's files).
    }
}

/// The business tables of the demo and of the up path, upper case.
const DEMO_TABLES: &[&str] = &[
    "ART",
    "CLI",
    "T012",
    "STORE_TILL",
    "STORE",
    "CASHIER",
    "TICKET",
    "TICKET_LINE",
    "TICKET_PAYMENT",
    "TICKET_VAT",
    "TILL_PARAM",
];

/// Quote the unquoted upper-case demo table names of `sql` (outside
/// string literals and quoted names).
pub fn quote_demo_tables(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let b = sql.as_bytes();
    let mut i = 0;
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    while i < b.len() {
        let c = b[i];
        if c == b'\'' || c == b'"' {
            // Copy a literal or a quoted name whole.
            let end = sql[i + 1..]
                .find(c as char)
                .map_or(b.len(), |j| i + 1 + j + 1);
            out.push_str(&sql[i..end]);
            i = end;
            continue;
        }
        if ident(c) && (i == 0 || !ident(b[i - 1])) {
            let end = sql[i..]
                .bytes()
                .position(|c| !ident(c))
                .map_or(b.len(), |j| i + j);
            let word = &sql[i..end];
            if DEMO_TABLES.contains(&word) {
                out.push('"');
                out.push_str(word);
                out.push('"');
            } else {
                out.push_str(word);
            }
            i = end;
            continue;
        }
        let ch = sql[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_only_bare_demo_names() {
        assert_eq!(
            super::quote_demo_tables(
                "UPDATE ART SET label = 'ART x' WHERE code IN (SELECT k1 FROM tillsync_changes) AND \"CLI\".x = ARTICLE"
            ),
            "UPDATE \"ART\" SET label = 'ART x' WHERE code IN (SELECT k1 FROM tillsync_changes) AND \"CLI\".x = ARTICLE"
        );
    }
}
