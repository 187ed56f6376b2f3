//! The data folder of `bench fleet`: demo data, the fleet's tills in
//! `STORE_TILL`, each with its own key enrolled, one export, and what an
//! up-to-date till asks the server.

use std::path::Path;

use anyhow::{Context, Result, bail};
use ed25519_dalek::SigningKey;
use tillsync_core::Direction;
use tillsync_server::DataDir;
use tillsync_server::down::export::{ExportOptions, export};
use tillsync_server_db::store::Backend;
use tillsync_wire::api::{AvailableRequest, TillTable};

use crate::enrol::hex;
use crate::fleet::args::FleetArgs;
use crate::rng::SplitMix64 as Rng;

/// Credentials of one simulated till.
pub(crate) struct Creds {
    pub(crate) id: String,
    pub(crate) token: String,
    pub(crate) key: SigningKey,
}

/// A server data folder with demo data, `tills` tills spread over the demo
/// stores with credentials, one export; returns the folder, the tills and
/// the `AvailableRequest` of an up-to-date till.
pub(crate) fn setup(
    root: &Path,
    args: &FleetArgs,
    db_url: Option<&str>,
    web: u16,
    ftp: u16,
) -> Result<(DataDir, Vec<Creds>, AvailableRequest)> {
    let (data, _) = DataDir::init_with_db(&root.join("server"), "FLEET", Some(args.items), db_url)?;
    let mut cfg = data.config()?;
    cfg.set("server.listen", &format!("127.0.0.1:{web}"))?;
    cfg.set("ftp.listen", &format!("127.0.0.1:{ftp}"))?;
    cfg.set("till.webservice_url", &format!("http://127.0.0.1:{web}/"))?;
    cfg.save(data.path())?;

    let mut rng = Rng(0xF1EE7 ^ std::process::id() as u64);
    let mut bytes32 = || {
        let mut b = [0u8; 32];
        for chunk in b.chunks_mut(8) {
            chunk.copy_from_slice(&rng.next().to_le_bytes());
        }
        b
    };
    let mut db = data.open_store()?;
    let stores = db.stores()?;
    if stores.is_empty() {
        bail!("the demo data has no store");
    }
    let creds: Vec<Creds> = (1..=args.tills)
        .map(|i| Creds {
            id: format!("F{i:05}"),
            token: hex(&bytes32()),
            key: SigningKey::from_bytes(&bytes32()),
        })
        .collect();
    // The tills in STORE_TILL: one statement (so one transaction), the
    // same SQL on both backends; the ids are generated, the stores quoted.
    let quote = |v: &str| format!("'{}'", v.replace('\'', "''"));
    let rows: Vec<String> = creds
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(
                "({}, {}, {})",
                quote(&c.id),
                quote(&stores[i % stores.len()]),
                quote(&format!("fleet till {}", c.id))
            )
        })
        .collect();
    db.execute_batch(&format!(
        "INSERT INTO \"STORE_TILL\" (\"till_id\", \"store\", \"label\") VALUES {}",
        rows.join(", ")
    ))
    .context("adding the fleet's tills to STORE_TILL")?;
    // The store has no bulk method: per till an enrolment (its key
    // recorded and signed, its token issued: two transactions), without
    // waiting for the disk (setup only, not measured; this connection is
    // closed afterwards).
    db.execute_batch(match db.backend() {
        Backend::Sqlite => "PRAGMA synchronous = OFF",
        Backend::Postgres => "SET synchronous_commit = off",
    })?;
    let server = data.signing_key()?;
    let now = tillsync_db::now_rfc3339();
    for c in &creds {
        tillsync_server_db::enrol::enrol_key(
            db.as_mut(),
            &c.id,
            &tillsync_wire::sha256_hex(format!("fleet {} {}", c.id, c.token).as_bytes()),
            &tillsync_wire::sha256_hex(c.token.as_bytes()),
            &hex(&c.key.verifying_key().to_bytes()),
            &now,
            &|r| tillsync_core::key_history::sign_record(r, &server),
        )?;
    }
    drop(db);

    let cfg = data.config()?;
    let mut store = data.package_store(&cfg)?;
    export(
        &data,
        store.as_mut(),
        ExportOptions { full: false },
        &mut |_| {},
    )?;
    let db = data.open_store()?;
    let mut tables = Vec::new();
    for t in db.sync_tables()? {
        if t.direction != Direction::Down {
            continue;
        }
        let state = db
            .table_state(&t.table)?
            .with_context(|| format!("table {} was not exported", t.table))?;
        tables.push(TillTable {
            table: t.table,
            version: Some(state.version),
            layout_hash: Some(state.layout_hash),
        });
    }
    Ok((
        data,
        creds,
        AvailableRequest {
            tables,
            full: false,
            // What a till reports with each package request (an empty
            // outbox: its tickets go up in their own batches).
            report: Some(tillsync_wire::api::TillReport::default()),
        },
    ))
}
