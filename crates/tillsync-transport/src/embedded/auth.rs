//! The embedded server's one account: [`SingleUser`], libunftp's
//! authenticator, comparing user name and password in constant time.

use std::fmt;

use async_trait::async_trait;
use unftp_core::auth::{AuthenticationError, Authenticator, Credentials, Principal};

/// The one account of the embedded server.
pub(super) struct SingleUser {
    pub(super) user: String,
    pub(super) password: String,
}

impl fmt::Debug for SingleUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SingleUser")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Compares without an early exit, so the time taken does not tell how many
/// leading bytes were right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0);
    }
    std::hint::black_box(diff) == 0
}

#[async_trait]
impl Authenticator for SingleUser {
    async fn authenticate(
        &self,
        username: &str,
        creds: &Credentials,
    ) -> Result<Principal, AuthenticationError> {
        let password = creds.password.as_deref().unwrap_or("");
        let user_ok = constant_time_eq(username.as_bytes(), self.user.as_bytes());
        let password_ok = constant_time_eq(password.as_bytes(), self.password.as_bytes());
        if user_ok & password_ok {
            Ok(Principal {
                username: username.to_string(),
            })
        } else {
            tracing::info!(user = username, source = %creds.source_ip, "embedded FTP: login refused");
            Err(if user_ok {
                AuthenticationError::BadPassword
            } else {
                AuthenticationError::BadUser
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_works() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
        assert!(constant_time_eq(b"", b""));
    }

    #[tokio::test]
    async fn authenticator_accepts_only_the_user() {
        let u = SingleUser {
            user: "till".into(),
            password: "pw".into(),
        };
        assert!(
            u.authenticate("till", &Credentials::from("pw"))
                .await
                .is_ok()
        );
        assert!(
            u.authenticate("till", &Credentials::from("px"))
                .await
                .is_err()
        );
        assert!(
            u.authenticate("tilx", &Credentials::from("pw"))
                .await
                .is_err()
        );
        assert!(
            u.authenticate("anonymous", &Credentials::from(""))
                .await
                .is_err()
        );
    }
}
