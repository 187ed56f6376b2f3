//! The `PackageStore` trait and the rules for package file names and temporary names.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::TransportError;

/// Prefix of the temporary names used while publishing. Files whose name
/// starts with it are never listed and can not be published directly.
pub const TEMP_PREFIX: &str = ".tmp-";

/// Where packages are published by the server and read by tills: a shared
/// folder or a folder on an FTP server.
///
/// The API is synchronous: the export job and the till importer are
/// synchronous code. Names are plain file names (no folder part).
pub trait PackageStore: Send {
    /// Publishes `bytes` as `name` atomically: writes under a temporary name,
    /// then renames it over `name`. A reader sees the old file or the new
    /// one, never a partial one.
    fn put(&mut self, name: &str, bytes: &[u8]) -> Result<(), TransportError>;

    /// Reads `name`; a missing file gives an error for which
    /// [`TransportError::is_not_found`] is true.
    fn get(&mut self, name: &str) -> Result<Vec<u8>, TransportError>;

    /// The plain file names in the folder, without `.`, `..` and temporary
    /// names, sorted.
    fn list(&mut self) -> Result<Vec<String>, TransportError>;

    /// Deletes `name`; a missing file is not an error.
    fn delete(&mut self, name: &str) -> Result<(), TransportError>;

    /// Where this store is, for messages: `share folder /x/y` or
    /// `ftp://host:port/path` (never a password).
    fn describe(&self) -> String;
}

/// Checks that `name` is a plain file name that can be published: not empty,
/// no `/` or `\`, not `.` or `..`, no control characters, not a temporary name.
pub fn validate_name(name: &str) -> Result<(), TransportError> {
    let refuse = |reason: &str| {
        Err(TransportError::InvalidName {
            name: name.to_string(),
            reason: reason.to_string(),
        })
    };
    if name.is_empty() {
        return refuse("the name is empty");
    }
    if name.contains('/') || name.contains('\\') {
        return refuse("a file name may not contain '/' or '\\'");
    }
    if name == "." || name == ".." || name.contains("..") {
        return refuse("a file name may not contain '..'");
    }
    if name.chars().any(char::is_control) {
        return refuse("a file name may not contain control characters");
    }
    if name.starts_with(' ') || name.ends_with(' ') {
        return refuse("a file name may not start or end with a space");
    }
    if is_temp_name(name) {
        return refuse("names starting with '.tmp-' are reserved for uploads in progress");
    }
    if name.len() > 200 {
        return refuse("the name is longer than 200 bytes");
    }
    Ok(())
}

/// Whether `name` is a temporary name used while publishing.
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX)
}

/// A fresh temporary name for publishing `name`:
/// `.tmp-<name>-<pid>-<nanos>-<counter>`.
pub fn temp_name(name: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{TEMP_PREFIX}{name}-{}-{nanos}-{n}", std::process::id())
}

/// Keeps what a listing should show: strips any path prefix, drops `.`,
/// `..`, empty and temporary names, sorts and de-duplicates.
pub(crate) fn clean_listing<I: IntoIterator<Item = String>>(raw: I) -> Vec<String> {
    let mut names: Vec<String> = raw
        .into_iter()
        .map(|line| {
            let line = line.trim_end_matches(['\r', '\n']);
            let line = line.trim_end_matches('/');
            match line.rfind('/') {
                Some(i) => line[i + 1..].to_string(),
                None => line.to_string(),
            }
        })
        .filter(|n| !n.is_empty() && n != "." && n != ".." && !is_temp_name(n))
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass() {
        for n in [
            "p-ART-full-00000012.tspkg",
            "index.json",
            "test.txt",
            ".hidden",
        ] {
            validate_name(n).unwrap();
        }
    }

    #[test]
    fn bad_names_are_refused() {
        for n in [
            "", "a/b", "/abs", "a\\b", ".", "..", "x..y", "a\nb", ".tmp-x", " lead",
        ] {
            let e = validate_name(n).unwrap_err();
            assert!(matches!(e, TransportError::InvalidName { .. }), "{n:?}");
        }
    }

    #[test]
    fn temp_names_are_unique_and_recognised() {
        let a = temp_name("x.tspkg");
        let b = temp_name("x.tspkg");
        assert_ne!(a, b);
        assert!(is_temp_name(&a));
        assert!(a.contains("x.tspkg"));
        assert!(!a.contains('/'));
    }

    #[test]
    fn listing_is_cleaned() {
        let raw = [
            ".",
            "..",
            "pkgs/a.tspkg",
            "/pkgs/b.tspkg",
            "c\r",
            ".tmp-a-1-2-3",
            "",
            "a.tspkg",
        ]
        .map(String::from);
        assert_eq!(clean_listing(raw), vec!["a.tspkg", "b.tspkg", "c"]);
    }
}
