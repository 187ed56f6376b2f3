//! The embedded server's one account: [`SingleUser`], libunftp's
//! authenticator, comparing user name and password in constant time.

use std::fmt;
use tillsync_core::secret::constant_time_eq;

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
