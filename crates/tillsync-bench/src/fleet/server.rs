//! The server process of `bench fleet`: `tillsync server run` (this
//! executable) as a child, on a free loopback port, stopped on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A free port on the loopback (bound then released for the server).
pub(crate) fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr()?.port())
}

/// `tillsync server run` on `data`, its log in `log`; stopped on drop.
pub(crate) struct ServerProcess {
    pub(crate) child: Child,
    pub(crate) log: PathBuf,
}

impl ServerProcess {
    pub(crate) fn start(data: &Path, log: &Path) -> Result<Self> {
        let exe = std::env::current_exe().context("finding this executable")?;
        let log_file =
            std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let child = Command::new(exe)
            .args(["server", "run", "--data"])
            .arg(data)
            .env("TILLSYNC_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()
            .context("starting `tillsync server run`")?;
        Ok(ServerProcess {
            child,
            log: log.to_path_buf(),
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn log_tail(&self) -> String {
        let s = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(10)..].join("\n")
    }

    /// Wait until `GET /api/v1/ping` answers.
    pub(crate) async fn wait_ready(&mut self, base: &str) -> Result<()> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "`tillsync server run` exited ({status}) before answering:\n{}",
                    self.log_tail()
                );
            }
            if let Ok(r) = client.get(format!("{base}api/v1/ping")).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() > until {
                bail!(
                    "`tillsync server run` did not answer on {base} within 60 s:\n{}",
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM (graceful shutdown), then kill after 10 s.
    pub(crate) fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
