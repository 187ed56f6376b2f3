//! The fault plans of the [`FaultProxy`](crate::proxy::FaultProxy): the
//! [`Mode`]s, one connection's fault bookkeeping, and the decision taken for
//! each chunk read.

use std::time::Duration;

/// What the proxy does with connections and bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward both ways, untouched.
    Pass,
    /// Stop listening: connections are refused (`ECONNREFUSED`), and live
    /// connections are closed, as when the server process is gone.
    Refuse,
    /// Accept, never forward nor answer: the client waits until its own
    /// timeout. Bytes read are discarded; a connection that swallowed bytes
    /// stays a black hole even after the mode changes back.
    DropAll,
    /// Forward both ways, each chunk after this delay.
    Delay(Duration),
    /// Forward requests at once, each chunk of the response after this delay
    /// (the client has sent and waits; the server has answered). With a
    /// pattern, only the responses to matching requests.
    DelayResponse(Duration),
    /// Forward the request, then N bytes of the response, then close both
    /// sides: "the server committed but the client never read the answer".
    CutAfterResponseBytes(u64),
    /// Forward N bytes of the request, then close both sides.
    CutAfterRequestBytes(u64),
}

/// One connection's fault bookkeeping, shared by its two pumps.
pub(super) struct ConnState {
    pub(super) epoch: u64,
    /// The cut budgets run (no pattern, or the pattern was seen).
    pub(super) armed: bool,
    pub(super) request_bytes: u64,
    pub(super) response_bytes: u64,
    /// Tail of the request bytes, to find a pattern split across chunks.
    pub(super) tail: Vec<u8>,
    /// Bytes were swallowed: the stream is broken for good.
    pub(super) poisoned: bool,
    pub(super) cut: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    /// Client to target.
    Request,
    /// Target to client.
    Response,
}

/// What to do with one chunk.
pub(super) enum Action {
    Forward(usize),
    /// Wait, then forward the whole chunk.
    DelayThenForward(Duration),
    /// Forward this many bytes, then cut the connection.
    ForwardThenCut(usize),
    Discard,
}

pub(super) fn decide(c: &mut ConnState, mode: Mode, side: Side, n: usize) -> Action {
    if c.poisoned || mode == Mode::DropAll {
        c.poisoned = true;
        return Action::Discard;
    }
    let budget = |limit: u64, used: &mut u64| {
        let left = limit.saturating_sub(*used).min(n as u64) as usize;
        *used += left as u64;
        if *used >= limit {
            Action::ForwardThenCut(left)
        } else {
            Action::Forward(left)
        }
    };
    match (mode, side) {
        (Mode::CutAfterRequestBytes(limit), Side::Request) if c.armed => {
            budget(limit, &mut c.request_bytes)
        }
        (Mode::CutAfterResponseBytes(limit), Side::Response) if c.armed => {
            budget(limit, &mut c.response_bytes)
        }
        (Mode::Delay(d), _) => Action::DelayThenForward(d),
        (Mode::DelayResponse(d), Side::Response) if c.armed => Action::DelayThenForward(d),
        _ => Action::Forward(n),
    }
}
