//! `bench fleet`: many light simulated tills polling a real server
//! process on their own schedule, with the server's latency, errors, peak
//! memory and CPU measured against the fleet targets.
//!
//! The server is `tillsync server run` (this executable) as a child process,
//! so that its RSS and CPU are read alone from `/proc/PID`. Its data folder
//! is made fresh: demo data (the realistic sync tables `ART`, `CLI` by store,
//! `T012`, `STORE_TILL`), one export so packages are published, and N tills
//! with credentials. Each simulated till has its own HTTP client and so its
//! own keep-alive connection, as separate machines would (10,000 tills are
//! 10,000 sockets on each side): every `--interval-ms` (±10 %, from a random
//! phase) it asks `POST /api/v1/packages/available` with its table versions
//! and the Bearer credentials of a real till, and every `--push-every`
//! cycles it pushes a small batch of valid signed tickets to
//! `POST /api/v1/outbox`. Requests made during the warm-up (connections,
//! first contacts) count as errors if they fail but are left out of the
//! latency figures.

pub mod args;
pub mod report;
pub mod run;
pub mod server;
pub mod setup;
pub mod till;
