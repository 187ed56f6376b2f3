//! The cashier page that `till run` serves on loopback (`till.listen`):
//! the cashiers' PIN login, find items, build a ticket, take payment, show
//! the receipt (printed on request, duplicates); create, edit
//! and abandon customers; a connection indicator and the count of tickets
//! waiting to go up. Server-rendered HTML (maud) with one small script;
//! every asset is in the binary.
//!
//! The page records nothing itself: a sale goes through
//! [`Register::sell`](crate::up::sell::Register::sell) (the path of
//! `till sell`), customers through [`crate::up::customers`] (the path of
//! `till customer create|edit|abandon`). The ticket being built lives in a
//! server-side cart per browser session until payment is taken.
//!
//! When the till's `CASHIER` table holds cashiers of its store, a cashier
//! logs in by PIN first (`login`); that says who sells, it is no network
//! barrier: the page listens on loopback unless explicitly allowed
//! otherwise, checks the `Host` header (against DNS rebinding), and every
//! form carries a CSRF token that must match the session cookie.
//!
//! Every handler runs its work on tokio's blocking pool (SQLite and the web
//! service client are synchronous). Forms are POSTed with the CSRF field; a
//! change answers with a redirect (303) to a page that shows its outcome, a
//! refusal with the page again and its `.error`, the values typed kept.
//!
//! # Layout
//! - [`serve`]: the listen address, the page's thread and runtime, stopping it.
//! - [`router`]: each route to its handler, behind the guard.
//! - `guard`: the `Host` check and the headers every answer carries.
//! - [`state`]: [`Cashier`](state::Cashier), what the handlers share (the
//!   open till, sessions, connection state), and the blocking-pool runner.
//! - `reply`: form fields, HTML answers, redirects.
//! - `session`: the session cookie, CSRF check and carts.
//! - [`items`]: finding items in the till's `ART` by code, label or barcode.
//! - `refusal`: the refusals shown, in the page's language.
//! - `login`: the cashiers' PIN login and the layer that sends to it.
//! - `throttle`: the login's lock after wrong PINs (a leaf).
//! - Handlers, one file per page: `sale` (`/`, `/ticket/*`), `pay`
//!   (`/pay`), `receipt` (`/receipt/N`, duplicates, `/tickets`), `customers` (`/customers*`),
//!   `status` (`/status.json`), `assets` (`/assets/*`).
//! - `pages`: the HTML (French or English), one file per page.

mod assets;
mod customers;
mod guard;
pub mod items;
mod login;
mod pages;
mod pay;
mod receipt;
mod refusal;
mod reply;
pub mod router;
mod sale;
pub mod serve;
mod session;
pub mod state;
mod status;
#[cfg(test)]
mod tests;
mod throttle;
