//! The admin page handlers: POS folder tabs with "Test connection", sync
//! tables, the till supervisor (with deployment packages and revocation)
//! and the sync journal.

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use tillsync_core::config::KEYS;
use tillsync_core::{Direction, Lang, SyncTable, SyncType};
use tillsync_store::server::TableState;
use tillsync_store::server_admin::JournalEntry;
use tillsync_store::server_customers::ConflictPolicy;
use tillsync_store::server_up::TillOverview;

use super::i18n::{self, TABS};
use super::{Ctx, FormData, error_page};
use crate::http::error::HttpError;

fn internal(lang: Lang, e: impl std::fmt::Display) -> Response {
    error_page(lang, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string())
}

fn http_err(lang: Lang, e: HttpError) -> Response {
    internal(lang, e.message())
}

// ---------------------------------------------------------------- POS folder

#[derive(Deserialize)]
pub(crate) struct TabQuery {
    tab: Option<String>,
}

fn tab_of(q: &TabQuery) -> &'static i18n::Tab {
    let id = q.tab.as_deref().unwrap_or("server");
    TABS.iter().find(|t| t.0 == id).unwrap_or(&TABS[0])
}

fn is_secret(key: &str) -> bool {
    KEYS.iter().any(|(k, _, s)| *k == key && *s)
}

/// Suggested values of the keys that take one of a few words.
fn choices(key: &str) -> Option<&'static [&'static str]> {
    match key {
        "ftp.mode" => Some(&["copy", "put"]),
        "ftp.embedded" => Some(&["true", "false"]),
        "ui.language" => Some(&["fr", "en"]),
        _ => None,
    }
}

/// What the folder page shows besides the fields.
#[derive(Default)]
struct FolderExtras {
    /// Submitted values to show again (after a refused save).
    values: HashMap<String, String>,
    /// Per-field errors.
    errors: Vec<(String, String)>,
    /// A success message.
    flash: Option<String>,
    /// A refusal not tied to one field.
    error: Option<String>,
    /// "Test connection": success and diagnosis.
    test: Option<(bool, String)>,
}

fn folder_view(ctx: &Ctx, tab: &i18n::Tab, x: &FolderExtras) -> Markup {
    let lang = ctx.lang;
    let (id, _, _, keys) = *tab;
    let body = html! {
        nav.tabs {
            @for (tid, fr, en, _) in TABS {
                a.active[*tid == id] href={ "/admin/folder?tab=" (tid) } { (lang.pick(fr, en)) }
            }
        }
        @if let Some(f) = &x.flash { p.flash-ok role="status" { (f) } }
        @if let Some(e) = &x.error { p.error role="alert" { (e) } }
        form #folder-form method="post" action={ "/admin/folder?tab=" (id) } {
            input type="hidden" name="csrf" value=(ctx.csrf);
            @for key in keys.iter().copied() {
                @let secret = is_secret(key);
                @let value = if secret { String::new() } else {
                    x.values.get(key).cloned().unwrap_or_else(|| ctx.cfg.get(key).unwrap_or_default())
                };
                div.field {
                    label for=(key) { (i18n::field_label(lang, key)) " " code { (key) } }
                    @if secret {
                        input type="password" id=(key) name=(key) value="" autocomplete="new-password"
                            placeholder=(lang.pick("inchangé si vide", "unchanged when empty"));
                    } @else if let Some(list) = choices(key) {
                        input type="text" id=(key) name=(key) value=(value) list={ (key) "-choices" };
                        datalist id={ (key) "-choices" } {
                            @for c in list { option value=(c) {} }
                        }
                    } @else {
                        input type="text" id=(key) name=(key) value=(value);
                    }
                    p.hint { (i18n::hint(lang, key)) }
                    @for (k, msg) in &x.errors {
                        @if k == key { p.field-error data-field=(key) role="alert" { (msg) } }
                    }
                }
            }
            button #save type="submit" { (lang.pick("Enregistrer", "Save")) }
        }
        @if id == "db" || id == "ftp" {
            h2 { (lang.pick("Tester la connexion", "Test connection")) }
            p.hint { (lang.pick(
                "Le test utilise la configuration enregistrée (comme `tillsync server check`).",
                "The test uses the saved configuration (as `tillsync server check` does).")) }
            form.test-form method="post" action={ "/admin/folder/test?tab=" (id) } {
                input type="hidden" name="csrf" value=(ctx.csrf);
                @if id == "db" {
                    input type="hidden" name="what" value="db";
                    button #test-db type="submit" { (lang.pick("Tester la connexion à la base", "Test the database connection")) }
                } @else {
                    input type="hidden" name="what" value="ftp";
                    button #test-ftp type="submit" { (lang.pick("Tester la connexion FTP", "Test the FTP connection")) }
                }
            }
            @if let Some((ok, text)) = &x.test {
                pre #test-result class=(if *ok { "ok" } else { "failed" }) { (text) }
            }
        }
    };
    ctx.page(lang.pick("Dossier TPV", "POS folder"), body)
}

