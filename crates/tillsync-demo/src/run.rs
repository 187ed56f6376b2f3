//! `tillsync demo`: its arguments and its walk, from an empty folder to the
//! summary (and, with `--serve`, to the running demo).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use tillsync_core::ServerConfig;
use tillsync_output::Out;
use tillsync_server::run::{RunOptions, start};
use tillsync_server::{DataDir, deploy};
use tillsync_till::down::pull::{PullOptions, pull};
use tillsync_till::install;

use crate::fiscal::fiscal_path;
use crate::scenario::{TILLS, erp_changes, run_export};
use crate::serve::serve;
use crate::summary::{Step, Summary, compare, print_summary};
use crate::up::up_path;

#[derive(Args)]
pub struct DemoArgs {
    /// Folder for the demo (default: a new folder under the temp directory, kept).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Items in ART.
    #[arg(long, default_value_t = 10_000)]
    pub rows: usize,
    /// After the summary, keep the server and the tills (with their cashier
    /// pages) running and print the admin URL, login and cashier URLs, until
    /// Ctrl-C.
    #[arg(long)]
    pub serve: bool,
}

/// Run the demo; exits 0 only if every till matches the server, the up
/// path put every ticket and customer change on the server, every archive
/// verifies and the altered copy is caught.
pub fn run(args: DemoArgs, out: &Out) -> Result<ExitCode> {
    let started = Instant::now();
    let dir = match args.dir {
        Some(d) => {
            if d.exists() && d.read_dir()?.next().is_some() {
                bail!(
                    "{} is not empty; give an empty or new folder to --dir",
                    d.display()
                );
            }
            d
        }
        None => std::env::temp_dir().join(format!(
            "tillsync-demo-{}",
            chrono::Utc::now().format("%Y%m%d-%H%M%S-%3f")
        )),
    };
    let server_dir = dir.join("server");
    let mut steps = Vec::new();
    let mut steps_up: Vec<Step> = Vec::new();
    let mut step = |name: &str, t: Instant| {
        steps.push(Step {
            step: name.to_string(),
            millis: t.elapsed().as_millis() as u64,
        })
    };
    let pb = out.spinner("setting up the demo server");

    let t = Instant::now();
    let (data, _) = DataDir::init(&server_dir, "DEMO", Some(args.rows))?;
    step(&format!("server init with {} demo items", args.rows), t);

    let rt = tokio::runtime::Runtime::new()?;
    let start_server = |web: SocketAddr, ftp: SocketAddr| {
        let data = data.clone();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind(web).await?;
            anyhow::Ok(
                start(
                    data,
                    RunOptions {
                        web_listener: Some(listener),
                        ftp_listen: Some(ftp),
                        scheduled_exports: false,
                    },
                )
                .await?,
            )
        })
    };
    let any: SocketAddr = "127.0.0.1:0".parse().expect("address");
    let mut server = Some(start_server(any, any)?);
    let web_addr = server.as_ref().expect("running").web_addr;
    let web = format!("http://{web_addr}/");
    let ftp_addr = server
        .as_ref()
        .and_then(|s| s.ftp_addr)
        .context("the embedded FTP server did not start")?;
    let mut cfg = ServerConfig::load(&server_dir)?;
    cfg.set("till.webservice_url", &web)?;
    cfg.set("ftp.address", &format!("ftp://{ftp_addr}"))?;
    cfg.set("till.ws_timeout_ms", "10000")?;
    cfg.save(&server_dir)?;

    let result = (|| -> Result<Summary> {
        pb.set_message("first export (full packages)");
        let t = Instant::now();
        run_export(&data, &cfg)?;
        step("export: full packages", t);

        for till in TILLS {
            pb.set_message(format!("installing till {till}"));
            let t = Instant::now();
            let pkg_file = dir.join(format!("{till}.deploy.json"));
            deploy::write(&deploy::build(&data, till)?, &pkg_file)?;
            let done = install::init(&dir.join(till), &pkg_file)?;
            if let Some(reason) = &done.pending {
                bail!("till {till} did not enrol at install: {reason}");
            }
            pull(&dir.join(till), PullOptions::default(), &mut |m| {
                pb.set_message(m.to_string())
            })?;
            step(
                &format!(
                    "till {till}: install (key {} made on the till, enrolled) and full load",
                    done.key_id
                ),
                t,
            );
        }
        let first = compare(&data, &dir)?;
        if !first.iter().all(|l| l.tills.iter().all(|t| t.matches)) {
            bail!("after the full load, the tills do not match the server");
        }

        pb.set_message("changing prices, adding and deleting items on the server");
        let t = Instant::now();
        erp_changes(&data.open_db()?)?;
        step("ERP changes in the server database", t);

        pb.set_message("second export (incremental packages)");
        let t = Instant::now();
        run_export(&data, &cfg)?;
        step("export: incremental packages", t);

        for till in TILLS {
            pb.set_message(format!("till {till}: incremental load"));
            let t = Instant::now();
            let r = pull(&dir.join(till), PullOptions::default(), &mut |m| {
                pb.set_message(m.to_string())
            })?;
            if r.tables
                .iter()
                .any(|t| t.action == "full" && (t.table == "ART" || t.table == "CLI"))
            {
                bail!("till {till} needed a full load where an incremental was expected");
            }
            step(&format!("till {till}: incremental load"), t);
        }
        let up = up_path(
            &data,
            &dir,
            &mut server,
            &mut steps_up,
            &|web, ftp| start_server(web, ftp),
            web_addr,
            ftp_addr,
            &pb,
        )?;
        let t = Instant::now();
        let fiscal = fiscal_path(&data, &dir, &pb)?;
        step(
            "fiscal: day closings, archives verified, an altered copy caught",
            t,
        );
        let tables = compare(&data, &dir)?;
        let all_match = tables.iter().all(|l| l.tills.iter().all(|t| t.matches));
        Ok(Summary {
            up,
            fiscal,
            dir: dir.clone(),
            web_service: web.clone(),
            ftp: format!("ftp://{ftp_addr}"),
            steps: Vec::new(),
            tables,
            all_match,
            total_millis: 0,
        })
    })();
    let serving = args.serve && result.is_ok();
    if !serving && let Some(server) = server.take() {
        rt.block_on(server.shutdown());
    }
    pb.finish_and_clear();
    let mut summary = result?;
    steps.append(&mut steps_up);
    summary.steps = steps;
    summary.total_millis = started.elapsed().as_millis() as u64;
    out.emit(&summary, || print_summary(&summary));
    if serving {
        let server = server.take().context("the demo server is not running")?;
        serve(&data, &dir, &rt, server, out)?;
    }
    Ok(if summary.all_match && summary.up.ok && summary.fiscal.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
