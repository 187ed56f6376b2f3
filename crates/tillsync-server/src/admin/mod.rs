//! The admin web pages at `/admin` (see `docs/admin-pages.md`): login of the
//! folder's administrator, the POS folder tabs, the sync tables, the till
//! supervisor and the sync journal, and "export now". Server-rendered HTML
//! (maud), one small CSS file served by the binary, no JavaScript.
//!
//! # Layout
//! - `router`: the routes, the security headers, the CSS.
//! - `context`: the admin pages' state, the logged-in administrator's context, forms and CSRF, cookies.
//! - `layout`: the frame of every page, and the error pages.
//! - [`auth`]: password hash, signed session cookies, CSRF tokens, lockout.
//! - `i18n`: shared French and English texts.
//! - `login`: login and logout.
//! - `folder`: the POS folder tabs and "Test connection".
//! - `tables`: the sync tables.
//! - `tills`: the till supervisor, deployment packages, revocation.
//! - `journal`: the sync journal.
//! - `export_job`: the "export now" job of this process and its progress.
//! - `export_page`: the export page that starts it and shows it.

// Handlers short-circuit with the page to answer (`Result<_, Response>`);
// a response is larger than clippy likes in an `Err`, and that is fine here.
#![allow(clippy::result_large_err)]

pub mod auth;
mod context;
mod export_job;
mod export_page;
mod folder;
mod i18n;
mod journal;
mod layout;
mod login;
pub mod router;
mod tables;
mod tills;

#[cfg(test)]
mod tests;
