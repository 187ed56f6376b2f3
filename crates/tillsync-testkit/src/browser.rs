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

use std::fmt;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The key under which WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The Chromium flags for a machine without outside network (see STACK.md).
pub const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1366,768",
    "--hide-scrollbars",
];

/// The page's viewport, in CSS pixels (a 1366×768 screen).
pub const VIEWPORT: (u32, u32) = (1366, 768);

/// How long polling waits between two looks.
const POLL: Duration = Duration::from_millis(50);
/// The WebDriver error code of an element no longer in the page.
const STALE: &str = "stale element reference";

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

/// An executable: `env` if set, else the first of `names` on `PATH`.
fn find_program(env: &str, names: &[&str]) -> Option<PathBuf> {
    locate(std::env::var_os(env), std::env::var_os("PATH"), names)
}

/// `named` if given (and a file), else the first of `names` in `path`.
fn locate(
    named: Option<std::ffi::OsString>,
    path: Option<std::ffi::OsString>,
    names: &[&str],
) -> Option<PathBuf> {
    if let Some(p) = named.filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let path = path?;
    names.iter().find_map(|n| {
        std::env::split_paths(&path)
            .map(|d| d.join(n))
            .find(|p| p.is_file())
    })
}

fn chromedriver_path() -> Result<PathBuf> {
    find_program("TILLSYNC_CHROMEDRIVER", &["chromedriver"]).ok_or(BrowserError::Missing(
        "chromedriver",
        "TILLSYNC_CHROMEDRIVER",
    ))
}

fn chromium_path() -> Result<PathBuf> {
    find_program(
        "TILLSYNC_CHROMIUM",
        &["chromium", "chromium-browser", "google-chrome"],
    )
    .ok_or(BrowserError::Missing("chromium", "TILLSYNC_CHROMIUM"))
}

/// True when both Chromium and chromedriver are installed.
pub fn browser_available() -> bool {
    chromedriver_path().is_ok() && chromium_path().is_ok()
}

/// True when `TILLSYNC_REQUIRE_BROWSER=1`: browser tests must not skip.
pub fn browser_required() -> bool {
    std::env::var("TILLSYNC_REQUIRE_BROWSER").is_ok_and(|v| v == "1")
}

/// The browser for the test `test`, its profile under `dir`; `None` (after a
/// notice on stderr) when Chromium is missing and not required. Panics when
/// it is missing and `TILLSYNC_REQUIRE_BROWSER=1`, or when it fails to start.
pub fn for_test(test: &str, dir: &Path) -> Option<Browser> {
    if let Err(e) = chromedriver_path().and(chromium_path()) {
        assert!(
            !browser_required(),
            "{test}: {e}; TILLSYNC_REQUIRE_BROWSER=1 forbids skipping"
        );
        eprintln!("SKIPPED {test}: {e}");
        return None;
    }
    match Browser::start(dir) {
        Ok(b) => Some(b),
        Err(e) => panic!("{test}: starting headless Chromium failed: {e}"),
    }
}

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

/// Browsers that may run at once in one test process (each Chromium is a
/// handful of processes; the test machine has 2 cores).
const MAX_BROWSERS: usize = 3;

/// Counts running browsers; [`Slot`] waits for a free one.
static RUNNING: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());

/// One of the [`MAX_BROWSERS`] places, given back when dropped.
struct Slot;

impl Slot {
    fn take() -> Slot {
        let (count, freed) = &RUNNING;
        let mut n = count.lock().unwrap_or_else(|p| p.into_inner());
        while *n >= MAX_BROWSERS {
            n = freed.wait(n).unwrap_or_else(|p| p.into_inner());
        }
        *n += 1;
        Slot
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let (count, freed) = &RUNNING;
        let mut n = count.lock().unwrap_or_else(|p| p.into_inner());
        *n -= 1;
        freed.notify_one();
    }
}

/// A headless Chromium session driven through its own `chromedriver`.
pub struct Browser {
    http: reqwest::blocking::Client,
    /// `http://127.0.0.1:PORT/session/ID`.
    session: String,
    driver: Child,
    log: PathBuf,
    /// Dropped last: the place is free once Chromium is gone.
    _slot: Slot,
}

