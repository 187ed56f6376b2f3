//! A fault-injecting TCP proxy for tests: put it between a till and the
//! server and switch, at run time, between passing bytes through, refusing
//! connections, swallowing everything (a black hole), delaying every chunk or
//! only the answers, and cutting a connection after N bytes of the request or
//! of the response.
//!
//! The mode applies to live connections as well as new ones: every chunk read
//! on either side is handled by the mode current at that moment. The byte
//! budgets of the cut modes count per connection from the moment the mode was
//! set (or, with [`FaultProxy::only_when_request_contains`], from the chunk of
//! the request that holds the pattern), so a pooled keep-alive connection is
//! cut like a fresh one.
//!
//! # Example
//! ```no_run
//! use tillsync_testkit::proxy::FaultProxy;
//! let server: std::net::SocketAddr = "127.0.0.1:8080".parse().unwrap();
//! let proxy = FaultProxy::start(server);
//! // the till talks to proxy.addr(); cut the answer of the next outbox post
//! proxy.only_when_request_contains(b"POST /api/v1/outbox");
//! proxy.cut_after_response_bytes_once(0);
//! // ... sync ...
//! assert_eq!(proxy.stats().cuts, 1);
//! ```
//!
//! # Layout
//! - `control`: [`FaultProxy`] (start, mode switches, counters, stop).
//! - `forward`: the accept loop, one thread per connection, the two pumps.
//! - `plan`: the fault plans: [`Mode`] and the decision for each chunk.

mod control;
mod forward;
mod plan;

// For the tests of other crates (`tillsync_testkit::proxy::FaultProxy`).
pub use control::{FaultProxy, ProxyStats};
pub use plan::Mode;
