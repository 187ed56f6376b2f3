//! `tillsync demo`: a server with demo data, its web service and embedded FTP
//! server on loopback, tills T001 and T002 installed from deployment
//! packages, a full load, changes made straight in the server database (as the
//! ERP would), an incremental load, the up path, a day closed, archived and
//! verified on each till, an altered archive caught, and a summary. Exits 0
//! only if every till matches the server, every archive verifies and the
//! altered copy is caught.
//!
//! With `--serve`, after the summary the server (web service, admin pages,
//! embedded FTP) and both tills' synchronisers with their cashier pages keep
//! running until Ctrl-C or SIGTERM; the admin pages get a generated password,
//! printed once with the URLs.
//!
//! # Layout
//! - [`run`](mod@run): `tillsync demo`'s arguments and its walk: the server
//!   and its services started, the tills installed, the full and incremental
//!   loads, the up path, the summary printed, `--serve` handed over.
//! - [`scenario`]: the scenario's fixed parts: the two tills, the export, the
//!   ERP's changes in the server database.
//! - [`up`]: the up path: sales online and offline, customers created, edited
//!   offline and abandoned, the outboxes pushed and checked on the server.
//! - [`fiscal`]: the fiscal walk: each till's day closed, sent up, archived
//!   (by the till and by the server) and verified; an altered copy caught.
//! - [`summary`]: what the demo reports (JSON with `--json`), the tills'
//!   tables compared with the server's, and the text form.
//! - [`serve`]: `demo --serve`: the admin password, the tills' synchronisers
//!   and cashier pages, running until Ctrl-C or SIGTERM.

pub mod fiscal;
pub mod run;
pub mod scenario;
pub mod serve;
pub mod summary;
pub mod up;

pub use run::{DemoArgs, run};
