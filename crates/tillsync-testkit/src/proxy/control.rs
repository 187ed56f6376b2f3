//! [`FaultProxy`]: starting the proxy, switching its mode at run time,
//! reading its counters ([`ProxyStats`]) and stopping it.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::proxy::forward::{Shared, State, accept_loop, lock};
use crate::proxy::plan::Mode;

/// Counters since the proxy started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// Client connections accepted.
    pub connections: u64,
    /// Bytes forwarded from clients to the target.
    pub bytes_to_target: u64,
    /// Bytes forwarded from the target to clients.
    pub bytes_to_client: u64,
    /// Bytes read and thrown away (black hole, cuts).
    pub bytes_dropped: u64,
    /// Connections cut by a `Cut…` mode.
    pub cuts: u64,
    /// Connections to the target that failed.
    pub target_failures: u64,
    /// Request chunks holding the pattern of
    /// [`FaultProxy::only_when_request_contains`].
    pub matched: u64,
}

/// A TCP proxy on 127.0.0.1:0 in front of `target`, with a switchable mode.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Listen on 127.0.0.1:0 and forward to `target`, in [`Mode::Pass`].
    pub fn start(target: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("proxy: local address");
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                mode: Mode::Pass,
                epoch: 0,
                once: false,
                pattern: None,
                target,
                listening: true,
                stopping: false,
            }),
            changed: Condvar::new(),
            conns: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            bytes_to_target: AtomicU64::new(0),
            bytes_to_client: AtomicU64::new(0),
            bytes_dropped: AtomicU64::new(0),
            cuts: AtomicU64::new(0),
            target_failures: AtomicU64::new(0),
            matched: AtomicU64::new(0),
        });
        let s = shared.clone();
        let accept = std::thread::Builder::new()
            .name("fault-proxy-accept".into())
            .spawn(move || accept_loop(s, addr, Some(listener)))
            .expect("proxy: spawn");
        FaultProxy {
            addr,
            shared,
            accept: Some(accept),
        }
    }

    /// Where clients connect (127.0.0.1, a port chosen by the system).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/`, for a till's `server.webservice_url`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Forward to another target from the next connection on (a server
    /// restarted on another port).
    pub fn set_target(&self, target: SocketAddr) {
        lock(&self.shared.state).target = target;
    }

    /// Switch to `mode`; returns when it is in force (for [`Mode::Refuse`]:
    /// the port is closed; when leaving it: the port listens again).
    pub fn set(&self, mode: Mode) {
        self.set_mode(mode, false);
    }

    /// Switch to a `Cut…` mode that goes back to [`Mode::Pass`] after its
    /// first cut.
    pub fn set_once(&self, mode: Mode) {
        self.set_mode(mode, true);
    }

    fn set_mode(&self, mode: Mode, once: bool) {
        let mut st = lock(&self.shared.state);
        st.mode = mode;
        st.once = once;
        st.epoch += 1;
        self.shared.changed.notify_all();
        let want_listening = mode != Mode::Refuse;
        if st.listening != want_listening {
            drop(st);
            if !want_listening {
                // Wake the accept thread blocked in accept().
                let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
            }
            let mut st = lock(&self.shared.state);
            while st.listening != want_listening && !st.stopping {
                st = self
                    .shared
                    .changed
                    .wait(st)
                    .unwrap_or_else(|p| p.into_inner());
            }
        }
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        lock(&self.shared.state).mode
    }

    /// [`Mode::Pass`].
    pub fn pass(&self) {
        self.set(Mode::Pass);
    }

    /// [`Mode::Refuse`].
    pub fn refuse(&self) {
        self.set(Mode::Refuse);
    }

    /// [`Mode::DropAll`].
    pub fn drop_all(&self) {
        self.set(Mode::DropAll);
    }

    /// [`Mode::Delay`].
    pub fn delay(&self, d: Duration) {
        self.set(Mode::Delay(d));
    }

    /// [`Mode::DelayResponse`].
    pub fn delay_response(&self, d: Duration) {
        self.set(Mode::DelayResponse(d));
    }

    /// [`Mode::CutAfterResponseBytes`].
    pub fn cut_after_response_bytes(&self, n: u64) {
        self.set(Mode::CutAfterResponseBytes(n));
    }

    /// [`Mode::CutAfterResponseBytes`], once, then [`Mode::Pass`].
    pub fn cut_after_response_bytes_once(&self, n: u64) {
        self.set_once(Mode::CutAfterResponseBytes(n));
    }

    /// [`Mode::CutAfterRequestBytes`].
    pub fn cut_after_request_bytes(&self, n: u64) {
        self.set(Mode::CutAfterRequestBytes(n));
    }

    /// [`Mode::CutAfterRequestBytes`], once, then [`Mode::Pass`].
    pub fn cut_after_request_bytes_once(&self, n: u64) {
        self.set_once(Mode::CutAfterRequestBytes(n));
    }

    /// Apply the `Cut…` modes and [`Mode::DelayResponse`] only to requests whose bytes contain `pattern`
    /// (e.g. `b"POST /api/v1/outbox"`); other exchanges pass untouched.
    pub fn only_when_request_contains(&self, pattern: &[u8]) {
        let mut st = lock(&self.shared.state);
        st.pattern = (!pattern.is_empty()).then(|| pattern.to_vec());
        st.epoch += 1;
    }

    /// Apply the `Cut…` modes to every request again.
    pub fn any_request(&self) {
        let mut st = lock(&self.shared.state);
        st.pattern = None;
        st.epoch += 1;
    }

    /// Close every live connection (both sides); the mode is unchanged.
    pub fn close_connections(&self) {
        self.shared.close_all();
    }

    /// The counters.
    pub fn stats(&self) -> ProxyStats {
        let s = &self.shared;
        ProxyStats {
            connections: s.connections.load(Ordering::SeqCst),
            bytes_to_target: s.bytes_to_target.load(Ordering::SeqCst),
            bytes_to_client: s.bytes_to_client.load(Ordering::SeqCst),
            bytes_dropped: s.bytes_dropped.load(Ordering::SeqCst),
            cuts: s.cuts.load(Ordering::SeqCst),
            target_failures: s.target_failures.load(Ordering::SeqCst),
            matched: s.matched.load(Ordering::SeqCst),
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let listening = {
            let mut st = lock(&self.shared.state);
            st.stopping = true;
            self.shared.changed.notify_all();
            st.listening
        };
        if listening {
            let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        }
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
        self.shared.close_all();
    }
}

