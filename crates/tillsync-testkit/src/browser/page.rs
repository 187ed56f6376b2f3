//! What a [`Browser`] does with the current page: navigation, its URL,
//! title, source and text, scripts, screenshots, cookies and dialogs.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::browser::driver::Browser;
use crate::browser::error::{BrowserError, Result};

/// A cookie as the browser holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
    /// Path, if any.
    pub path: Option<String>,
    /// HttpOnly flag.
    pub http_only: bool,
    /// Expiry (seconds since the epoch), absent for a session cookie.
    pub expiry: Option<u64>,
}

impl Browser {
    /// Open `url` and wait until the page has loaded.
    pub fn goto(&self, url: &str) -> Result<()> {
        self.post("/url", json!({ "url": url })).map(drop)
    }

    /// Reload the current page.
    pub fn refresh(&self) -> Result<()> {
        self.post("/refresh", json!({})).map(drop)
    }

    /// Go back one page in history.
    pub fn back(&self) -> Result<()> {
        self.post("/back", json!({})).map(drop)
    }

    /// The current page's URL.
    pub fn current_url(&self) -> Result<String> {
        Ok(self.get("/url")?.as_str().unwrap_or_default().to_string())
    }

    /// The current page's title.
    pub fn title(&self) -> Result<String> {
        Ok(self.get("/title")?.as_str().unwrap_or_default().to_string())
    }

    /// The current page's HTML.
    pub fn page_source(&self) -> Result<String> {
        Ok(self
            .get("/source")?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// The visible text of the whole page.
    pub fn page_text(&self) -> Result<String> {
        let v = self.execute(
            "return document.body ? document.body.innerText : '';",
            vec![],
        )?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Run `script` (a function body; `arguments[i]` are `args`) in the page.
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
    }

    /// Save a PNG of the viewport ([`VIEWPORT`](crate::browser::VIEWPORT)) to `path`.
    pub fn screenshot(&self, path: &Path) -> Result<()> {
        let v = self.get("/screenshot")?;
        self.write_png(&v, path)
    }

    /// Save a PNG of the whole page, beyond the window's height, to `path`.
    /// A capture that failed on the way (not an answer of chromedriver's)
    /// is tried again twice: taking a picture changes nothing in the page.
    pub fn screenshot_full_page(&self, path: &Path) -> Result<()> {
        let capture = || {
            self.post(
                "/goog/cdp/execute",
                json!({
                    "cmd": "Page.captureScreenshot",
                    "params": { "format": "png", "captureBeyondViewport": true },
                }),
            )
        };
        let mut tries = 0;
        let v = loop {
            match capture() {
                Err(BrowserError::Http { .. }) if tries < 2 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(500));
                }
                Err(e @ BrowserError::Http { .. }) => {
                    return Err(BrowserError::Driver(format!(
                        "{e}\n--- chromedriver log\n{}",
                        self.driver_log()
                    )));
                }
                other => break other?,
            }
        };
        self.write_png(&v["data"], path)
    }

    fn write_png(&self, b64: &Value, path: &Path) -> Result<()> {
        let png = base64_decode(b64.as_str().unwrap_or_default())
            .ok_or_else(|| BrowserError::Driver("screenshot is not base64".into()))?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| BrowserError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(path, png).map_err(|source| BrowserError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The cookies visible to the current page.
    pub fn cookies(&self) -> Result<Vec<Cookie>> {
        let v = self.get("/cookie")?;
        Ok(v.as_array()
            .map(|a| a.iter().map(cookie_from).collect())
            .unwrap_or_default())
    }

    /// The cookie `name`, if the current page sees it.
    pub fn cookie(&self, name: &str) -> Result<Option<Cookie>> {
        Ok(self.cookies()?.into_iter().find(|c| c.name == name))
    }

    /// Set a cookie for the current page's site (path `/`).
    pub fn add_cookie(&self, name: &str, value: &str) -> Result<()> {
        self.post(
            "/cookie",
            json!({ "cookie": { "name": name, "value": value, "path": "/" } }),
        )
        .map(drop)
    }

    /// Delete the cookie `name` (as an expired session would lose it).
    pub fn delete_cookie(&self, name: &str) -> Result<()> {
        self.cmd(reqwest::Method::DELETE, &format!("/cookie/{name}"), None)
            .map(drop)
    }

    /// Delete every cookie of the current site.
    pub fn delete_all_cookies(&self) -> Result<()> {
        self.cmd(reqwest::Method::DELETE, "/cookie", None).map(drop)
    }

    /// Accept a `confirm()`/`alert()` dialog; returns its text.
    pub fn accept_dialog(&self) -> Result<String> {
        let text = self.get("/alert/text")?;
        self.post("/alert/accept", json!({}))?;
        Ok(text.as_str().unwrap_or_default().to_string())
    }

    /// Dismiss a `confirm()` dialog; returns its text.
    pub fn dismiss_dialog(&self) -> Result<String> {
        let text = self.get("/alert/text")?;
        self.post("/alert/dismiss", json!({}))?;
        Ok(text.as_str().unwrap_or_default().to_string())
    }

    pub(super) fn page_excerpt(&self) -> String {
        let text = self.page_text().unwrap_or_else(|e| format!("({e})"));
        let mut s: String = text.chars().take(2000).collect();
        if s.len() < text.len() {
            s.push('…');
        }
        s
    }
}

fn cookie_from(v: &Value) -> Cookie {
    Cookie {
        name: v["name"].as_str().unwrap_or_default().to_string(),
        value: v["value"].as_str().unwrap_or_default().to_string(),
        path: v["path"].as_str().map(str::to_string),
        http_only: v["httpOnly"].as_bool().unwrap_or(false),
        expiry: v["expiry"].as_u64(),
    }
}

/// Standard base64 (with `=` padding) to bytes; `None` if malformed.
/// (Screenshots only; small enough not to pull in another crate version.)
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let s = s.trim_end_matches('=').as_bytes();
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c)? << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_padded_and_unpadded() {
        assert_eq!(base64_decode("iVBORw0KGgo=").unwrap(), b"\x89PNG\r\n\x1a\n");
        assert_eq!(base64_decode("TWFu").unwrap(), b"Man");
        assert_eq!(base64_decode("TWE=").unwrap(), b"Ma");
        assert_eq!(base64_decode("TQ==").unwrap(), b"M");
        assert_eq!(base64_decode("").unwrap(), b"");
        assert!(base64_decode("T").is_none());
        assert!(base64_decode("TW!u").is_none());
    }
    #[test]
    fn cookie_reads_webdriver_fields() {
        let c = cookie_from(&json!({
            "name": "sid", "value": "x", "path": "/", "httpOnly": true, "expiry": 10
        }));
        assert_eq!(c.name, "sid");
        assert!(c.http_only);
        assert_eq!(c.expiry, Some(10));
        assert_eq!(
            cookie_from(&json!({"name": "a", "value": "b"})).expiry,
            None
        );
    }
}
