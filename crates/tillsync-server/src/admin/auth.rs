//! Admin authentication: the administrator's password (argon2 PHC string in
//! `DIR/admin-password`), signed session cookies (HMAC-SHA256 with the key
//! `DIR/admin-session.key`), CSRF tokens derived from the session, and the
//! lockout that slows down repeated wrong passwords.
//!
//! Sessions are stateless on the server: any `server run` process serving
//! the same data folder accepts a cookie another one issued. The expiry is
//! inside the signed value and checked on every request. The signature also
//! covers a digest of the password hash, so setting a new password ends
//! every session.

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::error::ServerError;

/// File of the administrator's password hash (argon2id PHC string), mode 0600.
pub const PASSWORD_FILE: &str = "admin-password";

/// File of the key that signs session cookies (64 hex digits), mode 0600.
pub const SESSION_KEY_FILE: &str = "admin-session.key";

/// The session cookie.
pub const SESSION_COOKIE: &str = "tillsync_admin";

/// The cookie that carries the CSRF nonce of the login form (before a session exists).
pub const LOGIN_COOKIE: &str = "tillsync_admin_login";

/// How long a session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);

/// Shortest accepted password.
pub const MIN_PASSWORD_LEN: usize = 8;

/// Wrong passwords in a row before the login locks.
pub const FREE_FAILURES: u32 = 5;

/// First lockout; each further wrong password doubles it, up to [`MAX_LOCK`].
pub const FIRST_LOCK: Duration = Duration::from_secs(30);

/// Longest lockout.
pub const MAX_LOCK: Duration = Duration::from_secs(15 * 60);

type HmacSha256 = Hmac<Sha256>;

/// Set the administrator's password: argon2id with a random salt, written
/// atomically with mode 0600. The password itself is never stored.
pub fn set_password(dir: &Path, password: &str) -> Result<(), ServerError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(ServerError::Invalid(format!(
            "the admin password must have at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    if password.trim() != password || password.chars().any(char::is_control) {
        return Err(ServerError::Invalid(
            "the admin password must not start or end with spaces nor hold control characters"
                .into(),
        ));
    }
    let salt = SaltString::generate(&mut OsRng);
    let phc = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| ServerError::Invalid(format!("cannot hash the password: {e}")))?
        .to_string();
    write_private(&dir.join(PASSWORD_FILE), format!("{phc}\n").as_bytes())
}

/// The stored password hash, `None` when no password was set yet.
pub fn password_hash(dir: &Path) -> Result<Option<String>, ServerError> {
    let path = dir.join(PASSWORD_FILE);
    match std::fs::read_to_string(&path) {
        Ok(s) => Ok(Some(s.trim().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ServerError::io("cannot read", &path, e)),
    }
}

/// Whether `password` matches the stored hash `phc`.
pub fn verify_password(phc: &str, password: &str) -> Result<bool, ServerError> {
    let parsed = PasswordHash::new(phc).map_err(|e| {
        ServerError::Invalid(format!(
            "{PASSWORD_FILE} does not hold a valid password hash ({e}); set the password again"
        ))
    })?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

/// The session signing key; created (random, mode 0600) when missing. Two
/// processes creating it at once agree: the file is created exclusively and
/// the loser reads the winner's key.
pub fn session_key(dir: &Path) -> Result<[u8; 32], ServerError> {
    let path = dir.join(SESSION_KEY_FILE);
    let read = |path: &Path| -> Result<[u8; 32], ServerError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| ServerError::io("cannot read", path, e))?;
        let bytes = hex::decode(text.trim()).ok().filter(|b| b.len() == 32);
        bytes
            .map(|b| b.try_into().expect("32 bytes"))
            .ok_or_else(|| {
                ServerError::Invalid(format!(
                    "{} is not a session key (64 hex digits); delete it to make a new one (everyone will have to log in again)",
                    path.display()
                ))
            })
    };
    if path.exists() {
        return read(&path);
    }
    let mut key = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
    {
        Ok(mut f) => {
            f.write_all(hex::encode(key).as_bytes())
                .and_then(|_| f.sync_all())
                .map_err(|e| ServerError::io("cannot write", &path, e))?;
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // Another process won the race; give it a moment to finish writing.
            for _ in 0..20 {
                if let Ok(k) = read(&path) {
                    return Ok(k);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            read(&path)
        }
        Err(e) => Err(ServerError::io("cannot create", &path, e)),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ServerError> {
    tillsync_core::fsio::write_atomic_private(path, bytes)
        .map_err(|e| ServerError::io("cannot write", path, e))
}

fn mac_hex(key: &[u8; 32], parts: &[&str]) -> String {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p.as_bytes());
        mac.update(b"\x1f");
    }
    hex::encode(mac.finalize().into_bytes())
}

fn eq_ct(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A short digest of the password hash: sessions signed under another
/// password are refused.
fn password_tag(phc: &str) -> String {
    hex::encode(&Sha256::digest(phc.as_bytes())[..8])
}

fn random_nonce() -> String {
    let mut n = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut n);
    hex::encode(n)
}

/// A valid admin session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The administrator's user name.
    pub user: String,
    /// When the session ends (Unix seconds).
    pub expires: i64,
    nonce: String,
}

/// Why a session cookie was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRefusal {
    /// No cookie.
    Missing,
    /// The cookie is malformed, forged, or signed under another key or password.
    Invalid,
    /// The session is over.
    Expired,
}

