//! Browser sessions of the cashier page: a random token in an HttpOnly,
//! SameSite=Strict cookie, repeated in every form as the CSRF field (a page
//! of another site can neither read the cookie nor send it); the ticket
//! being built (cart), the message to show after a redirect and the
//! cashier logged in, per token.

use std::collections::HashMap;
use std::time::Instant;

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

/// Name of the session cookie.
pub(crate) const COOKIE_NAME: &str = "tillsync_cashier";
/// Name of the CSRF form field.
pub(crate) const CSRF_FIELD: &str = "csrf";
/// Sessions kept in memory; the least recently used goes beyond.
const MAX_SESSIONS: usize = 256;

/// One line of the ticket being built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CartLine {
    /// Item code (`ART.code`).
    pub code: String,
    /// Quantity (> 0).
    pub quantity: i64,
}

/// A message shown once, after a redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Flash {
    /// Success (`.flash-ok`) or failure (`.error`).
    pub ok: bool,
    /// The text.
    pub text: String,
}

/// The cashier logged in on a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LoggedIn {
    /// Cashier code (`CASHIER.code`).
    pub code: String,
    /// Name.
    pub name: String,
}

/// What one browser session holds.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The ticket being built.
    pub cart: Vec<CartLine>,
    /// The message to show on the next page.
    pub flash: Option<Flash>,
    /// The number of the last ticket paid from this session, and when.
    pub last_sale: Option<(u64, Instant)>,
    /// The cashier logged in (PIN checked), when the till has cashiers.
    pub cashier: Option<LoggedIn>,
    used: Instant,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            cart: Vec::new(),
            flash: None,
            last_sale: None,
            cashier: None,
            used: Instant::now(),
        }
    }
}

impl Session {
    /// Remove the line of `code`, if there is one.
    pub fn remove(&mut self, code: &str) {
        self.cart.retain(|l| l.code != code);
    }

    /// Add `quantity` of `code`: on the line of the same item if there is one.
    pub fn add(&mut self, code: &str, quantity: i64) {
        match self.cart.iter_mut().find(|l| l.code == code) {
            Some(l) => l.quantity = l.quantity.saturating_add(quantity),
            None => self.cart.push(CartLine {
                code: code.to_string(),
                quantity,
            }),
        }
    }
}

/// The sessions, by token.
#[derive(Default)]
pub(crate) struct Sessions {
    map: HashMap<String, Session>,
}

impl Sessions {
    /// The session of `token` (a new empty one if unknown).
    pub fn get(&mut self, token: &str) -> &mut Session {
        if !self.map.contains_key(token) && self.map.len() >= MAX_SESSIONS {
            let oldest = self
                .map
                .iter()
                .min_by_key(|(_, s)| s.used)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.map.remove(&k);
            }
        }
        let s = self.map.entry(token.to_string()).or_default();
        s.used = Instant::now();
        s
    }
}

/// A new random token (128 bits, hex).
pub(crate) fn new_token() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

fn well_formed(t: &str) -> bool {
    t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The session token of the request's cookie, if well formed.
pub(crate) fn token_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, v)| *k == COOKIE_NAME && well_formed(v))
        .map(|(_, v)| v.to_string())
}

/// The `Set-Cookie` value for `token`.
pub(crate) fn set_cookie(token: &str) -> String {
    format!("{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict")
}

/// True when the form's CSRF field equals the cookie's token.
pub(crate) fn csrf_ok(cookie: Option<&str>, field: Option<&str>) -> bool {
    match (cookie, field) {
        (Some(c), Some(f)) if well_formed(c) && c.len() == f.len() => {
            // Same time whatever the first differing byte.
            c.bytes()
                .zip(f.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookie_and_csrf() {
        let t = new_token();
        assert!(well_formed(&t));
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_str(&format!("a=b; {COOKIE_NAME}={t}; c=d")).unwrap(),
        );
        assert_eq!(token_of(&h).as_deref(), Some(t.as_str()));
        h.insert(
            COOKIE,
            HeaderValue::from_str(&format!("{COOKIE_NAME}=nothex")).unwrap(),
        );
        assert_eq!(token_of(&h), None);
        assert!(csrf_ok(Some(&t), Some(&t)));
        assert!(!csrf_ok(Some(&t), Some(&new_token())));
        assert!(!csrf_ok(Some(&t), None));
        assert!(!csrf_ok(None, Some(&t)));
        assert!(!csrf_ok(Some(""), Some("")));
    }

    #[test]
    fn carts_merge_lines_and_sessions_are_bounded() {
        let mut s = Sessions::default();
        s.get("a").add("X", 1);
        s.get("a").add("X", 2);
        s.get("a").add("Y", 1);
        assert_eq!(
            s.get("a").cart,
            [
                CartLine {
                    code: "X".into(),
                    quantity: 3
                },
                CartLine {
                    code: "Y".into(),
                    quantity: 1
                }
            ]
        );
        for i in 0..(MAX_SESSIONS + 10) {
            s.get(&format!("t{i}"));
        }
        assert_eq!(s.map.len(), MAX_SESSIONS);
    }
}
