//! The POS folder page: the configuration by tab (`tillsync.toml`), saved
//! as the CLI saves it, and "Test connection" for the database and the FTP
//! server.

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use tillsync_core::config::KEYS;

use crate::admin::context::{Ctx, FormData};
use crate::admin::i18n::{self, TABS};
use crate::admin::layout::internal;
use crate::data::DataDir;

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
pub(crate) fn check_text(data: &DataDir, what: &str) -> (bool, String) {
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
