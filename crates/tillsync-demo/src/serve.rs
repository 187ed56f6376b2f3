//! `tillsync demo --serve`: after the summary, the server and both tills'
//! synchronisers with their cashier pages keep running until Ctrl-C or
//! SIGTERM; the admin pages get a generated password, printed once with the
//! URLs.

use std::path::Path;

use anyhow::{Result, bail};
use serde::Serialize;
use tillsync_output::Out;
use tillsync_server::DataDir;

use crate::scenario::TILLS;

/// What `demo --serve` prints once everything runs.
#[derive(Serialize)]
struct Serving {
    admin_url: String,
    admin_user: String,
    /// Generated for this demo, printed this once, stored only as a hash.
    admin_password: String,
    cashier_urls: Vec<CashierUrl>,
}

#[derive(Serialize)]
struct CashierUrl {
    till: String,
    url: String,
}

/// `demo --serve`: an admin password, the tills' synchronisers with their
/// cashier pages on free loopback ports, the URLs printed; then wait for
/// Ctrl-C or SIGTERM and stop the tills, then the server.
pub(crate) fn serve(
    data: &DataDir,
    dir: &Path,
    rt: &tokio::runtime::Runtime,
    server: tillsync_server::run::RunningServer,
    out: &Out,
) -> Result<()> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tillsync_till::agent::{AgentOptions, run_with};
    use tillsync_till::cashier::serve::CashierOptions;
    use tokio::signal::unix::{SignalKind, signal};

    // Handlers first: a Ctrl-C from now on stops the demo cleanly.
    let (mut int, mut term) = {
        let _guard = rt.enter();
        (
            signal(SignalKind::interrupt())?,
            signal(SignalKind::terminate())?,
        )
    };
    let web_addr = server.web_addr;
    let password = demo_password();
    tillsync_server::admin::auth::set_password(data.path(), &password)?;
    let admin_user = data.config()?.folder.admin;

    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    let mut agents = Vec::new();
    for till in TILLS {
        let tdir = dir.join(till);
        let (stop, tx) = (stop.clone(), tx.clone());
        let opts = AgentOptions {
            // Pulls are what the server counts as contact when there is
            // nothing to push: often enough to stay "online" in the
            // supervisor (2 × ping timeout + sync interval + the contact write
            // interval + 1 s, 23 s by default).
            pull_interval: std::time::Duration::from_secs(5),
            cashier: Some(CashierOptions {
                listen: Some("127.0.0.1:0".parse().expect("address")),
                allow_remote: false,
            }),
            ..AgentOptions::default()
        };
        agents.push((
            till,
            std::thread::spawn(move || {
                run_with(&tdir, &opts, &stop, |s| {
                    let _ = tx.send((till, s.cashier_url.clone()));
                })
            }),
        ));
    }
    drop(tx);
    let mut cashier_urls = Vec::new();
    let mut failed = None;
    for _ in TILLS {
        match rx.recv_timeout(std::time::Duration::from_secs(30)) {
            Ok((till, Some(url))) => cashier_urls.push(CashierUrl {
                till: till.to_string(),
                url,
            }),
            Ok((till, None)) => failed = Some(format!("till {till} serves no cashier page")),
            Err(_) => {
                failed = Some("a till's synchroniser did not start".to_string());
                break;
            }
        }
    }
    cashier_urls.sort_by(|a, b| a.till.cmp(&b.till));
    let stop_all = |agents: Vec<(&str, std::thread::JoinHandle<_>)>| -> Vec<String> {
        stop.store(true, Ordering::Relaxed);
        let mut errors = Vec::new();
        for (till, h) in agents {
            match h.join() {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => errors.push(format!("till {till}: {e}")),
                Err(_) => errors.push(format!("till {till}: its synchroniser panicked")),
            }
        }
        rt.block_on(server.shutdown());
        errors
    };
    if let Some(why) = failed {
        let errors = stop_all(agents);
        bail!("{why}: {}", errors.join("; "));
    }

    let serving = Serving {
        admin_url: format!("http://{web_addr}/admin"),
        admin_user,
        admin_password: password,
        cashier_urls,
    };
    out.emit(&serving, || {
        println!();
        println!("serving the demo until Ctrl-C:");
        println!("  admin pages   {}", serving.admin_url);
        println!(
            "  admin login   user {}, password {}   (generated for this demo, shown once)",
            serving.admin_user, serving.admin_password
        );
        for c in &serving.cashier_urls {
            println!("  cashier {}  {}", c.till, c.url);
        }
        let pins: Vec<String> = tillsync_db::demo::stores::CASHIERS
            .iter()
            .map(|(_, name, store, pin)| {
                format!("{name} ({}) {pin}", store.unwrap_or("every store"))
            })
            .collect();
        println!("  cashier PINs  {}   (the demo's)", pins.join(", "));
    });
    use std::io::Write as _;
    std::io::stdout().flush()?;

    rt.block_on(async {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    });
    let errors = stop_all(agents);
    if !errors.is_empty() {
        bail!("stopping the demo: {}", errors.join("; "));
    }
    if !out.json {
        println!("demo stopped; its folder stays in {}", dir.display());
    }
    Ok(())
}

/// A fresh password for the demo's admin pages: 20 letters and digits.
pub(crate) fn demo_password() -> String {
    use rand::Rng as _;
    rand::rngs::OsRng
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(20)
        .map(char::from)
        .collect()
}
