//! `tillsync server config …` and `tillsync server tables …`: the POS folder
//! configuration (get, set with validation, list) and the sync tables (list,
//! add with a conflict policy for up tables, remove).

use anyhow::{Context, Result};
use clap::Subcommand;
use tillsync_core::config::KEYS;
use tillsync_core::customers::conflict::UnknownPolicy;
use tillsync_core::{Direction, ServerConfig, SyncTable, SyncType};
use tillsync_output::Out;
use tillsync_server::DataDir;
use tillsync_server_db::customers::ConflictPolicy;

use crate::cmd::common::DataArg;

#[derive(Subcommand)]
pub enum ConfigCmd {
    /// Print one key (passwords show ********).
    Get {
        /// Key, e.g. ftp.address.
        key: String,
        #[command(flatten)]
        data: DataArg,
    },
    /// Change one key, with validation; the file is untouched on error.
    Set {
        /// Key, e.g. ftp.mode.
        key: String,
        /// New value.
        value: String,
        #[command(flatten)]
        data: DataArg,
    },
    /// Print every key.
    List(DataArg),
}

#[derive(Subcommand)]
pub enum TablesCmd {
    /// List the sync tables.
    List(DataArg),
    /// Register a sync table.
    Add {
        #[command(flatten)]
        data: DataArg,
        /// Table name.
        #[arg(long)]
        table: String,
        /// full (snapshot at every export) or incremental (changes only).
        #[arg(long = "type")]
        sync_type: SyncType,
        /// down (server to tills) or up (tills to server).
        #[arg(long)]
        direction: Direction,
        /// Column that subsets rows per store.
        #[arg(long)]
        filter: Option<String>,
        /// For an up table: who wins when a till and the server changed the
        /// same row: server-wins (default), till-wins or newest-wins.
        #[arg(long, value_parser = parse_conflict_policy)]
        conflict: Option<ConflictPolicy>,
    },
    /// Unregister a sync table.
    Remove {
        #[command(flatten)]
        data: DataArg,
        /// Table name.
        #[arg(long)]
        table: String,
        /// down or up.
        #[arg(long)]
        direction: Direction,
    },
}

/// `server config …`.
pub fn config(cmd: ConfigCmd, out: &Out) -> Result<()> {
    match cmd {
        ConfigCmd::Get { key, data } => {
            let cfg = ServerConfig::load(&data.data)?;
            let v = cfg.get(&key)?;
            out.emit(&serde_json::json!({ "key": key, "value": v }), || {
                println!("{v}")
            });
        }
        ConfigCmd::Set { key, value, data } => {
            DataDir::open(&data.data)?;
            let mut cfg = ServerConfig::load(&data.data)?;
            cfg.set(&key, &value)?;
            cfg.save(&data.data)
                .with_context(|| format!("saving {}", data.data.display()))?;
            let shown = cfg.get(&key)?;
            out.emit(&serde_json::json!({ "key": key, "value": shown }), || {
                println!("{key} = {shown}")
            });
        }
        ConfigCmd::List(data) => {
            let cfg = ServerConfig::load(&data.data)?;
            let mut map = serde_json::Map::new();
            for (key, _, _) in KEYS {
                map.insert(key.to_string(), cfg.get(key)?.into());
            }
            out.emit(&map, || {
                for (key, desc, _) in KEYS {
                    println!(
                        "{key:<24} = {:<40} # {desc}",
                        map[*key].as_str().unwrap_or("")
                    );
                }
            });
        }
    }
    Ok(())
}

fn parse_conflict_policy(s: &str) -> Result<ConflictPolicy, String> {
    s.parse().map_err(|e: UnknownPolicy| e.to_string())
}

/// `server tables …`.
pub fn tables(cmd: TablesCmd, out: &Out) -> Result<()> {
    match cmd {
        TablesCmd::List(data) => {
            let dir = DataDir::open(&data.data)?;
            let db = dir.open_store()?;
            let list = db.sync_tables()?;
            let policies = db.conflict_policies()?;
            // The conflict policy of an up table (down tables have none).
            let policy = |t: &SyncTable| {
                policies
                    .iter()
                    .find(|(n, d, _)| *n == t.table && *d == t.direction)
                    .map(|p| p.2)
                    .filter(|_| t.direction == Direction::Up)
            };
            let json: Vec<serde_json::Value> = list
                .iter()
                .map(|t| {
                    let mut v = serde_json::to_value(t).expect("sync table serializes");
                    if let Some(p) = policy(t) {
                        v["conflict_policy"] = p.as_str().into();
                    }
                    v
                })
                .collect();
            out.emit(&json, || {
                if list.is_empty() {
                    println!("no sync tables");
                }
                for t in &list {
                    let mut extra: Vec<String> = Vec::new();
                    if let Some(f) = &t.filter {
                        extra.push(format!("filter {f}"));
                    }
                    if let Some(p) = policy(t) {
                        extra.push(format!("conflict {p}"));
                    }
                    println!(
                        "{:<16} {:<5} {:<12} {}",
                        t.table,
                        t.direction,
                        t.sync_type,
                        extra.join(", ")
                    );
                }
            });
        }
        TablesCmd::Add {
            data,
            table,
            sync_type,
            direction,
            filter,
            conflict,
        } => {
            let dir = DataDir::open(&data.data)?;
            let t = SyncTable::new(table, sync_type, direction, filter)?;
            let mut db = dir.open_store()?;
            let layout = db.add_sync_table_with_policy(&t, conflict)?;
            let policy = (t.direction == Direction::Up).then(|| conflict.unwrap_or_default());
            let mut json = serde_json::to_value(&t).expect("sync table serializes");
            if let Some(p) = policy {
                json["conflict_policy"] = p.as_str().into();
            }
            out.emit(&json, || {
                println!(
                    "sync table {} added ({}, {}); key ({}), {} columns{}{}",
                    t.table,
                    t.direction,
                    t.sync_type,
                    layout.key.join(", "),
                    layout.columns.len(),
                    if t.direction == Direction::Down && t.sync_type == SyncType::Incremental {
                        "; change capture installed"
                    } else {
                        ""
                    },
                    policy
                        .map(|p| format!("; conflict policy {p}"))
                        .unwrap_or_default()
                )
            });
        }
        TablesCmd::Remove {
            data,
            table,
            direction,
        } => {
            let dir = DataDir::open(&data.data)?;
            let mut db = dir.open_store()?;
            db.remove_sync_table(&table, direction)?;
            out.emit(
                &serde_json::json!({"removed": table, "direction": direction}),
                || println!("sync table {table} ({direction}) removed"),
            );
        }
    }
    Ok(())
}
