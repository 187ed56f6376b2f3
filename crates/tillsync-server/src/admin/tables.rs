//! The sync tables page: the tables registered down and up, added, edited
//! and removed as the CLI does it, with the conflict policy of an up table.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use tillsync_core::{Direction, Lang, SyncTable, SyncType};
use tillsync_server_db::customers::ConflictPolicy;

use crate::admin::context::{Ctx, FormData};
use crate::admin::layout::http_err;

type Policies = Vec<(String, Direction, ConflictPolicy)>;

fn tables_view(
    ctx: &Ctx,
    tables: &[SyncTable],
    policies: &Policies,
    flash: Option<&str>,
    error: Option<&str>,
    add: &FormData,
) -> Markup {
    let lang = ctx.lang;
    let policy = |t: &SyncTable| {
        policies
            .iter()
            .find(|(n, d, _)| *n == t.table && *d == t.direction)
            .map(|p| p.2)
            .filter(|_| t.direction == Direction::Up)
    };
    let add_val = |k: &str| add.get(k).unwrap_or("").to_string();
    let body = html! {
        @if let Some(f) = flash { p.flash-ok role="status" { (f) } }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        table #sync-tables {
            thead { tr {
                th { (lang.pick("Table", "Table")) }
                th { (lang.pick("Sens", "Direction")) }
                th { (lang.pick("Type de synchronisation", "Sync type")) }
                th { (lang.pick("Colonne de filtre", "Filter column")) }
                th { (lang.pick("Conflits", "Conflicts")) }
                th { (lang.pick("Modifier", "Edit")) }
                th { (lang.pick("Supprimer", "Remove")) }
            } }
            tbody {
                @if tables.is_empty() {
                    tr { td colspan="7" { (lang.pick("Aucune table à synchroniser.", "No sync tables.")) } }
                }
                @for t in tables {
                    @let p = policy(t);
                    tr data-table=(t.table) data-direction=(t.direction.to_string()) {
                        td { (t.table) }
                        td { (t.direction.to_string()) }
                        td { (t.sync_type.to_string()) }
                        td { (t.filter.as_deref().unwrap_or("")) }
                        td { (p.map(|p| p.as_str()).unwrap_or("")) }
                        td {
                            form.inline.edit-table-form method="post" action="/admin/tables/edit" {
                                input type="hidden" name="csrf" value=(ctx.csrf);
                                input type="hidden" name="table" value=(t.table);
                                input type="hidden" name="direction" value=(t.direction.to_string());
                                select name="sync_type" aria-label="sync_type" {
                                    @for s in ["incremental", "full"] {
                                        option value=(s) selected[t.sync_type.to_string() == s] { (s) }
                                    }
                                }
                                input type="text" name="filter_column" size="10" value=(t.filter.as_deref().unwrap_or(""))
                                    placeholder=(lang.pick("filtre", "filter")) aria-label="filter_column";
                                @if t.direction == Direction::Up {
                                    select name="conflict" aria-label="conflict" {
                                        @for c in ConflictPolicy::ALL {
                                            option value=(c.as_str()) selected[p == Some(c)] { (c.as_str()) }
                                        }
                                    }
                                }
                                button type="submit" { (lang.pick("Enregistrer", "Save")) }
                            }
                        }
                        td {
                            form.inline.remove-table-form method="post" action="/admin/tables/remove" {
                                input type="hidden" name="csrf" value=(ctx.csrf);
                                input type="hidden" name="table" value=(t.table);
                                input type="hidden" name="direction" value=(t.direction.to_string());
                                button.danger type="submit" { (lang.pick("Supprimer", "Remove")) }
                            }
                        }
                    }
                }
            }
        }
        h2 { (lang.pick("Ajouter une table", "Add a table")) }
        p.hint { (lang.pick(
            "Une table qui communique dans les deux sens est créée deux fois, une fois dans chaque sens.",
            "A table that travels both ways is added twice, once in each direction.")) }
        form #add-table method="post" action="/admin/tables/add" {
            input type="hidden" name="csrf" value=(ctx.csrf);
            label { (lang.pick("Nom de la table", "Table name"))
                input type="text" name="table" value=(add_val("table")) required; }
            label { (lang.pick("Sens", "Direction"))
                select name="direction" {
                    @for (v, fr, en) in [("down", "descendant (serveur → caisses)", "down (server → tills)"), ("up", "montant (caisses → serveur)", "up (tills → server)")] {
                        option value=(v) selected[add_val("direction") == v] { (lang.pick(fr, en)) }
                    }
                } }
            label { (lang.pick("Type de synchronisation", "Sync type"))
                select name="sync_type" {
                    @for (v, fr, en) in [("incremental", "incrémental", "incremental"), ("full", "complet", "full")] {
                        option value=(v) selected[add_val("sync_type") == v] { (lang.pick(fr, en)) }
                    }
                } }
            label { (lang.pick("Colonne de filtre (par magasin, facultatif)", "Filter column (per store, optional)"))
                input type="text" name="filter_column" value=(add_val("filter_column")); }
            label { (lang.pick("Politique de conflit (table montante)", "Conflict policy (up table)"))
                select name="conflict" {
                    option value="" { "—" }
                    @for c in ConflictPolicy::ALL {
                        option value=(c.as_str()) selected[add_val("conflict") == c.as_str()] { (c.as_str()) }
                    }
                } }
            button #add-table-submit type="submit" { (lang.pick("Ajouter", "Add")) }
        }
    };
    ctx.page(lang.pick("Tables à synchroniser", "Sync tables"), body)
}