impl Browser {
    /// Start chromedriver and a headless Chromium whose profile and
    /// chromedriver log live in a new folder under `dir`.
    /// At most [`MAX_BROWSERS`] run at once in a process: this waits for a
    /// place first.
    pub fn start(dir: &Path) -> Result<Self> {
        let driver_bin = chromedriver_path()?;
        let chromium = chromium_path()?;
        let slot = Slot::take();
        let work = tempfile::Builder::new()
            .prefix("browser-")
            .tempdir_in(dir)
            .map_err(|source| BrowserError::Io {
                path: dir.to_path_buf(),
                source,
            })?
            .keep();
        let log = work.join("chromedriver.log");
        let profile = work.join("profile");
        // No kept-alive connections: chromedriver may close an idle one just
        // as the next command is sent on it, which fails that command with
        // "error sending request"; a new loopback connection costs little.
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(0)
            .no_proxy()
            .build()
            .map_err(|source| BrowserError::Http {
                command: "client".into(),
                source,
            })?;

        // Another process may take the port between our probe and
        // chromedriver's bind: try a few ports.
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port().map_err(|source| BrowserError::Io {
                path: "127.0.0.1:0".into(),
                source,
            })?;
            let logf = std::fs::File::create(&log).map_err(|source| BrowserError::Io {
                path: log.clone(),
                source,
            })?;
            let errf = logf.try_clone().map_err(|source| BrowserError::Io {
                path: log.clone(),
                source,
            })?;
            let mut driver = Command::new(&driver_bin)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(logf)
                .stderr(errf)
                .spawn()
                .map_err(|e| {
                    BrowserError::Driver(format!("cannot run {}: {e}", driver_bin.display()))
                })?;
            let base = format!("http://127.0.0.1:{port}");
            match wait_ready(&http, &base, &mut driver) {
                Ok(()) => {
                    let mut b = Browser {
                        http,
                        session: String::new(),
                        driver,
                        log,
                        _slot: slot,
                    };
                    b.new_session(&base, &chromium, &profile)?;
                    return Ok(b);
                }
                Err(e) => {
                    let _ = driver.kill();
                    let _ = driver.wait();
                    last = format!("{e}\n--- chromedriver log\n{}", read_log(&log));
                }
            }
        }
        Err(BrowserError::Driver(last))
    }

    fn new_session(&mut self, base: &str, chromium: &Path, profile: &Path) -> Result<()> {
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let caps = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "goog:chromeOptions": {
                        "binary": chromium.to_string_lossy(),
                        "args": args,
                    },
                }
            }
        });
        let url = format!("{base}/session");
        let v = send(
            &self.http,
            reqwest::Method::POST,
            &url,
            Some(caps),
            "new session",
        )
        .map_err(|e| {
            BrowserError::Driver(format!(
                "{e}\n--- chromedriver log\n{}",
                read_log(&self.log)
            ))
        })?;
        let id = v["sessionId"]
            .as_str()
            .ok_or_else(|| BrowserError::Driver(format!("no sessionId in {v}")))?;
        self.session = format!("{base}/session/{id}");
        self.cmd(
            reqwest::Method::POST,
            "/timeouts",
            Some(json!({"implicit": 0, "pageLoad": 60_000, "script": 30_000})),
        )?;
        // The window's size includes the browser's frame: make the page's
        // viewport itself 1366×768, the screen the pages are laid out for.
        self.post(
            "/goog/cdp/execute",
            json!({
                "cmd": "Emulation.setDeviceMetricsOverride",
                "params": {
                    "width": VIEWPORT.0, "height": VIEWPORT.1,
                    "deviceScaleFactor": 1, "mobile": false,
                },
            }),
        )?;
        Ok(())
    }

    /// One command of this session: `path` is relative to `/session/ID`.
    fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        let url = format!("{}{path}", self.session);
        let body = match (&method, body) {
            (&reqwest::Method::POST, None) => Some(json!({})),
            (_, b) => b,
        };
        let name = format!("{method} {path}");
        send(&self.http, method, &url, body, &name)
    }

    fn get(&self, path: &str) -> Result<Value> {
        self.cmd(reqwest::Method::GET, path, None)
    }

    fn post(&self, path: &str, body: Value) -> Result<Value> {
        self.cmd(reqwest::Method::POST, path, Some(body))
    }

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

    /// The first element matching `css`.
    pub fn find(&self, css: &str) -> Result<Element<'_>> {
        self.try_find(css)?.ok_or_else(|| self.not_found(css))
    }

    /// Every element matching `css` (maybe none), in document order.
    pub fn find_all(&self, css: &str) -> Result<Vec<Element<'_>>> {
        let v = self.post(
            "/elements",
            json!({ "using": "css selector", "value": css }),
        )?;
        Ok(elements(self, css, &v))
    }

    /// The first element matching `css`, or `None`.
    pub fn try_find(&self, css: &str) -> Result<Option<Element<'_>>> {
        Ok(self.find_all(css)?.into_iter().next())
    }

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

    /// Save a PNG of the viewport ([`VIEWPORT`]) to `path`.
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

    /// The chromedriver log so far (for failure messages).
    pub fn driver_log(&self) -> String {
        read_log(&self.log)
    }

    fn page_excerpt(&self) -> String {
        let text = self.page_text().unwrap_or_else(|e| format!("({e})"));
        let mut s: String = text.chars().take(2000).collect();
        if s.len() < text.len() {
            s.push('…');
        }
        s
    }

    fn not_found(&self, css: &str) -> BrowserError {
        BrowserError::NotFound {
            css: css.to_string(),
            url: self.current_url().unwrap_or_default(),
            page: self.page_excerpt(),
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

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            // Closing the session makes chromedriver quit Chromium.
            let _ = self
                .http
                .delete(&self.session)
                .timeout(Duration::from_secs(20))
                .send();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// An element of the current page.
pub struct Element<'b> {
    browser: &'b Browser,
    id: String,
    /// The selector it was found by (for error messages).
    css: String,
}

impl fmt::Debug for Element<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Element({:?})", self.css)
    }
}