pub(crate) async fn folder(ctx: Ctx, Query(q): Query<TabQuery>) -> Response {
    folder_view(&ctx, tab_of(&q), &FolderExtras::default()).into_response()
}

pub(crate) async fn folder_save(ctx: Ctx, Query(q): Query<TabQuery>, form: FormData) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let lang = ctx.lang;
    let tab = tab_of(&q);
    let mut cfg = ctx.cfg.clone();
    let mut x = FolderExtras::default();
    let mut changed = Vec::new();
    for key in tab.3.iter().copied() {
        let Some(value) = form.get(key) else { continue };
        if is_secret(key) {
            if value.is_empty() {
                continue;
            }
        } else {
            x.values.insert(key.to_string(), value.to_string());
            if cfg.get(key).ok().as_deref() == Some(value) {
                continue;
            }
        }
        match cfg.set(key, value) {
            Ok(()) => changed.push(key),
            Err(e) => x
                .errors
                .push((key.to_string(), i18n::config_error(lang, &e))),
        }
    }
    if !x.errors.is_empty() {
        x.error = Some(
            lang.pick(
                "Rien n'a été enregistré : corrigez les champs signalés.",
                "Nothing was saved: correct the fields marked.",
            )
            .to_string(),
        );
        return (StatusCode::UNPROCESSABLE_ENTITY, folder_view(&ctx, tab, &x)).into_response();
    }
    if !changed.is_empty() {
        let dir = ctx.admin.app.data.path().to_path_buf();
        let save = {
            let cfg = cfg.clone();
            tokio::task::spawn_blocking(move || cfg.save(&dir)).await
        };
        match save {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                x.error = Some(i18n::config_error(lang, &e));
                return (StatusCode::UNPROCESSABLE_ENTITY, folder_view(&ctx, tab, &x))
                    .into_response();
            }
            Err(e) => return internal(lang, e),
        }
        tracing::info!(keys = ?changed, "configuration changed from the admin pages");
    }
    let ctx = Ctx { cfg, ..ctx };
    let restart = changed.iter().any(|k| {
        k.starts_with("server.")
            || k.starts_with("ftp.")
            || *k == "db.url"
            || *k == "export.interval_ms"
    });
    x.values.clear();
    x.flash = Some(match (changed.is_empty(), restart) {
        (true, _) => lang
            .pick("Aucune modification.", "Nothing changed.")
            .to_string(),
        (false, false) => lang.pick("Enregistré.", "Saved.").to_string(),
        (false, true) => lang
            .pick(
                "Enregistré. Certains changements prennent effet au redémarrage du serveur.",
                "Saved. Some changes take effect when the server restarts.",
            )
            .to_string(),
    });
    folder_view(&ctx, tab, &x).into_response()
}

/// The "Test connection" diagnosis, worded as `tillsync server check db|ftp` prints it.
pub(crate) fn check_text(data: &crate::data::DataDir, what: &str) -> (bool, String) {
    match what {
        "db" => match crate::check::check_db(data) {
            Ok(r) => (true, r.to_string()),
            Err(e) => (false, format!("database check failed: {e}")),
        },
        _ => match crate::check::check_ftp_server(data) {
            Ok(r) => (true, format!("FTP OK: {r}")),
            Err(e) => (false, format!("FTP check failed: {e}")),
        },
    }
}

pub(crate) async fn folder_test(ctx: Ctx, Query(q): Query<TabQuery>, form: FormData) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let what = if form.get("what") == Some("ftp") {
        "ftp"
    } else {
        "db"
    };
    let data = ctx.admin.app.data.clone();
    let result = tokio::task::spawn_blocking(move || check_text(&data, what)).await;
    let test = match result {
        Ok(t) => t,
        Err(e) => return internal(ctx.lang, e),
    };
    let tab = tab_of(&TabQuery {
        tab: q.tab.or(Some(what.to_string())),
    });
    let x = FolderExtras {
        test: Some(test),
        ..Default::default()
    };
    folder_view(&ctx, tab, &x).into_response()
}

// ---------------------------------------------------------------- sync tables

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

// ---------------------------------------------------------------- tills

