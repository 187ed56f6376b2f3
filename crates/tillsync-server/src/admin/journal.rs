//! The sync journal page: the newest lines of the journal, for one till or
//! all.

use axum::extract::Query;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;
use tillsync_server_db::journal::JournalEntry;

use crate::admin::context::Ctx;
use crate::admin::layout::http_err;

/// Lines shown by the journal page.
pub const JOURNAL_LINES: u32 = 500;

#[derive(Deserialize)]
pub(crate) struct JournalQuery {
    till: Option<String>,
}

pub(crate) async fn journal(ctx: Ctx, Query(q): Query<JournalQuery>) -> Response {
    let lang = ctx.lang;
    let till = q.till.filter(|t| !t.trim().is_empty());
    let t2 = till.clone();
    let loaded = ctx
        .admin
        .app
        .with_db(move |db| {
            let ids: Vec<String> = db.tills()?.into_iter().map(|t| t.till_id).collect();
            Ok((db.journal_entries(t2.as_deref(), JOURNAL_LINES)?, ids))
        })
        .await;
    let (entries, ids): (Vec<JournalEntry>, Vec<String>) = match loaded {
        Ok(v) => v,
        Err(e) => return http_err(lang, e),
    };
    let body = html! {
        form #journal-filter method="get" action="/admin/journal" {
            label.inline { (lang.pick("Caisse", "Till")) " "
                select name="till" {
                    option value="" { (lang.pick("toutes", "all")) }
                    @for id in &ids {
                        option value=(id) selected[till.as_deref() == Some(id.as_str())] { (id) }
                    }
                }
            }
            button type="submit" { (lang.pick("Filtrer", "Filter")) }
        }
        p.hint { (lang.pick("Les ", "The ")) (JOURNAL_LINES) (lang.pick(" lignes les plus récentes.", " most recent lines.")) }
        table #journal {
            thead { tr {
                th { (lang.pick("Date", "When")) }
                th { (lang.pick("Caisse", "Till")) }
                th { (lang.pick("Quoi", "What")) }
                th { (lang.pick("Résultat", "Result")) }
                th { (lang.pick("Détail", "Detail")) }
            } }
            tbody {
                @if entries.is_empty() {
                    tr { td colspan="5" { (lang.pick("Aucune ligne.", "No lines.")) } }
                }
                @for e in &entries {
                    tr data-till=(e.till.as_deref().unwrap_or("")) {
                        td { (e.at) }
                        td { (e.till.as_deref().unwrap_or("")) }
                        td { (e.kind) }
                        td { (e.result) }
                        td { (e.detail) }
                    }
                }
            }
        }
    };
    ctx.page(
        lang.pick("Journal de synchronisation", "Sync journal"),
        body,
    )
    .into_response()
}