impl<'b> Element<'b> {
    fn path(&self, rest: &str) -> String {
        format!("/element/{}{rest}", self.id)
    }

    /// Click it (scrolled into view first, as a user would).
    pub fn click(&self) -> Result<()> {
        self.browser
            .post(&self.path("/click"), json!({}))
            .map(drop)
            .map_err(|e| self.context("click", e))
    }

    /// Clear it, then type `text` into it.
    pub fn type_text(&self, text: &str) -> Result<()> {
        self.browser
            .post(&self.path("/clear"), json!({}))
            .map_err(|e| self.context("clear", e))?;
        self.send_keys(text)
    }

    /// Type `text` into it without clearing it first.
    pub fn send_keys(&self, text: &str) -> Result<()> {
        self.browser
            .post(&self.path("/value"), json!({ "text": text }))
            .map(drop)
            .map_err(|e| self.context("type into", e))
    }

    /// In a `<select>`, choose the option whose value is `value`.
    pub fn select_by_value(&self, value: &str) -> Result<()> {
        let css = format!("option[value=\"{}\"]", css_escape(value));
        let Some(opt) = self.find_all(&css)?.into_iter().next() else {
            let options = self
                .find_all("option")?
                .iter()
                .map(|o| o.attribute("value").map(Option::unwrap_or_default))
                .collect::<Result<_>>()?;
            return Err(BrowserError::NoOption {
                select: self.css.clone(),
                value: value.to_string(),
                url: self.browser.current_url().unwrap_or_default(),
                options,
            });
        };
        if !opt.is_selected()? {
            opt.click()?;
        }
        Ok(())
    }

    /// The first element matching `css` inside this one.
    pub fn find(&self, css: &str) -> Result<Element<'b>> {
        self.find_all(css)?.into_iter().next().ok_or_else(|| {
            let mut e = self.browser.not_found(css);
            if let BrowserError::NotFound { css: c, .. } = &mut e {
                *c = format!("{} {css}", self.css);
            }
            e
        })
    }

    /// Every element matching `css` inside this one.
    pub fn find_all(&self, css: &str) -> Result<Vec<Element<'b>>> {
        let v = self.browser.post(
            &self.path("/elements"),
            json!({ "using": "css selector", "value": css }),
        )?;
        Ok(elements(self.browser, &format!("{} {css}", self.css), &v))
    }

    /// Its visible text.
    pub fn text(&self) -> Result<String> {
        let v = self
            .browser
            .get(&self.path("/text"))
            .map_err(|e| self.context("read text of", e))?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Its HTML attribute `name`, if set.
    pub fn attribute(&self, name: &str) -> Result<Option<String>> {
        let v = self
            .browser
            .get(&self.path(&format!("/attribute/{name}")))
            .map_err(|e| self.context("read attribute of", e))?;
        Ok(v.as_str().map(str::to_string))
    }

    /// Its DOM property `name` (e.g. `value` of an input, as typed).
    pub fn property(&self, name: &str) -> Result<Value> {
        self.browser
            .get(&self.path(&format!("/property/{name}")))
            .map_err(|e| self.context("read property of", e))
    }

    /// The current value of an input, select or textarea.
    pub fn value(&self) -> Result<String> {
        Ok(match self.property("value")? {
            Value::String(s) => s,
            Value::Null => String::new(),
            v => v.to_string(),
        })
    }

    /// Whether a checkbox, radio button or option is selected.
    pub fn is_selected(&self) -> Result<bool> {
        Ok(self.browser.get(&self.path("/selected"))?.as_bool() == Some(true))
    }

    /// Whether it is displayed.
    pub fn is_displayed(&self) -> Result<bool> {
        Ok(self.browser.get(&self.path("/displayed"))?.as_bool() == Some(true))
    }

    /// Whether it is enabled (not `disabled`).
    pub fn is_enabled(&self) -> Result<bool> {
        Ok(self.browser.get(&self.path("/enabled"))?.as_bool() == Some(true))
    }

    fn context(&self, action: &str, e: BrowserError) -> BrowserError {
        match e {
            BrowserError::WebDriver {
                command,
                error,
                message,
            } => BrowserError::WebDriver {
                command: format!("{action} {:?} ({command})", self.css),
                error,
                message,
            },
            e => e,
        }
    }
}

