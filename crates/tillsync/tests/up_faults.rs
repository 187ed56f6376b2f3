//! Faults on the up path, with the fault-injecting proxy of the test kit
//! between the till and the server: the server killed (kill -9) with a batch
//! in flight, the connection cut after the server committed but before the
//! till read the answer (and cut inside the request), the till killed right
//! after sending. After recovery every ticket is on the server exactly once:
//! the server's `(number, hash)` list of the till equals the till's own, no
//! quarantine, no pending chain link, and the till's outbox is empty.

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use tillsync_core::TillConfig;
use tillsync_testkit::proxy::FaultProxy;
use tillsync_testkit::{TestServer, pull};
use tillsync_till::up::push::{PushOptions, PushReport, push};
use tillsync_till::up::sell::{Register, SaleLine, SalePayment, SaleRequest};

use crate::util::tillsync;

/// What the proxy looks for to pick the outbox posts.
const OUTBOX_POST: &[u8] = b"POST /api/v1/outbox";

// ---- helpers ----

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// Point the till at `url` (the proxy).
pub(crate) fn point_till_at(tdir: &Path, url: &str, ws_timeout_ms: u64) {
    let mut c = TillConfig::load(tdir).expect("till config");
    c.server.webservice_url = url.parse().expect("url");
    c.sync.ws_timeout_ms = ws_timeout_ms;
    c.save(tdir).expect("save till config");
}