async fn tables_response(
    ctx: &Ctx,
    status: StatusCode,
    flash: Option<&str>,
    error: Option<&str>,
    add: &FormData,
) -> Response {
    let loaded = ctx
        .admin
        .app
        .with_db(|db| Ok((db.sync_tables()?, db.conflict_policies()?)))
        .await;
    match loaded {
        Ok((tables, policies)) => (
            status,
            tables_view(ctx, &tables, &policies, flash, error, add),
        )
            .into_response(),
        Err(e) => http_err(ctx.lang, e),
    }
}

pub(crate) async fn tables(ctx: Ctx) -> Response {
    tables_response(&ctx, StatusCode::OK, None, None, &FormData(Vec::new())).await
}

/// A sync table and conflict policy from a form, checked as the CLI checks them.
fn table_from_form(
    form: &FormData,
    lang: Lang,
) -> Result<(SyncTable, Option<ConflictPolicy>), String> {
    let field = |k: &str| form.get(k).map(str::trim).unwrap_or("");
    let direction: Direction = field("direction").parse().map_err(|e| format!("{e}"))?;
    let sync_type: SyncType = field("sync_type").parse().map_err(|e| format!("{e}"))?;
    let filter = Some(field("filter_column"))
        .filter(|f| !f.is_empty())
        .map(String::from);
    let policy = match field("conflict") {
        "" => None,
        p => Some(p.parse::<ConflictPolicy>().map_err(|e| e.to_string())?),
    };
    if field("table").is_empty() {
        return Err(lang
            .pick(
                "Le nom de la table est obligatoire.",
                "The table name is required.",
            )
            .into());
    }
    let t =
        SyncTable::new(field("table"), sync_type, direction, filter).map_err(|e| e.to_string())?;
    Ok((t, policy))
}

pub(crate) async fn table_add(ctx: Ctx, form: FormData) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let lang = ctx.lang;
    let (t, policy) = match table_from_form(&form, lang) {
        Ok(v) => v,
        Err(e) => {
            return tables_response(
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(&e),
                &form,
            )
            .await;
        }
    };
    let t2 = t.clone();
    let added = ctx
        .admin
        .app
        .with_db(move |db| {
            Ok(db
                .add_sync_table_with_policy(&t2, policy)
                .map_err(|e| e.to_string()))
        })
        .await;
    match added {
        Ok(Ok(_)) => {
            let msg = format!(
                "{} {} ({}, {})",
                lang.pick("Table ajoutée :", "Table added:"),
                t.table,
                t.direction,
                t.sync_type
            );
            tables_response(
                &ctx,
                StatusCode::OK,
                Some(&msg),
                None,
                &FormData(Vec::new()),
            )
            .await
        }
        Ok(Err(e)) => {
            tables_response(
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(&e),
                &form,
            )
            .await
        }
        Err(e) => http_err(lang, e),
    }
}

pub(crate) async fn table_edit(ctx: Ctx, form: FormData) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let lang = ctx.lang;
    let empty = FormData(Vec::new());
    let (t, policy) = match table_from_form(&form, lang) {
        Ok(v) => v,
        Err(e) => {
            return tables_response(
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(&e),
                &empty,
            )
            .await;
        }
    };
    let t2 = t.clone();
    let edited = ctx
        .admin
        .app
        .with_db(move |db| Ok(db.edit_sync_table(&t2, policy).map_err(|e| e.to_string())))
        .await;
    match edited {
        Ok(Ok(_)) => {
            let msg = format!(
                "{} {} ({})",
                lang.pick("Table modifiée :", "Table changed:"),
                t.table,
                t.direction
            );
            tables_response(&ctx, StatusCode::OK, Some(&msg), None, &empty).await
        }
        Ok(Err(e)) => {
            tables_response(
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(&e),
                &empty,
            )
            .await
        }
        Err(e) => http_err(lang, e),
    }
}

pub(crate) async fn table_remove(ctx: Ctx, form: FormData) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let lang = ctx.lang;
    let empty = FormData(Vec::new());
    let table = form.get("table").unwrap_or("").trim().to_string();
    let direction: Direction = match form.get("direction").unwrap_or("").parse() {
        Ok(d) => d,
        Err(e) => {
            let e = format!("{e}");
            return tables_response(
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(&e),
                &empty,
            )
            .await;
        }
    };
    let t2 = table.clone();
    let removed = ctx
        .admin
        .app
        .with_db(move |db| {
            Ok(db
                .remove_sync_table(&t2, direction)
                .map_err(|e| e.to_string()))
        })
        .await;
    match removed {
        Ok(Ok(())) => {
            let msg = format!(
                "{} {table} ({direction})",
                lang.pick("Table supprimée :", "Table removed:")
            );
            tables_response(&ctx, StatusCode::OK, Some(&msg), None, &empty).await
        }
        Ok(Err(e)) => {
            tables_response(
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(&e),
                &empty,
            )
            .await
        }
        Err(e) => http_err(lang, e),
    }
}
