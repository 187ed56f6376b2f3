//! The up path: what the tills send to the server. `POST /api/v1/outbox`
//! takes a till's outbox batch (tickets and other outbox items), stores it
//! in one transaction and answers only after the commit;
//! `POST /api/v1/customers` creates a customer at once.
//!
//! A batch goes through three steps:
//! 1. without the database ([`prepare`], [`signatures`]): parse the body,
//!    and for each ticket its hash and signature (the costly part, on a
//!    blocking thread, while other batches use the database). A ticket
//!    naming another till refuses the whole request (403 `foreign-ticket`,
//!    nothing stored): a till posts only its own tickets.
//! 2. with the database, in one transaction
//!    ([`tillsync_server_db::UpStore::ingest_batch`]): per item, the
//!    idempotency record (`tillsync_received`), then the ticket filed in
//!    `TICKET` or quarantine, or any other kind (customer changes, up-table
//!    rows) applied; the journal line of the push.
//! 3. commit (`synchronous=FULL`; on PostgreSQL a normal commit), then answer
//!    one result per item. The batches waiting meanwhile share one
//!    transaction and one commit ([`group_commit`],
//!    [`tillsync_server_db::UpStore::ingest_batches`]).
//!
//! # Layout
//! - [`outbox`]: the handler of `POST /api/v1/outbox`, running the steps.
//! - [`prepare`]: step 1, the batch parsed and each item checked.
//! - [`signatures`]: step 1, the tickets' signatures verified together.
//! - [`key_cache`]: the tills' ticket public keys, cached.
//! - [`group_commit`]: steps 2 and 3, batches stored together, one commit.
//! - `item`: an item between the steps, and why a batch is refused whole.
//! - [`customers`]: `POST /api/v1/customers`, a customer created from the template customer.

pub mod customers;
pub mod group_commit;
mod item;
pub mod key_cache;
pub mod outbox;
pub mod prepare;
pub mod signatures;
#[cfg(test)]
mod tests;
