//! The server's Ed25519 package-signing key: key file creation and loading
//! (mode 0600, hex, one line), and public keys as hex.
//!
//! Secrets never appear in errors or `Debug` output.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use ed25519_dalek::{SigningKey, VerifyingKey};
use rand::rngs::OsRng;

use crate::fsio;

/// Why a key could not be created, loaded or parsed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// `generate_signing_key` found a file already there.
    #[error(
        "key file {} already exists; refusing to overwrite it (tills trust the key it holds)",
        path.display()
    )]
    Exists {
        /// The existing file.
        path: PathBuf,
    },
    /// The key file does not exist.
    #[error("key file {} does not exist", path.display())]
    NotFound {
        /// The missing file.
        path: PathBuf,
    },
    /// A system error while creating, writing or reading the key file.
    #[error("cannot {action} key file {}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done: "create", "write", "read".
        action: &'static str,
        /// The system error.
        error: io::Error,
    },
    /// The key file can be read by group or others.
    #[error(
        "key file {} is accessible to other users (mode {mode:03o}); run `chmod 600 {}` and try again",
        path.display(),
        path.display()
    )]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The key file does not hold a key (its content is not repeated).
    #[error("key file {} does not hold a signing key: {reason}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A public key given as hex is refused.
    #[error("invalid public key {value:?}: {reason}")]
    PublicKey {
        /// The hex given.
        value: String,
        /// What is wrong.
        reason: String,
    },
}

/// Creates a new signing key with the OS random generator and writes its
/// 32-byte secret as hex (one line) to `path`, created with mode 0600.
/// An existing file is never overwritten.
pub fn generate_signing_key(path: &Path) -> Result<SigningKey, KeyError> {
    let key = SigningKey::generate(&mut OsRng);
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(path).map_err(|error| {
        if error.kind() == io::ErrorKind::AlreadyExists {
            KeyError::Exists {
                path: path.to_path_buf(),
            }
        } else {
            KeyError::Io {
                path: path.to_path_buf(),
                action: "create",
                error,
            }
        }
    })?;
    let mut secret = key.to_bytes();
    let mut line = hex::encode(secret).into_bytes();
    line.push(b'\n');
    let written = file
        .write_all(&line)
        .and_then(|()| file.sync_all())
        .and_then(|()| fsio::sync_parent(path));
    wipe(&mut line);
    wipe(&mut secret);
    if let Err(error) = written {
        drop(file);
        let _ = fs::remove_file(path);
        return Err(KeyError::Io {
            path: path.to_path_buf(),
            action: "write",
            error,
        });
    }
    Ok(key)
}

