//! [`BrowserError`] and [`Result`]: what went wrong while driving the
//! browser, with messages that say what was not found and where.

use std::fmt;
use std::path::PathBuf;

/// What went wrong while driving the browser. `Debug` prints the message,
/// so a test's `unwrap()` says what was not found and where.
#[derive(thiserror::Error)]
pub enum BrowserError {
    /// Chromium or chromedriver is not installed.
    #[error("{0} not found (install Debian's chromium and chromium-driver, or set {1})")]
    Missing(&'static str, &'static str),
    /// chromedriver did not start or the session could not be created.
    #[error("chromedriver: {0}")]
    Driver(String),
    /// No element matches a CSS selector.
    #[error("no element matches {css:?} on {url}\n--- page text\n{page}")]
    NotFound {
        /// The selector.
        css: String,
        /// The page's URL.
        url: String,
        /// The start of the page's visible text.
        page: String,
    },
    /// A `<select>` has no option with the value asked for.
    #[error("{select:?} has no option with value {value:?} on {url} (options: {options:?})")]
    NoOption {
        /// The select's selector.
        select: String,
        /// The value asked for.
        value: String,
        /// The page's URL.
        url: String,
        /// The values it has.
        options: Vec<String>,
    },
    /// A wait ran out.
    #[error("gave up after {secs:.1} s waiting for {what} on {url}\n--- page text\n{page}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// The page's URL.
        url: String,
        /// Seconds waited.
        secs: f64,
        /// The start of the page's visible text.
        page: String,
    },
    /// A WebDriver command answered with an error.
    #[error("WebDriver {command}: {error}: {message}")]
    WebDriver {
        /// The command (method and path).
        command: String,
        /// The WebDriver error code (`no such element`, …).
        error: String,
        /// chromedriver's message (first line).
        message: String,
    },
    /// The HTTP exchange with chromedriver failed.
    #[error("HTTP to chromedriver ({command}): {}", chain(source))]
    Http {
        /// The command (method and path).
        command: String,
        /// The cause.
        source: reqwest::Error,
    },
    /// Reading or writing a file (a screenshot) failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl fmt::Debug for BrowserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Result of a browser operation.
pub type Result<T> = std::result::Result<T, BrowserError>;

/// An error and its causes, "a: b: c" ("error sending request for url
/// (…): connection closed before message completed").
pub(super) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cause = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_debug_as_their_message() {
        let e = BrowserError::NotFound {
            css: "#login".into(),
            url: "http://127.0.0.1:1/admin".into(),
            page: "Sign in".into(),
        };
        let d = format!("{e:?}");
        assert!(d.starts_with("no element matches \"#login\" on http://127.0.0.1:1/admin"));
        assert!(d.contains("Sign in"));
    }
}
