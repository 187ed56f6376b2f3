//! The proxy's threads: the accept loop (closing and reopening the port for
//! [`Mode::Refuse`]), one thread per connection, and the two pumps that
//! carry each connection's chunks under the current fault plan.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::proxy::plan::{Action, ConnState, Mode, Side, decide};

/// How long a connection to the target may take before the client side is closed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Size of the chunks read on each side.
const CHUNK: usize = 16 * 1024;

pub(super) struct Shared {
    pub(super) state: Mutex<State>,
    pub(super) changed: Condvar,
    pub(super) conns: Mutex<HashMap<u64, Vec<TcpStream>>>,
    pub(super) next_conn: AtomicU64,
    pub(super) connections: AtomicU64,
    pub(super) bytes_to_target: AtomicU64,
    pub(super) bytes_to_client: AtomicU64,
    pub(super) bytes_dropped: AtomicU64,
    pub(super) cuts: AtomicU64,
    pub(super) target_failures: AtomicU64,
    pub(super) matched: AtomicU64,
}

pub(super) struct State {
    pub(super) mode: Mode,
    /// Incremented at every change of mode or filter.
    pub(super) epoch: u64,
    /// Back to [`Mode::Pass`] after the first cut.
    pub(super) once: bool,
    /// Only requests holding these bytes are cut.
    pub(super) pattern: Option<Vec<u8>>,
    pub(super) target: SocketAddr,
    /// Whether the accept thread holds a bound listener.
    pub(super) listening: bool,
    pub(super) stopping: bool,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    pub(super) fn close_all(&self) {
        for streams in lock(&self.conns).values() {
            for s in streams {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
    }

    fn close(&self, id: u64) {
        if let Some(streams) = lock(&self.conns).get(&id) {
            for s in streams {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
    }

    fn register(&self, id: u64, s: &TcpStream) {
        if let Ok(c) = s.try_clone() {
            lock(&self.conns).entry(id).or_default().push(c);
        }
    }
}

pub(super) fn accept_loop(
    shared: Arc<Shared>,
    addr: SocketAddr,
    mut listener: Option<TcpListener>,
) {
    loop {
        let (mode, stopping) = {
            let st = lock(&shared.state);
            (st.mode, st.stopping)
        };
        if stopping {
            return;
        }
        if mode == Mode::Refuse {
            if listener.take().is_some() {
                shared.close_all();
                let mut st = lock(&shared.state);
                st.listening = false;
                shared.changed.notify_all();
            }
            let mut st = lock(&shared.state);
            while st.mode == Mode::Refuse && !st.stopping {
                st = shared.changed.wait(st).unwrap_or_else(|p| p.into_inner());
            }
            continue;
        }
        let Some(l) = listener.as_ref() else {
            // Listen again on the same port (std sets SO_REUSEADDR).
            match TcpListener::bind(addr) {
                Ok(l) => {
                    listener = Some(l);
                    let mut st = lock(&shared.state);
                    st.listening = true;
                    shared.changed.notify_all();
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
            continue;
        };
        match l.accept() {
            Ok((client, _)) => {
                let (mode, stopping) = {
                    let st = lock(&shared.state);
                    (st.mode, st.stopping)
                };
                if stopping || mode == Mode::Refuse {
                    // The wake-up connection, or a client racing the switch.
                    continue;
                }
                shared.connections.fetch_add(1, Ordering::SeqCst);
                let s = shared.clone();
                let _ = std::thread::Builder::new()
                    .name("fault-proxy-conn".into())
                    .spawn(move || connection(s, client));
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn connection(shared: Arc<Shared>, client: TcpStream) {
    let id = shared.next_conn.fetch_add(1, Ordering::SeqCst);
    let _ = client.set_nodelay(true);
    shared.register(id, &client);
    let (mode, epoch, pattern, target) = {
        let st = lock(&shared.state);
        (st.mode, st.epoch, st.pattern.clone(), st.target)
    };
    if mode == Mode::Refuse {
        // Registered after the switch closed every connection.
        let _ = client.shutdown(Shutdown::Both);
        lock(&shared.conns).remove(&id);
        return;
    }
    let conn = Arc::new(Mutex::new(ConnState {
        epoch,
        armed: pattern.is_none(),
        request_bytes: 0,
        response_bytes: 0,
        tail: Vec::new(),
        poisoned: mode == Mode::DropAll,
        cut: false,
    }));
    let upstream = if mode == Mode::DropAll {
        // A black hole never reaches the target.
        None
    } else {
        match TcpStream::connect_timeout(&target, CONNECT_TIMEOUT) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                shared.register(id, &s);
                Some(s)
            }
            Err(_) => {
                shared.target_failures.fetch_add(1, Ordering::SeqCst);
                let _ = client.shutdown(Shutdown::Both);
                lock(&shared.conns).remove(&id);
                return;
            }
        }
    };
    match upstream {
        None => {
            let mut c = client;
            let mut buf = vec![0u8; CHUNK];
            while let Ok(n) = c.read(&mut buf) {
                if n == 0 {
                    break;
                }
                shared.bytes_dropped.fetch_add(n as u64, Ordering::SeqCst);
            }
        }
        Some(up) => {
            let (c2, u2) = match (client.try_clone(), up.try_clone()) {
                (Ok(c), Ok(u)) => (c, u),
                _ => {
                    shared.close(id);
                    lock(&shared.conns).remove(&id);
                    return;
                }
            };
            let (s, k) = (shared.clone(), conn.clone());
            let back = std::thread::Builder::new()
                .name("fault-proxy-pump".into())
                .spawn(move || pump(&s, id, &k, u2, c2, Side::Response));
            pump(&shared, id, &conn, client, up, Side::Request);
            if let Ok(h) = back {
                let _ = h.join();
            }
        }
    }
    shared.close(id);
    lock(&shared.conns).remove(&id);
}

fn pump(
    shared: &Shared,
    id: u64,
    conn: &Mutex<ConnState>,
    mut from: TcpStream,
    mut to: TcpStream,
    side: Side,
) {
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => {
                // Half-close: the other side sees the end of this stream.
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            Ok(n) => n,
        };
        let (mode, epoch, once, pattern) = {
            let st = lock(&shared.state);
            (st.mode, st.epoch, st.once, st.pattern.clone())
        };
        let action = {
            let mut c = lock(conn);
            if c.cut {
                Action::Discard
            } else {
                if c.epoch != epoch {
                    c.epoch = epoch;
                    c.armed = pattern.is_none();
                    c.request_bytes = 0;
                    c.response_bytes = 0;
                    c.tail.clear();
                }
                if side == Side::Request
                    && let Some(p) = &pattern
                {
                    let mut window = std::mem::take(&mut c.tail);
                    window.extend_from_slice(&buf[..n]);
                    if window.windows(p.len()).any(|w| w == p.as_slice()) {
                        shared.matched.fetch_add(1, Ordering::SeqCst);
                        if !c.armed {
                            // A new matching request: budgets count from here.
                            c.request_bytes = 0;
                            c.response_bytes = 0;
                        }
                        c.armed = true;
                    }
                    let keep = p.len().saturating_sub(1).min(window.len());
                    c.tail = window[window.len() - keep..].to_vec();
                }
                decide(&mut c, mode, side, n)
            }
        };
        let (forward, cut) = match action {
            Action::Forward(k) => (k, false),
            Action::DelayThenForward(d) => {
                std::thread::sleep(d);
                (n, false)
            }
            Action::ForwardThenCut(k) => (k, true),
            Action::Discard => (0, false),
        };
        if forward > 0 {
            if to.write_all(&buf[..forward]).is_err() {
                let _ = from.shutdown(Shutdown::Read);
                return;
            }
            let counter = match side {
                Side::Request => &shared.bytes_to_target,
                Side::Response => &shared.bytes_to_client,
            };
            counter.fetch_add(forward as u64, Ordering::SeqCst);
        }
        if forward < n {
            shared
                .bytes_dropped
                .fetch_add((n - forward) as u64, Ordering::SeqCst);
        }
        if cut {
            let first = {
                let mut c = lock(conn);
                !std::mem::replace(&mut c.cut, true)
            };
            if first {
                shared.cuts.fetch_add(1, Ordering::SeqCst);
                if once {
                    let mut st = lock(&shared.state);
                    if st.epoch == epoch {
                        st.mode = Mode::Pass;
                        st.once = false;
                        st.epoch += 1;
                        shared.changed.notify_all();
                    }
                }
            }
            shared.close(id);
            return;
        }
    }
}
