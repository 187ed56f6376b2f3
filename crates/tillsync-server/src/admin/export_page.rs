//! The export page at `/admin/export`: "Export now" (incremental or full)
//! run on a blocking task, its progress lines and result shown on the
//! page, which refreshes itself while the export runs.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use crate::admin::context::{Ctx, FormData};
use crate::admin::export_job::{JobState, Status};
use crate::admin::layout::error_page;
use crate::down::export::{ExportOptions, export};

/// `GET /admin/export`: the form, and the job's status.
pub(crate) async fn page(ctx: Ctx) -> Response {
    let lang = ctx.lang;
    let s = ctx.admin.export.snapshot();
    let running = s.state == JobState::Running;
    let body = html! {
        @if running {
            // Refresh while the export runs (no JavaScript needed).
            meta http-equiv="refresh" content="2";
        }
        form #export-form method="post" action="/admin/export" {
            input type="hidden" name="csrf" value=(ctx.csrf);
            label { (lang.pick("Mode", "Mode"))
                select name="mode" {
                    option value="incremental" selected[!s.full] { (lang.pick("incrémental", "incremental")) }
                    option value="full" selected[s.full] { (lang.pick("complet", "full")) }
                }
            }
            button #export-now type="submit" disabled[running] { (lang.pick("Exporter maintenant", "Export now")) }
        }
        div #export-status data-state=(s.state.as_str()) {
            strong { (match s.state {
                JobState::Idle => lang.pick("Aucun export lancé depuis cette page.", "No export started from this page."),
                JobState::Running => lang.pick("Export en cours…", "Export running…"),
                JobState::Done => lang.pick("Export terminé.", "Export done."),
                JobState::Failed => lang.pick("Échec de l'export.", "Export failed."),
            }) }
            @if let Some(at) = &s.started_at {
                " " (lang.pick("Lancé à", "Started at")) " " (at)
                " (" (if s.full { lang.pick("complet", "full") } else { lang.pick("incrémental", "incremental") }) ")"
            }
            @if !s.progress.is_empty() {
                pre.progress { @for l in &s.progress { (l) "\n" } }
            }
            @if !s.result.is_empty() {
                pre.result class=(if s.state == JobState::Failed { "error" } else { "" }) { @for l in &s.result { (l) "\n" } }
            }
        }
    };
    ctx.page(lang.pick("Export", "Export"), body)
        .into_response()
}

/// `POST /admin/export`: start an export (unless one runs) on a blocking
/// task, then back to the page.
pub(crate) async fn start(ctx: Ctx, form: FormData) -> Response {
    if let Err(r) = ctx.check_csrf(&form) {
        return r;
    }
    let lang = ctx.lang;
    let full = match form.get("mode") {
        Some("full") => true,
        Some("incremental") | None => false,
        Some(other) => {
            return error_page(
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("unknown export mode {other:?}: expected full or incremental"),
            );
        }
    };
    let status = ctx.admin.export.status.clone();
    {
        let mut s = status.lock().unwrap_or_else(|p| p.into_inner());
        if s.state == JobState::Running {
            // A second click while one runs: nothing more is started.
            return Redirect::to("/admin/export").into_response();
        }
        *s = Status {
            state: JobState::Running,
            full,
            started_at: Some(tillsync_db::now_rfc3339()),
            progress: Vec::new(),
            result: Vec::new(),
        };
    }
    let app = ctx.admin.app.clone();
    tokio::spawn(async move {
        let data = app.data.clone();
        let progress_status = status.clone();
        let run = tokio::task::spawn_blocking(move || {
            let cfg = data.config()?;
            let mut store = data.package_store(&cfg)?;
            export(&data, store.as_mut(), ExportOptions { full }, &mut |m| {
                progress_status
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .progress
                    .push(m.to_string())
            })
        })
        .await;
        let outcome = match run {
            Ok(Ok(report)) => Ok(report.lines()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(format!("the export task failed: {e}")),
        };
        if let Err(e) = &outcome {
            let detail = e.clone();
            let _ = app
                .with_db(move |db| Ok(db.journal("export", None, "error", &detail)?))
                .await;
            tracing::error!(error = %e, "export from the admin pages failed");
        }
        let mut s = status.lock().unwrap_or_else(|p| p.into_inner());
        match outcome {
            Ok(lines) => {
                s.state = JobState::Done;
                s.result = lines;
            }
            Err(e) => {
                s.state = JobState::Failed;
                s.result = vec![e];
            }
        }
    });
    Redirect::to("/admin/export").into_response()
}