/// A till is online when its recorded last contact is at most
/// `2 × till.ping_timeout_ms + till.sync_interval_ms + W` old (a
/// synchroniser calls every sync interval; two pings' worth of slack) and it
/// is not revoked. `W` is how stale the record may be: the server writes a
/// till's last contact at most every `contact_write_every` (the write
/// throttle, [`crate::http::bookkeeping::contact_write_every`]), a refresh within
/// [`crate::http::bookkeeping::DEFERRED_EVERY`].
pub fn online_window_ms(
    cfg: &tillsync_core::ServerConfig,
    contact_write_every: std::time::Duration,
) -> u64 {
    2 * cfg.till.ping_timeout_ms + cfg.till.sync_interval_ms + record_delay_ms(contact_write_every)
}

/// How stale a recorded last contact may be (the `W` of [`online_window_ms`]).
fn record_delay_ms(contact_write_every: std::time::Duration) -> u64 {
    (contact_write_every + crate::http::bookkeeping::DEFERRED_EVERY).as_millis() as u64
}

/// Whether a till whose last contact is `last_contact` (RFC 3339) is online at `now`.
pub fn is_online(
    last_contact: Option<&str>,
    revoked: bool,
    window_ms: u64,
    now: chrono::DateTime<chrono::Utc>,
) -> bool {
    if revoked {
        return false;
    }
    let Some(at) = last_contact.and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok()) else {
        return false;
    };
    let age = now.signed_duration_since(at.with_timezone(&chrono::Utc));
    age.num_milliseconds() <= window_ms as i64
}

/// A till's outbox backlog is late when its oldest item has waited more
/// than 10 sync intervals, and at least 15 minutes (a synchroniser pushes
/// every sync interval; a few failed rounds are normal).
pub fn backlog_old_secs(cfg: &tillsync_core::ServerConfig) -> u64 {
    (10 * cfg.till.sync_interval_ms / 1000).max(15 * 60)
}

/// A duration for people: `45 s`, `12 min`, `3 h 05`, `2 j 4 h` (`2 d 4 h`).
pub fn age_text(lang: Lang, secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        3600..86400 => format!("{} h {:02}", secs / 3600, secs % 3600 / 60),
        _ => format!(
            "{} {} {} h",
            secs / 86400,
            lang.pick("j", "d"),
            secs % 86400 / 3600
        ),
    }
}

struct TillsData {
    tills: Vec<TillOverview>,
    server_tables: Vec<(String, Option<TableState>)>,
}

