//! A small W3C WebDriver client that drives headless Chromium through
//! `chromedriver`, for tests of the web pages (admin pages, cashier page).
//!
//! [`Browser::start`] starts `chromedriver` on a free loopback port, waits
//! until it answers `/status`, and opens a session with headless Chromium in
//! a fresh profile inside the test's temp folder. Dropping the [`Browser`]
//! closes the session and stops `chromedriver`.
//!
//! Chromium and chromedriver come from Debian's `chromium` and
//! `chromium-driver` packages (`.ci/run` installs them). When they are missing,
//! [`for_test`] prints a notice and the test skips, unless
//! `TILLSYNC_REQUIRE_BROWSER=1` is set: then the test fails.
//! `TILLSYNC_CHROMIUM` and `TILLSYNC_CHROMEDRIVER` name other binaries.
//!
//! # Example
//! ```no_run
//! let dir = tempfile::tempdir().unwrap();
//! let Some(browser) = tillsync_testkit::browser::for_test("example", dir.path()) else {
//!     return; // skipped: Chromium is not installed
//! };
//! browser.goto("http://127.0.0.1:8080/admin/login").unwrap();
//! browser.find("#password").unwrap().type_text("secret").unwrap();
//! browser.find("button[type=submit]").unwrap().click().unwrap();
//! browser.wait_for("nav", std::time::Duration::from_secs(10)).unwrap();
//! ```
//!
//! # Layout
//! - `driver`: the chromedriver process and session ([`Browser::start`],
//!   [`for_test`], one WebDriver command, stop).
//! - `page`: navigation, page text, scripts, screenshots, cookies, dialogs.
//! - `element`: finding elements and the [`Element`] helpers.
//! - `wait`: polling waits ([`Browser::wait_for`], [`Browser::wait_until`]…).
//! - `error`: [`BrowserError`].

mod driver;
mod element;
mod error;
mod page;
mod wait;

// For the tests of other crates (`tillsync_testkit::browser::Browser`…).
pub use driver::{
    Browser, CHROMIUM_FLAGS, VIEWPORT, browser_available, browser_required, for_test,
};
pub use element::Element;
pub use error::{BrowserError, Result};
pub use page::Cookie;
