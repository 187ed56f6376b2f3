//! [`Out`]: where a command's result goes (JSON with `--json`, else text) and
//! its progress spinner (on an interactive terminal only).

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
