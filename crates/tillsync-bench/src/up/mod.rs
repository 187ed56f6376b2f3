//! `bench up`: tickets pushed by many simulated tills to a real server,
//! measured against a no-op authenticated endpoint under the same load
//! generator in the same run.
//!
//! The server is the real one (`tillsync_server::run::start`, SQLite or
//! PostgreSQL, the embedded FTP server idle) on 127.0.0.1:0, in a temp folder
//! made with the demo data. Each simulated till gets real credentials from a
//! deployment package, then seals its whole chain of signed tickets (prices
//! from `ART`) and serialises its batches *before* the clock starts: what is
//! timed is the web service receiving, verifying and durably storing them.
//! Each till has its own HTTP client and sends one batch at a time, as a till
//! does.

pub mod args;
pub mod check;
pub mod load;
pub mod prebuild;
pub mod report;
pub mod run;
