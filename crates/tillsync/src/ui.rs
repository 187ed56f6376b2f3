//! Output helpers: JSON or text, progress spinners on a terminal only, logs.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

/// Where results go.
pub struct Out {
    /// `--json` was given.
    pub json: bool,
}

impl Out {
    /// Print `value` as JSON when `--json`, else run `text`.
    pub fn emit<T: Serialize>(&self, value: &T, text: impl FnOnce()) {
        if self.json {
            println!(
                "{}",
                serde_json::to_string_pretty(value).expect("output serializes")
            );
        } else {
            text();
        }
    }

    /// A spinner on an interactive terminal; hidden with `--json` or when
    /// stderr is not a terminal.
    pub fn spinner(&self, msg: &str) -> ProgressBar {
        if self.json || !std::io::stderr().is_terminal() {
            return ProgressBar::hidden();
        }
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("{spinner} {elapsed:>3} {msg}").expect("valid template"),
        );
        pb.enable_steady_tick(Duration::from_millis(120));
        pb.set_message(msg.to_string());
        pb
    }
}

/// Logs on stderr, filtered by `TILLSYNC_LOG` (default `default_level`).
pub fn init_logs(format: &str, default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TILLSYNC_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level))
        // suppaftp logs the FTP password (`PASS …`) at trace level: never below info.
        .add_directive("suppaftp=info".parse().expect("valid directive"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