fn tills_view(ctx: &Ctx, d: &TillsData, flash: Option<&str>, error: Option<&str>) -> Markup {
    let lang = ctx.lang;
    let contact_every = ctx.admin.app.contacts.every();
    let window = online_window_ms(&ctx.cfg, contact_every);
    let delay = record_delay_ms(contact_every);
    let old_secs = backlog_old_secs(&ctx.cfg);
    let now = chrono::Utc::now();
    let server_version = |table: &str| {
        d.server_tables
            .iter()
            .find(|(t, _)| t == table)
            .and_then(|(_, s)| s.as_ref().map(|s| s.version))
    };
    let body = html! {
        @if let Some(f) = flash { p.flash-ok role="status" { (f) } }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        p.hint { (lang.pick("En ligne : dernier contact depuis au plus ", "Online: last contact at most "))
            (window) (lang.pick(" ms (2 × délai du ping + durée entre 2 synchronisations + ",
                " ms ago (2 × ping timeout + sync interval + "))
            (delay) (lang.pick(" ms : le serveur enregistre le contact d'une caisse au plus toutes les ",
                " ms: the server records a till's contact at most every "))
            (contact_every.as_millis()) " ms)." }
        p.hint { (lang.pick("File d'envoi : ce que la caisse a signalé à sa dernière demande de packages ; en retard quand l'élément le plus ancien attend depuis plus de ",
                "Outbox backlog: what the till reported with its last package request; late when the oldest item has waited more than "))
            (age_text(lang, old_secs)) "." }
        table #tills {
            thead { tr {
                th { (lang.pick("Caisse", "Till")) }
                th { (lang.pick("Magasin", "Store")) }
                th { (lang.pick("État", "State")) }
                th { (lang.pick("Dernier contact", "Last contact")) }
                th { (lang.pick("En ligne", "Online")) }
                th { (lang.pick("Versions des tables (caisse / serveur)", "Table versions (till / server)")) }
                th { (lang.pick("Tickets reçus", "Tickets received")) }
                th { (lang.pick("Tickets manquants", "Missing tickets")) }
                th { (lang.pick("Erreurs", "Errors")) }
                th { (lang.pick("File d'envoi", "Outbox backlog")) }
                th { (lang.pick("Actions", "Actions")) }
            } }
            tbody {
                @if d.tills.is_empty() {
                    tr { td colspan="11" { (lang.pick("Aucune caisse dans STORE_TILL.", "No till in STORE_TILL.")) } }
                }
                @for o in &d.tills {
                    @let t = &o.till;
                    @let k = &o.tickets;
                    @let online = is_online(t.last_contact.as_deref(), t.revoked_at.is_some(), window, now);
                    tr data-till=(t.till_id) data-online=(if online { "yes" } else { "no" }) {
                        td { a href={ "/admin/journal?till=" (t.till_id) } { (t.till_id) } }
                        td { (t.store) }
                        td { (match (&t.issued_at, &t.revoked_at) {
                            (None, _) => lang.pick("pas encore de package de déploiement", "no deployment package yet"),
                            (Some(_), Some(_)) => lang.pick("RÉVOQUÉE", "REVOKED"),
                            (Some(_), None) => lang.pick("active", "active"),
                        }) }
                        td { (t.last_contact.as_deref().unwrap_or(lang.pick("jamais", "never"))) }
                        td class=(if online { "online-yes" } else { "online-no" }) {
                            (if online { lang.pick("oui", "yes") } else { lang.pick("non", "no") })
                        }
                        td.versions {
                            @if o.tables.is_empty() { (lang.pick("non signalées", "not reported")) }
                            @for rt in &o.tables {
                                @let sv = server_version(&rt.table);
                                @let behind = matches!((rt.version, sv), (Some(a), Some(b)) if a < b) || (rt.version.is_none() && sv.is_some());
                                span class=(if behind { "behind" } else { "" }) data-table=(rt.table) {
                                    (rt.table) " "
                                    (rt.version.map(|v| format!("v{v}")).unwrap_or_else(|| lang.pick("jamais chargée", "never loaded").into()))
                                    " / " (sv.map(|v| format!("v{v}")).unwrap_or_else(|| "—".into()))
                                }
                                br;
                            }
                        }
                        td.tickets { (k.tickets_received) }
                        td.missing {
                            @if k.missing.is_empty() { "0" }
                            @for g in &k.missing { (g.to_string()) br; }
                        }
                        td.errors {
                            (lang.pick("quarantaine ", "quarantined ")) (k.quarantined) ", "
                            (lang.pick("refusés ", "rejected ")) (k.rejected)
                            @if let Some(r) = &o.outbox {
                                br;
                                span.till-errors data-errors=(r.errors) {
                                    (lang.pick("liste d'erreurs de la caisse : ", "till's error list: ")) (r.errors)
                                }
                                @if let Some(e) = &r.last_error {
                                    br;
                                    span.last-error title=(lang.pick("erreur la plus récente", "newest error")) { (e) }
                                }
                            }
                        }
                        @match &o.outbox {
                            None => td.backlog data-backlog="" title=(lang.pick(
                                "la caisse n'a pas encore signalé sa file d'envoi (elle le fait à chaque demande de packages)",
                                "the till has not reported its outbox yet (it does with each package request)")) {
                                (lang.pick("non signalée", "not reported"))
                            },
                            Some(r) => {
                                @let age = r.oldest_age_at(now);
                                @let old = age.is_some_and(|a| a > old_secs);
                                td.backlog.backlog-old[old] data-backlog=(r.backlog())
                                    data-oldest-secs=(age.map(|a| a.to_string()).unwrap_or_default())
                                    title={ (lang.pick("signalée le ", "reported at ")) (r.reported_at) } {
                                    strong { (r.backlog()) }
                                    " (" (r.outbox_tickets) (lang.pick(" tickets, ", " tickets, "))
                                    (r.outbox_other) (lang.pick(" autres)", " other)"))
                                    @if let Some(a) = age {
                                        br;
                                        (lang.pick("plus ancien : ", "oldest: ")) (age_text(lang, a))
                                        @if old { " — " (lang.pick("en retard", "late")) }
                                    }
                                }
                            },
                        }
                        td {
                            form.inline.package-form method="post" action="/admin/tills/package" {
                                input type="hidden" name="csrf" value=(ctx.csrf);
                                input type="hidden" name="till" value=(t.till_id);
                                button type="submit" title=(lang.pick(
                                    "Génère de nouveaux identifiants : l'ancien package cesse de fonctionner.",
                                    "Issues new credentials: the previous package stops working.")) {
                                    (lang.pick("Package de déploiement", "Deployment package"))
                                }
                            }
                            @if t.issued_at.is_some() && t.revoked_at.is_none() {
                                form.inline.revoke-form method="post" action="/admin/tills/revoke" {
                                    input type="hidden" name="csrf" value=(ctx.csrf);
                                    input type="hidden" name="till" value=(t.till_id);
                                    button.danger type="submit" { (lang.pick("Révoquer", "Revoke")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    ctx.page(
        lang.pick("Superviseur des caisses", "Till supervisor"),
        body,
    )
}

async fn tills_response(
    ctx: &Ctx,
    status: StatusCode,
    flash: Option<&str>,
    error: Option<&str>,
) -> Response {
    let loaded = ctx
        .admin
        .app
        .with_db(|db| {
            let tills = db.till_overview()?;
            let mut server_tables = Vec::new();
            for t in db.sync_tables()? {
                if t.direction == Direction::Down {
                    let s = db.table_state(&t.table)?;
                    server_tables.push((t.table, s));
                }
            }
            Ok(TillsData {
                tills,
                server_tables,
            })
        })
        .await;
    match loaded {
        Ok(d) => (status, tills_view(ctx, &d, flash, error)).into_response(),
        Err(e) => http_err(ctx.lang, e),
    }
}

pub(crate) async fn tills(ctx: Ctx) -> Response {
    tills_response(&ctx, StatusCode::OK, None, None).await
}

pub(crate) async fn till_package(ctx: Ctx, form: FormData) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let till = form.get("till").unwrap_or("").trim().to_string();
    let data = ctx.admin.app.data.clone();
    let t2 = till.clone();
    let built = tokio::task::spawn_blocking(move || crate::deploy::build(&data, &t2)).await;
    match built {
        Ok(Ok(pkg)) => {
            let json = serde_json::to_vec_pretty(&pkg).expect("deployment package serializes");
            let safe: String = till
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            tracing::info!(till = %till, "deployment package generated from the admin pages");
            (
                [
                    (header::CONTENT_TYPE, "application/json".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"tillsync-{safe}.json\""),
                    ),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                ],
                json,
            )
                .into_response()
        }
        Ok(Err(e)) => {
            let e = e.to_string();
            tills_response(&ctx, StatusCode::UNPROCESSABLE_ENTITY, None, Some(&e)).await
        }
        Err(e) => internal(ctx.lang, e),
    }
}

pub(crate) async fn till_revoke(ctx: Ctx, form: FormData) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let lang = ctx.lang;
    let till = form.get("till").unwrap_or("").trim().to_string();
    let t2 = till.clone();
    let revoked = ctx
        .admin
        .app
        .with_db(move |db| Ok(db.revoke_till(&t2).map_err(|e| e.to_string())))
        .await;
    match revoked {
        Ok(Ok(())) => {
            let msg = format!(
                "{} {till} {}",
                lang.pick("Caisse", "Till"),
                lang.pick(
                    "révoquée : ses appels sont refusés jusqu'à la génération d'un nouveau package de déploiement.",
                    "revoked: its calls are refused until a new deployment package is generated."
                )
            );
            tills_response(&ctx, StatusCode::OK, Some(&msg), None).await
        }
        Ok(Err(e)) => tills_response(&ctx, StatusCode::UNPROCESSABLE_ENTITY, None, Some(&e)).await,
        Err(e) => http_err(lang, e),
    }
}

// ---------------------------------------------------------------- journal

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn online_rule() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-28T12:00:20Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert!(is_online(Some("2026-11-28T12:00:10Z"), false, 11_000, now));
        assert!(!is_online(Some("2026-11-28T12:00:08Z"), false, 11_000, now));
        assert!(!is_online(Some("2026-11-28T12:00:19Z"), true, 11_000, now));
        assert!(!is_online(None, false, 11_000, now));
        assert!(!is_online(Some("garbage"), false, 11_000, now));
    }

    #[test]
    fn ages_and_the_late_backlog_rule() {
        assert_eq!(age_text(Lang::Fr, 45), "45 s");
        assert_eq!(age_text(Lang::Fr, 12 * 60 + 5), "12 min");
        assert_eq!(age_text(Lang::En, 3 * 3600 + 5 * 60), "3 h 05");
        assert_eq!(age_text(Lang::Fr, 2 * 86400 + 4 * 3600), "2 j 4 h");
        assert_eq!(age_text(Lang::En, 2 * 86400 + 4 * 3600), "2 d 4 h");
        let mut cfg = tillsync_core::ServerConfig::new_default("DEMO").unwrap();
        cfg.till.sync_interval_ms = 5_000;
        assert_eq!(backlog_old_secs(&cfg), 900);
        cfg.till.sync_interval_ms = 600_000;
        assert_eq!(backlog_old_secs(&cfg), 6_000);
    }
}