fn elements<'b>(browser: &'b Browser, css: &str, v: &Value) -> Vec<Element<'b>> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e[ELEMENT_KEY].as_str())
                .map(|id| Element {
                    browser,
                    id: id.to_string(),
                    css: css.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
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

/// `value` quoted for a CSS attribute selector in double quotes.
fn css_escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

/// A port free on 127.0.0.1 right now (chromedriver binds it next).
fn free_port() -> std::io::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// Wait until chromedriver at `base` answers `/status` with `ready`.
fn wait_ready(http: &reqwest::blocking::Client, base: &str, driver: &mut Child) -> Result<()> {
    let start = Instant::now();
    let url = format!("{base}/status");
    loop {
        if let Ok(Some(status)) = driver.try_wait() {
            return Err(BrowserError::Driver(format!(
                "chromedriver exited ({status}) before answering {url}"
            )));
        }
        if let Ok(r) = http.get(&url).timeout(Duration::from_secs(2)).send()
            && let Ok(v) = r.json::<Value>()
            && v["value"]["ready"].as_bool() == Some(true)
        {
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(30) {
            return Err(BrowserError::Driver(format!("{url} not ready after 30 s")));
        }
        std::thread::sleep(POLL);
    }
}

/// Send one WebDriver command; the answer's `value`, or its error.
fn send(
    http: &reqwest::blocking::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
    command: &str,
) -> Result<Value> {
    let mut req = http.request(method, url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let http_err = |source| BrowserError::Http {
        command: command.to_string(),
        source,
    };
    let resp = req.send().map_err(http_err)?;
    let ok = resp.status().is_success();
    let v: Value = resp.json().map_err(http_err)?;
    let value = v.get("value").cloned().unwrap_or(Value::Null);
    if ok {
        return Ok(value);
    }
    Err(BrowserError::WebDriver {
        command: command.to_string(),
        error: value["error"]
            .as_str()
            .unwrap_or("unknown error")
            .to_string(),
        message: value["message"]
            .as_str()
            .unwrap_or_default()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string(),
    })
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

/// An error and its causes, "a: b: c" ("error sending request for url
/// (…): connection closed before message completed").
fn chain(e: &dyn std::error::Error) -> String {
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

fn read_log(path: &Path) -> String {
    let s = std::fs::read_to_string(path).unwrap_or_default();
    let tail: Vec<&str> = s.lines().rev().take(40).collect();
    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
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
    fn css_escape_quotes_and_backslashes() {
        assert_eq!(css_escape(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(css_escape("plain"), "plain");
    }

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

    #[test]
    fn a_program_named_by_env_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fake-driver");
        std::fs::write(&p, "").unwrap();
        let on_path = Some(dir.path().as_os_str().to_owned());
        // The environment's name wins over PATH, and must be a file.
        assert_eq!(
            locate(Some(p.clone().into_os_string()), None, &["x"]),
            Some(p.clone())
        );
        assert_eq!(
            locate(
                Some(dir.path().join("missing").into_os_string()),
                on_path.clone(),
                &["fake-driver"]
            ),
            None
        );
        // Without it, the first name found on PATH.
        assert_eq!(
            locate(None, on_path.clone(), &["nope", "fake-driver"]),
            Some(p)
        );
        assert_eq!(locate(None, on_path, &["nope"]), None);
    }
}
