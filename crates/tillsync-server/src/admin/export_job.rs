//! The "export now" job of this process: where it stands, its progress
//! lines and its result (one export at a time per process, and per data
//! folder through the export's own lock file).

use std::sync::{Arc, Mutex};

/// Where the admin's export stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum JobState {
    /// None run since the server started.
    #[default]
    Idle,
    /// Running.
    Running,
    /// Finished.
    Done,
    /// Failed.
    Failed,
}

impl JobState {
    /// The state as the page's `data-state` says it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            JobState::Idle => "idle",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }
}

/// The job's state, the mode asked, and the lines it printed.
#[derive(Debug, Default, Clone)]
pub(crate) struct Status {
    /// Where it stands.
    pub(crate) state: JobState,
    /// A full export.
    pub(crate) full: bool,
    /// When it started.
    pub(crate) started_at: Option<String>,
    /// The progress lines of the export.
    pub(crate) progress: Vec<String>,
    /// Its report's lines, or its error.
    pub(crate) result: Vec<String>,
}

/// The export job of this process.
#[derive(Debug, Default)]
pub struct ExportJob {
    pub(crate) status: Arc<Mutex<Status>>,
}

impl ExportJob {
    /// The status now.
    pub(crate) fn snapshot(&self) -> Status {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}
