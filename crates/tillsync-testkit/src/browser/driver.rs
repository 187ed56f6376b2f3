//! The chromedriver process and its session: finding Chromium and
//! chromedriver, [`for_test`], the [`Browser`] (start, one WebDriver
//! command, stop) and the limit on browsers running at once.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::browser::error::{BrowserError, Result};

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
pub(super) const POLL: Duration = Duration::from_millis(50);

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
    pub(super) http: reqwest::blocking::Client,
    /// `http://127.0.0.1:PORT/session/ID`.
    pub(super) session: String,
    pub(super) driver: Child,
    pub(super) log: PathBuf,
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
    pub(super) fn cmd(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let url = format!("{}{path}", self.session);
        let body = match (&method, body) {
            (&reqwest::Method::POST, None) => Some(json!({})),
            (_, b) => b,
        };
        let name = format!("{method} {path}");
        send(&self.http, method, &url, body, &name)
    }

    pub(super) fn get(&self, path: &str) -> Result<Value> {
        self.cmd(reqwest::Method::GET, path, None)
    }

    pub(super) fn post(&self, path: &str, body: Value) -> Result<Value> {
        self.cmd(reqwest::Method::POST, path, Some(body))
    }

    /// The chromedriver log so far (for failure messages).
    pub fn driver_log(&self) -> String {
        read_log(&self.log)
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

fn read_log(path: &Path) -> String {
    let s = std::fs::read_to_string(path).unwrap_or_default();
    let tail: Vec<&str> = s.lines().rev().take(40).collect();
    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

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
