//! The till supervisor: per till its state (awaiting enrolment, active with
//! its key id, revoked), last contact and whether it is online, the table
//! versions it holds, its tickets and outbox backlog; a new deployment
//! package, or revocation.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use tillsync_core::fiscal::local::LocalZone;
use tillsync_core::{Direction, Lang};
use tillsync_server_db::export::TableState;
use tillsync_server_db::tills::TillOverview;

use crate::admin::context::{Ctx, FormData};
use crate::admin::layout::{http_err, internal};
use crate::http::bookkeeping::DEFERRED_EVERY;

/// A till is online when its recorded last contact is at most
/// `2 × till.ping_timeout_ms + till.sync_interval_ms + W` old (a
/// synchroniser calls every sync interval; two pings' worth of slack) and it
/// is not revoked. `W` is how stale the record may be: the server writes a
/// till's last contact at most every `contact_write_every` (the write
/// throttle, [`crate::http::bookkeeping::contact_write_every`]), a refresh within
/// [`DEFERRED_EVERY`].
pub fn online_window_ms(
    cfg: &tillsync_core::ServerConfig,
    contact_write_every: std::time::Duration,
) -> u64 {
    2 * cfg.till.ping_timeout_ms + cfg.till.sync_interval_ms + record_delay_ms(contact_write_every)
}

/// How stale a recorded last contact may be (the `W` of [`online_window_ms`]).
fn record_delay_ms(contact_write_every: std::time::Duration) -> u64 {
    (contact_write_every + DEFERRED_EVERY).as_millis() as u64
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
    // Times a person reads: local, in the folder's time zone.
    let zone = LocalZone::new(&ctx.cfg.folder.timezone).unwrap_or_else(|_| LocalZone::paris());
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
                        td.state { (match (&t.issued_at, &t.revoked_at, &t.enrolment_expires_at) {
                            (None, _, None) => lang.pick("pas encore de package de déploiement", "no deployment package yet").to_string(),
                            (None, _, Some(until)) => format!("{} {}", lang.pick(
                                "en attente d'enrôlement, package valable jusqu'au", "awaiting enrolment, package valid until"),
                                zone.show(until, lang)),
                            (Some(_), Some(_), _) => lang.pick("RÉVOQUÉE", "REVOKED").to_string(),
                            (Some(_), None, _) => lang.pick("active", "active").to_string(),
                        })
                            @if let Some(k) = &t.key_id {
                                br;
                                span.key-id title=(lang.pick("identifiant de la clé de signature actuelle de la caisse",
                                    "id of the till's current signing key")) {
                                    (lang.pick("clé ", "key ")) (k)
                                }
                            }
                        }
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
                                    "Un nouveau secret d'enrôlement à usage unique (7 jours) : un package plus ancien non utilisé cesse de fonctionner ; la caisse installée continue jusqu'à ce que le nouveau soit utilisé.",
                                    "A new one-time enrolment secret (7 days): an unused older package stops working; the installed till goes on until the new one is used.")) {
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
                    "révoquée : ses appels sont refusés jusqu'à son enrôlement avec un nouveau package de déploiement ; ses packages non utilisés cessent de fonctionner.",
                    "revoked: its calls are refused until it enrols from a new deployment package; its unused packages stop working."
                )
            );
            tills_response(&ctx, StatusCode::OK, Some(&msg), None).await
        }
        Ok(Err(e)) => tills_response(&ctx, StatusCode::UNPROCESSABLE_ENTITY, None, Some(&e)).await,
        Err(e) => http_err(lang, e),
    }
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