/// The value of a session cookie for `user`, valid from `now` (Unix
/// seconds) for `ttl`. `phc` is the current password hash.
pub fn issue_session(key: &[u8; 32], phc: &str, user: &str, now: i64, ttl: Duration) -> String {
    let user_hex = hex::encode(user.as_bytes());
    let expires = (now + ttl.as_secs() as i64).to_string();
    let nonce = random_nonce();
    let tag = password_tag(phc);
    let mac = mac_hex(key, &["session", &user_hex, &expires, &nonce, &tag]);
    format!("v1.{user_hex}.{expires}.{nonce}.{mac}")
}

/// Check a session cookie value at `now` (Unix seconds).
pub fn check_session(
    key: &[u8; 32],
    phc: &str,
    value: Option<&str>,
    now: i64,
) -> Result<Session, SessionRefusal> {
    let value = value.ok_or(SessionRefusal::Missing)?;
    let parts: Vec<&str> = value.split('.').collect();
    let [v, user_hex, expires, nonce, mac] = parts[..] else {
        return Err(SessionRefusal::Invalid);
    };
    if v != "v1" {
        return Err(SessionRefusal::Invalid);
    }
    let tag = password_tag(phc);
    let want = mac_hex(key, &["session", user_hex, expires, nonce, &tag]);
    if !eq_ct(&want, mac) {
        return Err(SessionRefusal::Invalid);
    }
    let expires: i64 = expires.parse().map_err(|_| SessionRefusal::Invalid)?;
    if now >= expires {
        return Err(SessionRefusal::Expired);
    }
    let user = hex::decode(user_hex)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or(SessionRefusal::Invalid)?;
    Ok(Session {
        user,
        expires,
        nonce: nonce.to_string(),
    })
}

impl Session {
    /// The CSRF token every form of this session carries.
    pub fn csrf_token(&self, key: &[u8; 32]) -> String {
        mac_hex(key, &["csrf", &self.nonce])
    }

    /// Whether `token` is this session's CSRF token.
    pub fn csrf_ok(&self, key: &[u8; 32], token: Option<&str>) -> bool {
        token.is_some_and(|t| eq_ct(&self.csrf_token(key), t))
    }
}

/// The login form's cookie value: a random nonce, signed.
pub fn issue_login_nonce(key: &[u8; 32]) -> String {
    let nonce = random_nonce();
    let mac = mac_hex(key, &["login", &nonce]);
    format!("{nonce}.{mac}")
}

/// The CSRF token of the login form for the login cookie `cookie`, if the
/// cookie is genuine.
pub fn login_csrf_token(key: &[u8; 32], cookie: &str) -> Option<String> {
    let (nonce, mac) = cookie.split_once('.')?;
    if !eq_ct(&mac_hex(key, &["login", nonce]), mac) {
        return None;
    }
    Some(mac_hex(key, &["login-csrf", nonce]))
}

/// Whether the login form's token matches its cookie.
pub fn login_csrf_ok(key: &[u8; 32], cookie: Option<&str>, token: Option<&str>) -> bool {
    match (cookie.and_then(|c| login_csrf_token(key, c)), token) {
        (Some(want), Some(got)) => eq_ct(&want, got),
        _ => false,
    }
}

/// Slows down repeated wrong passwords: after [`FREE_FAILURES`] in a row,
/// every attempt (right or wrong) is refused until the lock ends; each
/// further wrong password doubles the lock, up to [`MAX_LOCK`]. A right
/// password outside a lock clears the count. Kept per user name and per
/// process (each `server run` process counts its own).
#[derive(Debug, Default)]
pub struct Throttle {
    state: Mutex<HashMap<String, (u32, Option<Instant>)>>,
}

