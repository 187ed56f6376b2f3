//! The throwaway places a bench run works in: a fresh temporary folder
//! (`bench_dir`) and, on PostgreSQL, a fresh database (`FreshPg`).

use std::path::Path;

use anyhow::{Context, Result};

/// A fresh temporary folder for a bench run, in `dir` (or the system temp
/// folder): put it on the disk you mean to measure, fsync is in the figures.
pub(crate) fn bench_dir(dir: Option<&Path>, prefix: &str) -> Result<tempfile::TempDir> {
    let parent = dir
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(&parent)
        .with_context(|| format!("cannot make a temp folder in {}", parent.display()))
}

/// A fresh PostgreSQL database for one run, created through the URL the
/// bench was given and dropped (with its connections) at the end.
pub(crate) struct FreshPg {
    admin: String,
    name: String,
    pub(crate) url: String,
}

impl FreshPg {
    pub(crate) fn create(admin: &str) -> Result<FreshPg> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!("tillsync_fleet_{}_{nanos:09}", std::process::id());
        tillsync_server_pg::db::connect(admin)?
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .with_context(|| format!("creating the bench database {name}"))?;
        Ok(FreshPg {
            admin: admin.to_string(),
            url: tillsync_server_pg::db::url_with_database(admin, &name),
            name,
        })
    }
}

impl Drop for FreshPg {
    fn drop(&mut self) {
        let dropped = tillsync_server_pg::db::connect(&self.admin).map(|mut c| {
            c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
        });
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the bench database {}", self.name);
        }
    }
}
