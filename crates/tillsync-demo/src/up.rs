//! The demo's up path: sales on both tills, some while the server is
//! stopped, a customer created, one edited offline, one abandoned; the
//! outboxes pushed, the changes exported back down, and the server checked.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use tillsync_server::DataDir;
use tillsync_till::DB_FILE;
use tillsync_till::down::pull::{PullOptions, pull};
use tillsync_till_db::TillDb;

use crate::scenario::{TILLS, run_export};
use crate::summary::{Step, TillTickets, UpSummary};

/// The up path: sales on both tills, some while the server is stopped, a
/// customer created, one edited offline, one abandoned; then everything is
/// pushed and checked on the server.
#[allow(clippy::too_many_arguments)]
pub(crate) fn up_path(
    data: &DataDir,
    dir: &Path,
    server: &mut Option<tillsync_server::run::RunningServer>,
    steps: &mut Vec<Step>,
    start_server: &dyn Fn(SocketAddr, SocketAddr) -> Result<tillsync_server::run::RunningServer>,
    web: SocketAddr,
    ftp: SocketAddr,
    pb: &indicatif::ProgressBar,
) -> Result<UpSummary> {
    use tillsync_till::up::sell::{SaleLine, SalePayment, SaleRequest, sell};
    let items: Vec<String> = {
        let db = data.open_db()?;
        let mut stmt = db
            .conn()
            .prepare("SELECT code FROM ART WHERE code LIKE 'ART%' ORDER BY code LIMIT 50")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let sale = |till: &str, n: usize| -> Result<()> {
        for i in 0..n {
            let lines = (0..(1 + i % 5))
                .map(|l| SaleLine::units(&items[(i * 7 + l * 3) % items.len()], 1 + (l as i64 % 3)))
                .collect();
            let method = if i % 2 == 0 { "card" } else { "cash" };
            sell(
                &dir.join(till),
                &SaleRequest {
                    lines,
                    payments: vec![SalePayment {
                        method: method.into(),
                        amount_cents: None,
                    }],
                    ..SaleRequest::default()
                },
            )?;
        }
        Ok(())
    };
    let (online, offline) = (8u64, 12u64);
    let t = Instant::now();
    pb.set_message("selling on both tills");
    for till in TILLS {
        sale(till, online as usize)?;
    }
    steps.push(Step {
        step: format!("{} sales on each till, online", online),
        millis: t.elapsed().as_millis() as u64,
    });

    // The web service and FTP server go away: the tills keep selling.
    let t = Instant::now();
    pb.set_message("server stopped: selling offline");
    let rt = tokio::runtime::Runtime::new()?;
    if let Some(s) = server.take() {
        rt.block_on(s.shutdown());
    }
    for till in TILLS {
        sale(till, offline as usize)?;
    }
    let t1 = dir.join(TILLS[0]);
    let edited: String = TillDb::open(&t1.join(DB_FILE))?.conn().query_row(
        "SELECT code FROM CLI WHERE store = 'S01' ORDER BY code LIMIT 1",
        [],
        |r| r.get(0),
    )?;
    tillsync_till::up::customers::edit(
        &t1,
        &edited,
        &[("city".to_string(), "Villeurbanne".to_string())],
    )?;
    let offline_creation_refused = matches!(
        tillsync_till::up::customers::create(&dir.join(TILLS[1]), "Client hors ligne", &[]),
        Err(tillsync_till::TillError::NeedsServer(_))
    );
    let pushed_offline = tillsync_till::up::push::push(&t1, Default::default())?;
    if pushed_offline.unavailable.is_none() {
        bail!("a push with the server stopped should have found it unavailable");
    }
    steps.push(Step {
        step: format!(
            "server stopped: {offline} sales on each till, a customer edited, creation refused"
        ),
        millis: t.elapsed().as_millis() as u64,
    });

    // The server comes back: creation works again, one is abandoned, and
    // the outboxes drain.
    let t = Instant::now();
    pb.set_message("server back: pushing the outboxes");
    *server = Some(start_server(web, ftp)?);
    let t2 = dir.join(TILLS[1]);
    let created = tillsync_till::up::customers::create(&t2, "Martine Durand", &[])?;
    let created_code = created
        .get("code")
        .and_then(|c| c.as_str())
        .context("the created customer has no code")?
        .to_string();
    let abandoned = tillsync_till::up::customers::create(&t2, "Création abandonnée", &[])?
        .get("code")
        .and_then(|c| c.as_str())
        .context("no code")?
        .to_string();
    tillsync_till::up::customers::abandon(&t2, &abandoned)?;
    for till in TILLS {
        let r = tillsync_till::up::push::push(&dir.join(till), Default::default())?;
        if r.pending > 0 || r.unavailable.is_some() || !r.set_aside.is_empty() {
            bail!("till {till}: the outbox did not drain: {r:?}");
        }
    }
    steps.push(Step {
        step: "server back: customer created and abandoned, outboxes pushed".into(),
        millis: t.elapsed().as_millis() as u64,
    });

    // The customer changes go back down to the tills with the next export.
    let t = Instant::now();
    pb.set_message("export and load: the customer changes reach the tills");
    run_export(data, &data.config()?)?;
    for till in TILLS {
        pull(&dir.join(till), PullOptions::default(), &mut |_| {})?;
    }
    steps.push(Step {
        step: "export and incremental load of the customer changes".into(),
        millis: t.elapsed().as_millis() as u64,
    });

    let db = data.open_db()?;
    let state = db.ticket_state(None)?;
    let sold = online + offline;
    let tickets: Vec<TillTickets> = TILLS
        .iter()
        .map(|till| {
            let s = state.iter().find(|s| s.till_id == *till);
            let (on_server, verified, quarantined, contiguous, missing) = match s {
                Some(s) => (
                    s.tickets_received,
                    s.verified,
                    s.quarantined,
                    s.highest_contiguous,
                    s.missing.iter().map(|g| format!("{g:?}")).collect(),
                ),
                None => (0, 0, 0, 0, Vec::new()),
            };
            TillTickets {
                till: till.to_string(),
                sold,
                sold_offline: offline,
                on_server,
                verified,
                quarantined,
                highest_contiguous: contiguous,
                exactly_once: on_server == sold
                    && verified == sold
                    && quarantined == 0
                    && contiguous == sold
                    && missing.is_empty(),
                missing,
            }
        })
        .collect();
    // Duplicates would break the unique (till, number) key; count rows too.
    let rows: i64 = db
        .conn()
        .query_row("SELECT COUNT(*) FROM TICKET", [], |r| r.get(0))?;
    let city: Option<String> =
        db.conn()
            .query_row("SELECT city FROM CLI WHERE code = ?1", [&edited], |r| {
                r.get(0)
            })?;
    let abandoned_left: i64 = db.conn().query_row(
        "SELECT COUNT(*) FROM CLI WHERE code = ?1",
        [&abandoned],
        |r| r.get(0),
    )?;
    let edit_applied_on_server = city.as_deref() == Some("Villeurbanne");
    let abandon_applied_on_server = abandoned_left == 0;
    let ok = tickets.iter().all(|t| t.exactly_once)
        && rows as u64 == sold * TILLS.len() as u64
        && offline_creation_refused
        && edit_applied_on_server
        && abandon_applied_on_server;
    Ok(UpSummary {
        tickets,
        offline_creation_refused,
        created_customer: created_code,
        edited_offline: edited,
        edit_applied_on_server,
        abandoned,
        abandon_applied_on_server,
        ok,
    })
}
