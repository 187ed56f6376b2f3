//! `ShareFolder`: a package store in a local or network-mounted folder.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::TransportError;
use crate::store::{PackageStore, clean_listing, temp_name, validate_name};

/// A package store in a folder of the file system (local disk or a mounted
/// network share). The folder is created on the first [`put`](PackageStore::put).
#[derive(Debug, Clone)]
pub struct ShareFolder {
    dir: PathBuf,
}

impl ShareFolder {
    /// A store in `dir`; nothing is touched until the first operation.
    pub fn new(dir: PathBuf) -> Self {
        ShareFolder { dir }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn io_err(&self, action: impl Into<String>, source: io::Error) -> TransportError {
        let location = self.describe();
        let action = action.into();
        match source.kind() {
            io::ErrorKind::PermissionDenied => {
                TransportError::PermissionDenied { location, action }
            }
            _ => TransportError::Io {
                location,
                action,
                source,
            },
        }
    }

    fn write_temp(&self, tmp: &Path, bytes: &[u8]) -> io::Result<()> {
        let mut f = OpenOptions::new().write(true).create_new(true).open(tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    }
}

/// Flushes the folder entry so a rename survives a power cut (Unix only; on
/// other systems the rename is already durable or folders can not be opened).
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

impl PackageStore for ShareFolder {
    fn put(&mut self, name: &str, bytes: &[u8]) -> Result<(), TransportError> {
        validate_name(name)?;
        fs::create_dir_all(&self.dir).map_err(|e| self.io_err("create the folder", e))?;
        let tmp = self.dir.join(temp_name(name));
        if let Err(e) = self.write_temp(&tmp, bytes) {
            let _ = fs::remove_file(&tmp);
            return Err(self.io_err(format!("write {name}"), e));
        }
        if let Err(e) = fs::rename(&tmp, self.dir.join(name)) {
            let _ = fs::remove_file(&tmp);
            return Err(self.io_err(format!("rename the new {name} into place"), e));
        }
        sync_dir(&self.dir)
            .map_err(|e| self.io_err(format!("flush the folder after writing {name}"), e))
    }

    fn get(&mut self, name: &str) -> Result<Vec<u8>, TransportError> {
        validate_name(name)?;
        match fs::read(self.dir.join(name)) {
            Ok(bytes) => Ok(bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if self.dir.is_dir() {
                    Err(TransportError::NotFound {
                        name: name.to_string(),
                        location: self.describe(),
                    })
                } else {
                    Err(TransportError::FolderNotFound {
                        location: self.describe(),
                    })
                }
            }
            Err(e) => Err(self.io_err(format!("read {name}"), e)),
        }
    }

    /// Missing folder: [`TransportError::FolderNotFound`].
    fn list(&mut self) -> Result<Vec<String>, TransportError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(TransportError::FolderNotFound {
                    location: self.describe(),
                });
            }
            Err(e) => return Err(self.io_err("list the files", e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| self.io_err("list the files", e))?;
            // Follows symbolic links: a link to a file counts as a file.
            let is_file = fs::metadata(entry.path())
                .map(|m| m.is_file())
                .unwrap_or(false);
            if !is_file {
                continue;
            }
            if let Some(name) = entry.file_name().to_str() {
                names.push(name.to_string());
            }
        }
        Ok(clean_listing(names))
    }

    fn delete(&mut self, name: &str) -> Result<(), TransportError> {
        validate_name(name)?;
        match fs::remove_file(self.dir.join(name)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.io_err(format!("delete {name}"), e)),
        }
    }

    fn describe(&self) -> String {
        format!("share folder {}", self.dir.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_creates_folder_and_overwrites() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        let mut s = ShareFolder::new(dir.clone());
        assert!(s.list().unwrap_err().is_not_found());
        let data = b"x\r\ny\n\0z".to_vec();
        s.put("p.tspkg", &data).unwrap();
        assert_eq!(s.get("p.tspkg").unwrap(), data);
        s.put("p.tspkg", b"second").unwrap();
        assert_eq!(s.get("p.tspkg").unwrap(), b"second");
        fs::create_dir(dir.join("sub")).unwrap();
        fs::write(dir.join(".tmp-left-over"), b"x").unwrap();
        assert_eq!(s.list().unwrap(), vec!["p.tspkg"]);
        s.delete("p.tspkg").unwrap();
        s.delete("p.tspkg").unwrap();
        let e = s.get("p.tspkg").unwrap_err();
        assert!(e.is_not_found(), "{e}");
        assert!(e.to_string().contains("p.tspkg"), "{e}");
        assert!(e.to_string().contains(&dir.display().to_string()), "{e}");
        assert!(s.describe().starts_with("share folder "));
    }

    #[test]
    fn invalid_names_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = ShareFolder::new(tmp.path().to_path_buf());
        for n in ["../x", "a/b", ""] {
            assert!(matches!(
                s.put(n, b"x").unwrap_err(),
                TransportError::InvalidName { .. }
            ));
        }
    }
}
