//! Waits of a [`Browser`]: polling until an element appears, goes away,
//! shows a text, or a condition holds (an element gone stale counts as
//! "not yet").

use std::time::{Duration, Instant};

use crate::browser::driver::{Browser, POLL};
use crate::browser::element::Element;
use crate::browser::error::{BrowserError, Result};

/// The WebDriver error code of an element no longer in the page.
const STALE: &str = "stale element reference";

impl Browser {
    /// Wait (polling) until an element matches `css`, then return it.
    pub fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element<'_>> {
        let start = Instant::now();
        loop {
            if let Some(e) = self.try_find(css)? {
                return Ok(e);
            }
            if start.elapsed() >= timeout {
                return Err(self.timeout(format!("an element matching {css:?}"), start));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Wait (polling) until no element matches `css`.
    pub fn wait_gone(&self, css: &str, timeout: Duration) -> Result<()> {
        self.wait_until(&format!("no element matching {css:?}"), timeout, |b| {
            Ok(b.try_find(css)?.is_none())
        })
    }

    /// Wait (polling) until the text of the first element matching `css`
    /// contains `needle`; returns that text.
    pub fn wait_for_text(&self, css: &str, needle: &str, timeout: Duration) -> Result<String> {
        let mut seen = String::new();
        let what = format!("{css:?} to contain {needle:?}");
        let r = self.wait_until(&what, timeout, |b| {
            // The element may be replaced while we read it: look again.
            seen = match b.try_find(css)? {
                Some(e) => e.text().unwrap_or_default(),
                None => String::new(),
            };
            Ok(seen.contains(needle))
        });
        match r {
            Ok(()) => Ok(seen),
            Err(BrowserError::Timeout {
                what,
                url,
                secs,
                page,
            }) => Err(BrowserError::Timeout {
                what: format!("{what} (last text: {seen:?})"),
                url,
                secs,
                page,
            }),
            Err(e) => Err(e),
        }
    }

    /// Wait (polling) until `cond` holds; `what` names it in the error. An
    /// element gone stale while `cond` read it counts as "not yet".
    pub fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        mut cond: impl FnMut(&Browser) -> Result<bool>,
    ) -> Result<()> {
        let start = Instant::now();
        loop {
            match cond(self) {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                // The page replaced an element between finding it and
                // reading it (a status refreshed by the page's script):
                // the condition is not met yet; look again.
                Err(BrowserError::WebDriver { error, .. }) if error == STALE => {}
                Err(e) => return Err(e),
            }
            if start.elapsed() >= timeout {
                return Err(self.timeout(what.to_string(), start));
            }
            std::thread::sleep(POLL);
        }
    }

    fn timeout(&self, what: String, start: Instant) -> BrowserError {
        BrowserError::Timeout {
            what,
            url: self.current_url().unwrap_or_default(),
            secs: start.elapsed().as_secs_f64(),
            page: self.page_excerpt(),
        }
    }
}
