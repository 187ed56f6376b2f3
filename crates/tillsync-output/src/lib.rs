//! How the `tillsync` commands print: a command's result as JSON (`--json`)
//! or text, progress spinners on an interactive terminal only, and the logs
//! on stderr. Shared by the binary's command modules, `tillsync-bench` and
//! `tillsync-demo`.
//!
//! # Layout
//! - [`out`]: [`Out`], JSON or text for a result, and the progress spinner.
//! - [`logs`]: [`init_logs`], the log subscriber (`--log-format`, `TILLSYNC_LOG`).

pub mod logs;
pub mod out;

pub use logs::init_logs;
pub use out::Out;