#[cfg(test)]
mod tests {
    use std::io::{ErrorKind, Read, Write};
    use std::sync::mpsc;
    use std::time::Instant;

    use super::*;

    /// An echo server on 127.0.0.1:0; sends the byte count of each
    /// connection (at its end) on the channel.
    fn echo_server() -> (SocketAddr, mpsc::Receiver<u64>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                let tx = tx.clone();
                std::thread::spawn(move || {
                    let mut total = 0u64;
                    let mut buf = [0u8; 4096];
                    loop {
                        match s.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                total += n as u64;
                                if s.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    let _ = tx.send(total);
                });
            }
        });
        (addr, rx)
    }

    fn connect(p: &FaultProxy) -> TcpStream {
        let s = TcpStream::connect(p.addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    }

    /// Read until EOF, an error or `want` bytes.
    fn read_some(s: &mut TcpStream, want: usize) -> (Vec<u8>, bool) {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while out.len() < want {
            match s.read(&mut buf) {
                Ok(0) => return (out, true),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return (out, false);
                }
                Err(_) => return (out, true),
            }
        }
        (out, false)
    }

    fn wait_for(what: &str, f: impl Fn() -> bool) {
        let t = Instant::now();
        while !f() {
            assert!(t.elapsed() < Duration::from_secs(5), "timed out: {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn pass_forwards_both_ways_and_counts() {
        let (echo, got) = echo_server();
        let p = FaultProxy::start(echo);
        let mut s = connect(&p);
        s.write_all(b"hello proxy").unwrap();
        let (back, _) = read_some(&mut s, 11);
        assert_eq!(back, b"hello proxy");
        drop(s);
        assert_eq!(got.recv_timeout(Duration::from_secs(5)).unwrap(), 11);
        wait_for("counters", || p.stats().bytes_to_client == 11);
        let st = p.stats();
        assert_eq!(st.connections, 1);
        assert_eq!(st.bytes_to_target, 11);
        assert_eq!(st.cuts, 0);
    }

    #[test]
    fn refuse_closes_the_port_then_pass_opens_it_again() {
        let (echo, _got) = echo_server();
        let p = FaultProxy::start(echo);
        let mut live = connect(&p);
        live.write_all(b"up").unwrap();
        assert_eq!(read_some(&mut live, 2).0, b"up");
        p.refuse();
        let e = TcpStream::connect(p.addr()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ConnectionRefused);
        // The live connection was closed as well.
        let _ = live.write_all(b"x");
        let (data, closed) = read_some(&mut live, 1);
        assert!(data.is_empty() && closed, "live connection still open");
        p.pass();
        let mut s = connect(&p);
        s.write_all(b"again").unwrap();
        assert_eq!(read_some(&mut s, 5).0, b"again");
    }

    #[test]
    fn drop_all_is_a_black_hole() {
        let (echo, got) = echo_server();
        let p = FaultProxy::start(echo);
        p.drop_all();
        let mut s = connect(&p);
        s.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        s.write_all(b"anyone there?").unwrap();
        let (data, closed) = read_some(&mut s, 1);
        assert!(
            data.is_empty() && !closed,
            "a black hole answered or closed"
        );
        wait_for("bytes swallowed", || p.stats().bytes_dropped == 13);
        assert_eq!(p.stats().bytes_to_target, 0);
        // The target never saw a connection.
        assert!(got.recv_timeout(Duration::from_millis(100)).is_err());
        // Switching back: new connections pass, the black hole stays one.
        p.pass();
        s.write_all(b"still?").unwrap();
        assert!(read_some(&mut s, 1).0.is_empty());
        let mut s2 = connect(&p);
        s2.write_all(b"ok").unwrap();
        assert_eq!(read_some(&mut s2, 2).0, b"ok");
    }

    #[test]
    fn delay_holds_each_chunk() {
        let (echo, _got) = echo_server();
        let p = FaultProxy::start(echo);
        let mut s = connect(&p);
        s.write_all(b"warm").unwrap();
        assert_eq!(read_some(&mut s, 4).0, b"warm");
        let fast = {
            let t = Instant::now();
            s.write_all(b"ping").unwrap();
            assert_eq!(read_some(&mut s, 4).0, b"ping");
            t.elapsed()
        };
        // The mode applies to the live connection too.
        p.delay(Duration::from_millis(150));
        let t = Instant::now();
        s.write_all(b"ping").unwrap();
        assert_eq!(read_some(&mut s, 4).0, b"ping");
        let slow = t.elapsed();
        // Delayed on the way there and on the way back.
        assert!(
            slow >= Duration::from_millis(300),
            "{slow:?} (fast {fast:?})"
        );
    }

    #[test]
    fn delay_response_holds_only_the_answer_to_a_matching_request() {
        let (echo, got) = echo_server();
        let p = FaultProxy::start(echo);
        p.only_when_request_contains(b"POST");
        p.delay_response(Duration::from_millis(400));
        let mut s = connect(&p);
        // Not matching: answered at once.
        let t = Instant::now();
        s.write_all(b"GET").unwrap();
        assert_eq!(read_some(&mut s, 3).0, b"GET");
        assert!(
            t.elapsed() < Duration::from_millis(300),
            "{:?}",
            t.elapsed()
        );
        // Matching: the request reaches the target at once, the answer later.
        let t = Instant::now();
        s.write_all(b"POST").unwrap();
        wait_for("request forwarded", || p.stats().bytes_to_target == 7);
        assert!(
            t.elapsed() < Duration::from_millis(300),
            "{:?}",
            t.elapsed()
        );
        assert_eq!(p.stats().matched, 1);
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        assert!(read_some(&mut s, 4).0.is_empty(), "answered too early");
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        assert_eq!(read_some(&mut s, 4).0, b"POST");
        assert!(
            t.elapsed() >= Duration::from_millis(400),
            "{:?}",
            t.elapsed()
        );
        drop(s);
        assert_eq!(got.recv_timeout(Duration::from_secs(5)).unwrap(), 7);
    }

    #[test]
    fn cut_after_response_bytes_forwards_the_request_and_n_bytes_back() {
        let (echo, got) = echo_server();
        let p = FaultProxy::start(echo);
        p.cut_after_response_bytes(3);
        let mut s = connect(&p);
        s.write_all(b"0123456789").unwrap();
        let (data, closed) = read_some(&mut s, 10);
        assert_eq!(data, b"012");
        assert!(closed, "the connection was not closed after the cut");
        // The target received the whole request.
        assert_eq!(got.recv_timeout(Duration::from_secs(5)).unwrap(), 10);
        assert_eq!(p.stats().cuts, 1);
        // Zero bytes: the answer is lost entirely.
        p.cut_after_response_bytes(0);
        let mut s = connect(&p);
        s.write_all(b"abc").unwrap();
        let (data, closed) = read_some(&mut s, 3);
        assert!(data.is_empty() && closed);
        assert_eq!(got.recv_timeout(Duration::from_secs(5)).unwrap(), 3);
        assert_eq!(p.stats().cuts, 2);
    }

    #[test]
    fn cut_after_request_bytes_forwards_only_n_bytes() {
        let (echo, got) = echo_server();
        let p = FaultProxy::start(echo);
        p.cut_after_request_bytes(4);
        let mut s = connect(&p);
        s.write_all(b"0123456789").unwrap();
        let (data, closed) = read_some(&mut s, 10);
        assert!(closed, "the connection was not closed after the cut");
        assert!(data.len() <= 4, "{data:?}");
        assert_eq!(got.recv_timeout(Duration::from_secs(5)).unwrap(), 4);
        assert_eq!(p.stats().bytes_to_target, 4);
        assert_eq!(p.stats().cuts, 1);
    }

    #[test]
    fn once_goes_back_to_pass_and_pattern_picks_the_request() {
        let (echo, got) = echo_server();
        let p = FaultProxy::start(echo);
        p.only_when_request_contains(b"POST /outbox");
        p.cut_after_response_bytes_once(0);
        // A keep-alive connection: the first exchange does not match.
        let mut s = connect(&p);
        s.write_all(b"GET /ping").unwrap();
        assert_eq!(read_some(&mut s, 9).0, b"GET /ping");
        s.write_all(b"POST /outbox {}").unwrap();
        let (data, closed) = read_some(&mut s, 15);
        assert!(data.is_empty() && closed);
        assert_eq!(got.recv_timeout(Duration::from_secs(5)).unwrap(), 9 + 15);
        assert_eq!(p.mode(), Mode::Pass);
        // Back to pass: the same request now goes through.
        let mut s = connect(&p);
        s.write_all(b"POST /outbox {}").unwrap();
        assert_eq!(read_some(&mut s, 15).0, b"POST /outbox {}");
        assert_eq!(p.stats().cuts, 1);
    }

    #[test]
    fn set_target_moves_new_connections() {
        let (a, _ga) = echo_server();
        let (b, gb) = echo_server();
        let p = FaultProxy::start(a);
        p.set_target(b);
        let mut s = connect(&p);
        s.write_all(b"to b").unwrap();
        assert_eq!(read_some(&mut s, 4).0, b"to b");
        drop(s);
        assert_eq!(gb.recv_timeout(Duration::from_secs(5)).unwrap(), 4);
    }

    #[test]
    fn unreachable_target_closes_the_client() {
        let dead = TcpListener::bind("127.0.0.1:0").unwrap();
        let target = dead.local_addr().unwrap();
        drop(dead);
        let p = FaultProxy::start(target);
        let mut s = connect(&p);
        let _ = s.write_all(b"x");
        let (data, closed) = read_some(&mut s, 1);
        assert!(data.is_empty() && closed);
        wait_for("failure counted", || p.stats().target_failures == 1);
    }
}