/// Loads the signing key written by [`generate_signing_key`]. A file that
/// group or others may access (`mode & 0o077 != 0`) is refused.
pub fn load_signing_key(path: &Path) -> Result<SigningKey, KeyError> {
    let io_err = |error: io::Error| {
        if error.kind() == io::ErrorKind::NotFound {
            KeyError::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            KeyError::Io {
                path: path.to_path_buf(),
                action: "read",
                error,
            }
        }
    };
    let meta = fs::metadata(path).map_err(io_err)?;
    if !meta.is_file() {
        return Err(KeyError::Format {
            path: path.to_path_buf(),
            reason: "it is not a regular file".to_string(),
        });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Permissions {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    let mut content = fs::read(path).map_err(io_err)?;
    let parsed = parse_secret_hex(&content);
    wipe(&mut content);
    let mut secret = parsed.map_err(|reason| KeyError::Format {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    })?;
    let key = SigningKey::from_bytes(&secret);
    wipe(&mut secret);
    Ok(key)
}

fn parse_secret_hex(content: &[u8]) -> Result<[u8; 32], &'static str> {
    let text = content.trim_ascii();
    if text.len() != 64 {
        return Err("expected one line of 64 hexadecimal characters");
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out)
        .map_err(|_| "expected one line of 64 hexadecimal characters (0-9, a-f)")?;
    Ok(out)
}

/// Best-effort overwrite of secret bytes before they are dropped.
fn wipe(buf: &mut [u8]) {
    buf.fill(0);
    std::hint::black_box(buf);
}

/// The verifying (public) key of `key`, as 64 lowercase hex characters.
pub fn public_key_hex(key: &SigningKey) -> String {
    hex::encode(key.verifying_key().to_bytes())
}

/// Parses a public key written by [`public_key_hex`] (64 hex characters,
/// surrounding blanks ignored). Invalid or weak (small-order) keys are refused.
pub fn parse_verifying_key(hex_key: &str) -> Result<VerifyingKey, KeyError> {
    let err = |reason: &str| KeyError::PublicKey {
        value: hex_key.to_string(),
        reason: reason.to_string(),
    };
    let text = hex_key.trim();
    if text.len() != 64 {
        return Err(err(&format!(
            "expected 64 hexadecimal characters, got {}",
            text.chars().count()
        )));
    }
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text, &mut bytes)
        .map_err(|_| err("expected only hexadecimal characters (0-9, a-f)"))?;
    let key = VerifyingKey::from_bytes(&bytes)
        .map_err(|_| err("these bytes are not an Ed25519 public key"))?;
    if key.is_weak() {
        return Err(err("this is a weak (small-order) Ed25519 key"));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(unix)]
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn generate_load_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signing.key");
        let key = generate_signing_key(&path).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.len(), 65);
        assert!(text.ends_with('\n'));
        let loaded = load_signing_key(&path).unwrap();
        assert_eq!(loaded.to_bytes(), key.to_bytes());
        let hex = public_key_hex(&key);
        assert_eq!(hex.len(), 64);
        assert_eq!(parse_verifying_key(&hex).unwrap(), key.verifying_key());
    }

    #[cfg(unix)]
    #[test]
    fn key_file_mode_is_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        generate_signing_key(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let key = generate_signing_key(&path).unwrap();
        let e = generate_signing_key(&path).unwrap_err();
        assert!(matches!(e, KeyError::Exists { .. }), "{e}");
        assert!(e.to_string().contains("already exists"));
        assert_eq!(load_signing_key(&path).unwrap().to_bytes(), key.to_bytes());
    }

    #[cfg(unix)]
    #[test]
    fn refuses_0644() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        generate_signing_key(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let e = load_signing_key(&path).unwrap_err();
        assert!(
            matches!(e, KeyError::Permissions { mode: 0o644, .. }),
            "{e}"
        );
        let msg = e.to_string();
        assert!(msg.contains("chmod 600") && msg.contains("644"), "{msg}");
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        assert!(load_signing_key(&path).is_err());
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
        assert!(load_signing_key(&path).is_ok());
    }

    #[test]
    fn bad_key_files_do_not_echo_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let e = load_signing_key(&path).unwrap_err();
        assert!(matches!(e, KeyError::NotFound { .. }), "{e}");
        for content in ["zz".repeat(32), "abcd".into(), String::new()] {
            let _ = fs::remove_file(&path);
            fs::write(&path, &content).unwrap();
            #[cfg(unix)]
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
            let e = load_signing_key(&path).unwrap_err().to_string();
            assert!(e.contains("64 hexadecimal"), "{e}");
            if !content.is_empty() {
                assert!(!e.contains(&content), "{e}");
            }
        }
    }

    #[test]
    fn debug_does_not_show_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let key = generate_signing_key(&path).unwrap();
        let secret_hex = hex::encode(key.to_bytes());
        let d = format!("{key:?}");
        assert!(!d.contains(&secret_hex));
        assert!(!d.contains(&format!("{:?}", key.to_bytes())));
    }

    #[test]
    fn public_key_refusals() {
        for (input, needle) in [
            ("abc", "64 hexadecimal"),
            (&"g".repeat(64), "hexadecimal"),
            (&"00".repeat(32), "weak"),
        ] {
            let e = parse_verifying_key(input).unwrap_err().to_string();
            assert!(e.contains(needle) && e.contains(input), "{input}: {e}");
        }
    }
}
