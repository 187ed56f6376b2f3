//! Router tests of the cashier page (tower's `oneshot`, no socket), over a
//! till with the demo's `ART` and `CLI`, and tests over a real socket.

mod customers;
mod login;
mod refusals;
mod sale;
mod serve;
mod support;
