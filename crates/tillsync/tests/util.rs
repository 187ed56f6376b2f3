//! Shared helpers: run the `tillsync` binary and report everything on failure.

use std::path::Path;
use std::process::{Command, Output};

/// The result of one `tillsync` run.
pub struct Run {
    pub cmd: String,
    pub out: Output,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    fn describe(&self) -> String {
        format!(
            "command: {}\nstatus: {}\n--- stdout\n{}\n--- stderr\n{}",
            self.cmd,
            self.out.status,
            self.stdout(),
            self.stderr()
        )
    }

    /// Panics (printing the command and its output) unless it succeeded.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert!(
            self.out.status.success(),
            "expected success\n{}",
            self.describe()
        );
        self
    }

    /// Panics unless it failed and stderr contains `needle`.
    #[track_caller]
    pub fn fails_with(self, needle: &str) -> Self {
        assert!(
            !self.out.status.success(),
            "expected failure\n{}",
            self.describe()
        );
        assert!(
            self.stderr().contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.describe()
        );
        self
    }

    /// Parse stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.out.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", self.describe()))
    }
}

/// Run `tillsync ARGS` in `cwd`.
pub fn tillsync(cwd: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_tillsync"))
        .args(args)
        .current_dir(cwd)
        .env_remove("TILLSYNC_DATA")
        .env_remove("TILLSYNC_TILL_DATA")
        .output()
        .expect("run tillsync");
    Run {
        cmd: format!("(in {}) tillsync {}", cwd.display(), args.join(" ")),
        out,
    }
}
