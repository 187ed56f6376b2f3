//! The web service the tills call, JSON under `/api/v1` (see
//! `docs/http-api.md`), with `GET /metrics` and the admin pages on the same
//! router. Its shared state is a leaf ([`state`]): every handler imports
//! it, the router imports the handlers.
//!
//! # Layout
//! - [`state`]: `AppState`, its database connections and background threads.
//! - [`error`]: `HttpError`, an error answered as JSON with its status.
//! - [`till`]: `Till`, the calling till authenticated from its credentials.
//! - [`router`]: every route, the 404, the request-counting middleware; the OpenAPI document.
//! - [`ping`]: `GET /api/v1/ping` and `GET /api/v1/noop`.
//! - [`missing`]: `GET /api/v1/tickets/missing`, the calling till's ticket numbers not received.
//! - [`packages`]: `POST /api/v1/packages/available`, a till's plan of packages.
//! - [`catalog`]: the catalog the polling path reads, kept per generation and refreshed in the background.
//! - [`bookkeeping`]: when a till's contact, reported versions and "packages-asked" line are written.
//! - [`batcher`]: calls served in groups by threads with a connection each (PostgreSQL).
//! - [`metrics`]: `GET /metrics` (Prometheus text format).
//! - [`counters`]: the counters of this server process.
//! - [`serve`]: the accept loop over plain HTTP/1.1 or TLS.

pub mod batcher;
pub mod bookkeeping;
pub mod catalog;
pub mod counters;
pub mod error;
pub mod metrics;
pub mod missing;
pub mod packages;
pub mod ping;
pub mod router;
pub mod serve;
pub mod state;
pub mod till;