/// Sell `n` tickets on the till (library API, no network), items from its ART.
pub(crate) fn sell(tdir: &Path, n: usize) {
    let items: Vec<String> = {
        let c = Connection::open(tdir.join(tillsync_till::DB_FILE)).expect("till db");
        let mut st = c
            .prepare(r#"SELECT "code" FROM "ART" ORDER BY "code" LIMIT 7"#)
            .expect("ART");
        st.query_map([], |r| r.get(0))
            .expect("ART rows")
            .collect::<Result<_, _>>()
            .expect("ART rows")
    };
    assert!(!items.is_empty(), "the till has no ART: load it first");
    let mut reg = Register::open(tdir).expect("register");
    for i in 0..n {
        let lines = (0..1 + i % 3)
            .map(|j| SaleLine::units(&items[(i + j) % items.len()], 1 + (i % 2) as i64))
            .collect();
        reg.sell(&SaleRequest {
            lines,
            payments: vec![SalePayment {
                method: "card".into(),
                amount_cents: None,
            }],
            ..SaleRequest::default()
        })
        .expect("sale");
    }
}

fn open_ro(path: &Path) -> Connection {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

/// `(number, hash)` of every ticket of `till` in the `TICKET` table of `db`.
fn tickets(db: &Path, till: &str) -> Vec<(u64, String)> {
    let c = open_ro(db);
    let mut st = c
        .prepare(r#"SELECT "number", "hash" FROM "TICKET" WHERE "till_id" = ?1 ORDER BY "number""#)
        .expect("TICKET");
    st.query_map([till], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))
        .expect("TICKET rows")
        .collect::<Result<_, _>>()
        .expect("TICKET rows")
}

/// The server database the tests read: a SQLite file, or a test server's
/// database on whatever backend it runs.
enum ServerSide<'a> {
    File(&'a Path),
    Test(&'a TestServer),
}

impl ServerSide<'_> {
    fn tickets(&self, till: &str) -> Vec<(u64, String)> {
        match self {
            ServerSide::File(p) => tickets(p, till),
            ServerSide::Test(s) => s
                .rows(&format!(
                    r#"SELECT "number", "hash" FROM "TICKET" WHERE "till_id" = '{till}' ORDER BY "number""#
                ))
                .into_iter()
                .map(|r| {
                    (
                        r[0].as_deref().unwrap().parse().unwrap(),
                        r[1].clone().unwrap(),
                    )
                })
                .collect(),
        }
    }

    fn count(&self, sql: &str) -> u64 {
        match self {
            ServerSide::File(p) => count(p, sql),
            ServerSide::Test(s) => s.count(sql) as u64,
        }
    }
}

fn count(db: &Path, sql: &str) -> u64 {
    open_ro(db)
        .query_row(sql, [], |r| r.get::<_, i64>(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}")) as u64
}

/// Keys waiting in the till's outbox, in order.
fn pending_keys(tdir: &Path) -> Vec<String> {
    let c = open_ro(&tdir.join(tillsync_till::DB_FILE));
    // Tickets only: the event log's records (the install, closings…) travel
    // in the same outbox but are not what these tests count.
    let mut st = c
        .prepare(r#"SELECT "key" FROM "tillsync_outbox" WHERE "kind" = 'ticket' ORDER BY "id""#)
        .expect("outbox");
    st.query_map([], |r| r.get(0))
        .expect("outbox rows")
        .collect::<Result<_, _>>()
        .expect("outbox rows")
}

/// Nothing lost at any moment: the server holds a gap-free prefix 1..=k of
/// the till's tickets, identical to the till's, and every ticket after it
/// still waits in the till's outbox.
#[track_caller]
fn assert_nothing_lost(server_db: &ServerSide, tdir: &Path, till: &str, when: &str) -> (u64, u64) {
    let sold = tickets(&tdir.join(tillsync_till::DB_FILE), till);
    let on_server = server_db.tickets(till);
    let k = on_server.len();
    assert!(
        k <= sold.len() && on_server[..] == sold[..k],
        "{when}: the server does not hold a prefix of the till's tickets (duplicate, gap or \
         altered): server numbers {:?}",
        on_server.iter().map(|t| t.0).collect::<Vec<_>>()
    );
    let pending = pending_keys(tdir);
    for (n, _) in &sold[k..] {
        let key = format!("ticket:{n}");
        assert!(
            pending.contains(&key),
            "{when}: ticket {n} is neither on the server nor in the till's outbox: lost"
        );
    }
    (k as u64, pending.len() as u64)
}

/// Every ticket on the server exactly once, verified, and nothing left to send.
#[track_caller]
fn assert_exactly_once(server_db: &ServerSide, tdir: &Path, till: &str, expected: usize) {
    let sold = tickets(&tdir.join(tillsync_till::DB_FILE), till);
    assert_eq!(sold.len(), expected, "tickets sold on the till");
    let numbers: Vec<u64> = sold.iter().map(|t| t.0).collect();
    assert_eq!(numbers, (1..=expected as u64).collect::<Vec<_>>());
    let on_server = server_db.tickets(till);
    if on_server != sold {
        let server_numbers: Vec<u64> = on_server.iter().map(|t| t.0).collect();
        let missing: Vec<u64> = numbers
            .iter()
            .filter(|n| !server_numbers.contains(n))
            .copied()
            .collect();
        panic!(
            "the server's tickets of {till} differ from the till's: {} on the server for {} \
             sold; missing {missing:?}",
            on_server.len(),
            sold.len()
        );
    }
    let q = server_db.count(&format!(
        "SELECT COUNT(*) FROM tillsync_ticket_quarantine WHERE till_id = '{till}'"
    ));
    assert_eq!(q, 0, "tickets in quarantine");
    let p = server_db.count(&format!(
        "SELECT COUNT(*) FROM tillsync_ticket_link_pending WHERE till_id = '{till}'"
    ));
    assert_eq!(p, 0, "chain links still pending");
    assert!(
        pending_keys(tdir).is_empty(),
        "the till's outbox is not empty"
    );
    let errors = count(
        &tdir.join(tillsync_till::DB_FILE),
        "SELECT COUNT(*) FROM tillsync_outbox_errors",
    );
    assert_eq!(errors, 0, "items set aside on the till");
}

fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(t.elapsed() < limit, "timed out after {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// `tillsync till sync --data TDIR` as a child process, output to `log`.
fn spawn_sync(cwd: &Path, tdir: &Path, log: &Path) -> Child {
    let out = File::create(log).expect("log file");
    Command::new(env!("CARGO_BIN_EXE_tillsync"))
        .args(["till", "sync", "--data", s(tdir)])
        .current_dir(cwd)
        .env_remove("TILLSYNC_DATA")
        .env_remove("TILLSYNC_TILL_DATA")
        .stdout(Stdio::from(out.try_clone().expect("log file")))
        .stderr(Stdio::from(out))
        .spawn()
        .expect("spawn tillsync till sync")
}

/// Wait for a child to end (killing it after `limit`).
fn wait_child(child: &mut Child, limit: Duration, what: &str) -> std::process::ExitStatus {
    let t = Instant::now();
    loop {
        if let Some(st) = child.try_wait().expect("wait") {
            return st;
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A server and till `T001` loaded, the till talking to the server through a
/// proxy that picks the outbox posts.
fn ready_behind_proxy() -> (TestServer, PathBuf, FaultProxy) {
    let server = TestServer::start(300);
    server.export();
    let tdir = server.install_till("T001");
    pull(&tdir).expect("first pull");
    let proxy = FaultProxy::start(server.web_addr);
    proxy.only_when_request_contains(OUTBOX_POST);
    point_till_at(&tdir, &proxy.url(), 5_000);
    (server, tdir, proxy)
}

fn push_batches_of(tdir: &Path, n: usize) -> PushReport {
    push(
        tdir,
        PushOptions {
            batch_items: n,
            ..PushOptions::default()
        },
    )
    .expect("push")
}

// ---- the connection cut ----

/// Where a connection is cut.
#[derive(Debug, Clone, Copy)]
enum Cut {
    /// After the server committed and answered: N bytes of the answer reach the till.
    Answer(u64),
    /// Inside the request: N bytes of it reach the server.
    Request(u64),
}

#[test]
fn connection_cut_after_the_commit_or_inside_the_request_then_resend_stores_nothing_twice() {
    let (server, tdir, proxy) = ready_behind_proxy();
    let db = ServerSide::Test(&server);
    const BATCH: usize = 20;
    const PER_ROUND: usize = 50;
    // The event log's records, if any, go first, so that each round's
    // batches hold tickets only.
    assert!(push_batches_of(&tdir, BATCH).unavailable.is_none());
    // 0: nothing of the answer; 1 and 40: inside the status line and
    // headers; 300: inside the JSON body. Request: nothing, inside the
    // headers, inside the body.
    let cuts = [
        Cut::Answer(0),
        Cut::Answer(1),
        Cut::Answer(40),
        Cut::Answer(300),
        Cut::Request(0),
        Cut::Request(100),
        Cut::Request(5_000),
    ];
    let mut sold = 0;
    for (round, cut) in cuts.into_iter().enumerate() {
        sell(&tdir, PER_ROUND);
        sold += PER_ROUND;
        let (before, _) = assert_nothing_lost(&db, &tdir, "T001", "before the cut");
        match cut {
            Cut::Answer(n) => proxy.cut_after_response_bytes_once(n),
            Cut::Request(n) => proxy.cut_after_request_bytes_once(n),
        }
        let r = push_batches_of(&tdir, BATCH);
        assert_eq!(
            proxy.stats().cuts,
            round as u64 + 1,
            "{cut:?}: no cut happened"
        );
        assert!(
            r.unavailable.is_some(),
            "{cut:?}: the push did not notice the cut: {r:?}"
        );
        assert_eq!((r.accepted, r.duplicate), (0, 0), "{cut:?}: {r:?}");
        let when = format!("after {cut:?}");
        let (on_server, pending) = assert_nothing_lost(&db, &tdir, "T001", &when);
        // Nothing left the outbox without an answer.
        assert_eq!(pending, PER_ROUND as u64, "{when}");
        match cut {
            // The server committed the first batch: only the answer was lost.
            Cut::Answer(_) => assert_eq!(on_server, before + BATCH as u64, "{when}"),
            // A truncated request stores nothing.
            Cut::Request(_) => assert_eq!(on_server, before, "{when}"),
        }
        // The proxy passes again: the resend changes nothing for the batch
        // the server already had.
        let r = push_batches_of(&tdir, BATCH);
        assert!(r.unavailable.is_none(), "{when}: {r:?}");
        let dup = match cut {
            Cut::Answer(_) => BATCH as u64,
            Cut::Request(_) => 0,
        };
        assert_eq!(
            (r.duplicate, r.accepted, r.pending),
            (dup, PER_ROUND as u64 - dup, 0),
            "{when}: {r:?}"
        );
        assert_exactly_once(&db, &tdir, "T001", sold);
    }
}

// ---- the till killed right after sending ----

#[test]
fn till_killed_right_after_sending_then_sync_again_stores_every_ticket_once() {
    let (server, tdir, proxy) = ready_behind_proxy();
    let db = ServerSide::Test(&server);
    let root = server.root.path().to_path_buf();
    // Batches are of the till's default size (200): 450 tickets = 3 batches.
    const PER_ROUND: usize = 450;
    let mut sold = 0;
    let mut landings = Vec::new();
    for round in 0..4 {
        sell(&tdir, PER_ROUND);
        sold += PER_ROUND;
        let (before, _) = assert_nothing_lost(&db, &tdir, "T001", "before the kill");
        let matched = proxy.stats().matched;
        let log = root.join(format!("sync-kill-{round}.log"));
        match round {
            // The answer is held back: the till has sent and waits.
            0 | 1 => proxy.delay_response(Duration::from_secs(30)),
            _ => proxy.pass(),
        }
        let mut child = spawn_sync(&root, &tdir, &log);
        wait_until("the till posts its outbox", Duration::from_secs(30), || {
            proxy.stats().matched > matched
        });
        match round {
            // 0: answer held, killed once the server has committed the batch.
            // 2: answers flowing, killed as the first commit lands (while the
            // till reads the answer, settles it, or sends the next batch).
            0 | 2 => wait_until("the server commits", Duration::from_secs(30), || {
                db.tickets("T001").len() > before as usize
            }),
            // 1: answer held, killed the moment the request left it.
            1 => {}
            // 3: answers flowing, killed in the middle of the batches.
            _ => std::thread::sleep(Duration::from_millis(40)),
        }
        child.kill().expect("kill -9 the till");
        let status = child.wait().expect("wait");
        proxy.pass();
        let when = format!("round {round}, till killed ({status})");
        let landing = assert_nothing_lost(&db, &tdir, "T001", &when);
        landings.push(landing);
        if round == 0 {
            // The committed batch was never acknowledged to the till.
            let (on_server, pending) = landing;
            assert!(
                on_server > before && pending == (sold as u64 - before),
                "{when}: expected the server ahead of the till's outbox: {landing:?}"
            );
        }
        // Sync again, to completion.
        let out = tillsync(&root, &["till", "sync", "--data", s(&tdir), "--json"]).ok();
        let j = out.json();
        assert_eq!(j["push"]["pending"], 0, "{when}: {j}");
        assert_exactly_once(&db, &tdir, "T001", sold);
        if round == 0 {
            let dup = j["push"]["duplicate"].as_u64().unwrap_or(0);
            assert!(dup >= 1, "{when}: the resend found no duplicate: {j}");
        }
    }
    eprintln!("till kills: (on server, pending) right after each kill: {landings:?}");
}

// ---- the server killed with a batch in flight ----

/// `tillsync server run` as a child process.
struct ServerProcess {
    root: PathBuf,
    dir: PathBuf,
    web: SocketAddr,
    child: Option<Child>,
    starts: u32,
}

impl ServerProcess {
    fn start(&mut self) {
        assert!(self.child.is_none(), "server already running");
        self.starts += 1;
        let log = self.root.join(format!("server-run-{}.log", self.starts));
        let out = File::create(&log).expect("log file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_tillsync"))
            .args(["server", "run", "--data", s(&self.dir)])
            .current_dir(&self.root)
            .env_remove("TILLSYNC_DATA")
            .stdout(Stdio::from(out.try_clone().expect("log file")))
            .stderr(Stdio::from(out))
            .spawn()
            .expect("spawn tillsync server run");
        let t = Instant::now();
        while TcpStream::connect_timeout(&self.web, Duration::from_millis(200)).is_err() {
            if let Some(st) = child.try_wait().expect("wait") {
                panic!(
                    "server run exited ({st}):\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "server run does not listen on {}",
                self.web
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child = Some(child);
    }

    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("kill -9 the server");
            c.wait().expect("wait for the server");
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

#[test]
fn server_killed_with_a_batch_in_flight_then_restarted_stores_every_ticket_once() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let root = tmp.path().to_path_buf();
    let dir = root.join("server");
    let tdir = root.join("T001");
    let web: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let ftp = free_port();
    let proxy = FaultProxy::start(web);
    proxy.only_when_request_contains(OUTBOX_POST);
    tillsync(
        &root,
        &[
            "server",
            "init",
            "--data",
            s(&dir),
            "--demo",
            "--demo-rows",
            "300",
        ],
    )
    .ok();
    for (k, v) in [
        ("server.listen", web.to_string()),
        ("ftp.listen", format!("127.0.0.1:{ftp}")),
        ("ftp.address", format!("ftp://127.0.0.1:{ftp}")),
        ("till.webservice_url", proxy.url()),
        ("till.ws_timeout_ms", "10000".to_string()),
    ] {
        tillsync(
            &root,
            &["server", "config", "set", k, &v, "--data", s(&dir)],
        )
        .ok();
    }
    tillsync(&root, &["server", "export", "--data", s(&dir)]).ok();
    let pkg = root.join("T001.json");
    tillsync(
        &root,
        &[
            "server",
            "package",
            "--data",
            s(&dir),
            "--till",
            "T001",
            "--out",
            s(&pkg),
        ],
    )
    .ok();
    tillsync(
        &root,
        &["till", "init", "--data", s(&tdir), "--package", s(&pkg)],
    )
    .ok();
    let mut server = ServerProcess {
        root: root.clone(),
        dir: dir.clone(),
        web,
        child: None,
        starts: 0,
    };
    server.start();
    tillsync(&root, &["till", "sync", "--data", s(&tdir)]).ok();
    let db = dir.join("server.db");
    let db = ServerSide::File(&db);

    // Each round: 400 tickets (2 batches of 200). Round 0: the server
    // commits the first batch, its answer is held back by the proxy, and the
    // server dies before it is delivered. Then the server is killed a little
    // later each round after the till's first post reached it (before the
    // commit, during it, or after some batches were acknowledged).
    const PER_ROUND: usize = 400;
    let strikes_ms = [
        None,
        Some(0u64),
        Some(2),
        Some(10),
        Some(40),
        Some(120),
        Some(300),
    ];
    let mut sold = 0;
    let mut landings = Vec::new();
    for (round, strike) in strikes_ms.into_iter().enumerate() {
        sell(&tdir, PER_ROUND);
        sold += PER_ROUND;
        let before = db.tickets("T001").len();
        let matched = proxy.stats().matched;
        if strike.is_none() {
            proxy.delay_response(Duration::from_secs(30));
        }
        let log = root.join(format!("sync-{round}.log"));
        let mut sync = spawn_sync(&root, &tdir, &log);
        wait_until("the till posts its outbox", Duration::from_secs(30), || {
            proxy.stats().matched > matched
        });
        match strike {
            None => wait_until("the server commits", Duration::from_secs(30), || {
                db.tickets("T001").len() > before
            }),
            Some(ms) => std::thread::sleep(Duration::from_millis(ms)),
        }
        server.kill9();
        if strike.is_none() {
            // The held answer dies with the server's connection.
            proxy.close_connections();
        }
        let st = wait_child(&mut sync, Duration::from_secs(60), "till sync");
        proxy.pass();
        let when = format!("round {round}, server killed {strike:?} ms after the post ({st})");
        let (on_server, pending) = assert_nothing_lost(&db, &tdir, "T001", &when);
        if strike.is_none() {
            // Committed, never acknowledged: the batch is on both sides.
            assert!(
                on_server > before as u64 && pending == PER_ROUND as u64,
                "{when}: expected the server ahead of the till's outbox: {on_server} on the \
                 server, {pending} pending"
            );
        }
        landings.push((strike, on_server, pending, st.success()));

        server.start();
        let out = tillsync(&root, &["till", "sync", "--data", s(&tdir), "--json"]).ok();
        let j = out.json();
        assert_eq!(j["push"]["pending"], 0, "{when}: {j}");
        if strike.is_none() {
            assert_eq!(j["push"]["duplicate"], 200, "{when}: {j}");
        }
        assert_exactly_once(&db, &tdir, "T001", sold);
    }
    // At least one timed kill caught a batch in flight: the till's push got no
    // answer for it and kept it.
    assert!(
        landings.iter().any(|l| l.0.is_some() && l.2 > 0),
        "no kill caught a batch in flight, the test proved nothing: {landings:?}"
    );
    eprintln!("server kills: (strike ms, on server, pending, sync ok): {landings:?}");
}