impl Throttle {
    /// `Err(wait)` while `user` is locked at `now`.
    pub fn check(&self, user: &str, now: Instant) -> Result<(), Duration> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match state.get(user) {
            Some((_, Some(until))) if *until > now => Err(*until - now),
            _ => Ok(()),
        }
    }

    /// Record a wrong password for `user` at `now`; returns the lock it
    /// starts, if any.
    pub fn failed(&self, user: &str, now: Instant) -> Option<Duration> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let entry = state.entry(user.to_string()).or_insert((0, None));
        entry.0 = entry.0.saturating_add(1);
        if entry.0 < FREE_FAILURES {
            return None;
        }
        let doublings = (entry.0 - FREE_FAILURES).min(10);
        let lock = (FIRST_LOCK * 2u32.pow(doublings)).min(MAX_LOCK);
        entry.1 = Some(now + lock);
        Some(lock)
    }

    /// A right password: clear the count.
    pub fn succeeded(&self, user: &str) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.remove(user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn password_hash_round_trip_and_file_mode() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(password_hash(dir.path()).unwrap(), None);
        assert!(set_password(dir.path(), "short").is_err());
        set_password(dir.path(), "correct horse").unwrap();
        let phc = password_hash(dir.path()).unwrap().unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(!phc.contains("correct horse"));
        assert!(verify_password(&phc, "correct horse").unwrap());
        assert!(!verify_password(&phc, "correct horsE").unwrap());
        let mode = std::fs::metadata(dir.path().join(PASSWORD_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn session_key_is_created_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let a = session_key(dir.path()).unwrap();
        let b = session_key(dir.path()).unwrap();
        assert_eq!(a, b);
        std::fs::write(dir.path().join(SESSION_KEY_FILE), "nope").unwrap();
        assert!(session_key(dir.path()).is_err());
    }

    #[test]
    fn sessions_expire_and_resist_forgery() {
        let now = 1_800_000_000;
        let c = issue_session(&KEY, "phc1", "admin", now, SESSION_TTL);
        let s = check_session(&KEY, "phc1", Some(&c), now + 10).unwrap();
        assert_eq!(s.user, "admin");
        let ttl = SESSION_TTL.as_secs() as i64;
        assert_eq!(
            check_session(&KEY, "phc1", Some(&c), now + ttl),
            Err(SessionRefusal::Expired)
        );
        assert_eq!(
            check_session(&KEY, "phc1", None, now),
            Err(SessionRefusal::Missing)
        );
        // Another key, another password, or a changed expiry: refused.
        assert_eq!(
            check_session(&[8; 32], "phc1", Some(&c), now),
            Err(SessionRefusal::Invalid)
        );
        assert_eq!(
            check_session(&KEY, "phc2", Some(&c), now),
            Err(SessionRefusal::Invalid)
        );
        let mut parts: Vec<String> = c.split('.').map(String::from).collect();
        parts[2] = (now + 10 * ttl).to_string();
        assert_eq!(
            check_session(&KEY, "phc1", Some(&parts.join(".")), now),
            Err(SessionRefusal::Invalid)
        );
    }

    #[test]
    fn csrf_tokens_belong_to_their_session() {
        let now = 1_800_000_000;
        let a = check_session(
            &KEY,
            "p",
            Some(&issue_session(&KEY, "p", "admin", now, SESSION_TTL)),
            now,
        )
        .unwrap();
        let b = check_session(
            &KEY,
            "p",
            Some(&issue_session(&KEY, "p", "admin", now, SESSION_TTL)),
            now,
        )
        .unwrap();
        let ta = a.csrf_token(&KEY);
        assert!(a.csrf_ok(&KEY, Some(&ta)));
        assert!(!b.csrf_ok(&KEY, Some(&ta)));
        assert!(!a.csrf_ok(&KEY, None));
        assert!(!a.csrf_ok(&KEY, Some("")));
        let cookie = issue_login_nonce(&KEY);
        let t = login_csrf_token(&KEY, &cookie).unwrap();
        assert!(login_csrf_ok(&KEY, Some(&cookie), Some(&t)));
        assert!(!login_csrf_ok(&KEY, None, Some(&t)));
        assert!(!login_csrf_ok(&KEY, Some(&cookie), None));
        assert!(login_csrf_token(&KEY, "abc.def").is_none());
    }

    #[test]
    fn throttle_locks_after_repeated_failures_and_doubles() {
        let t = Throttle::default();
        let now = Instant::now();
        for _ in 1..FREE_FAILURES {
            assert_eq!(t.failed("admin", now), None);
            assert!(t.check("admin", now).is_ok());
        }
        assert_eq!(t.failed("admin", now), Some(FIRST_LOCK));
        assert_eq!(t.check("admin", now), Err(FIRST_LOCK));
        assert!(t.check("other", now).is_ok());
        assert!(t.check("admin", now + FIRST_LOCK).is_ok());
        let later = now + FIRST_LOCK;
        assert_eq!(t.failed("admin", later), Some(FIRST_LOCK * 2));
        for _ in 0..20 {
            t.failed("admin", later);
        }
        assert_eq!(t.check("admin", later), Err(MAX_LOCK));
        t.succeeded("admin");
        assert!(t.check("admin", later).is_ok());
    }
}
