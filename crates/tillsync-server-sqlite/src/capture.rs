//! Change capture: triggers on an incremental down table write every insert,
//! update (old key too when the key changes) and delete into
//! `tillsync_changes`, whoever the writer is (our code, the ERP, `sqlite3`).

use rusqlite::Connection;
use tillsync_wire::layout::Layout;

use tillsync_db::StoreError;
use tillsync_db::sql::lit;
use tillsync_db::sql::q;
use tillsync_server_db::export::MAX_KEY;

fn trigger_names(table: &str) -> [String; 3] {
    [
        format!("tillsync_cc_{table}_ins"),
        format!("tillsync_cc_{table}_upd"),
        format!("tillsync_cc_{table}_del"),
    ]
}

/// (Re)install the three triggers of `table`.
pub fn install(conn: &Connection, table: &str, layout: &Layout) -> Result<(), StoreError> {
    if layout.key.len() > MAX_KEY {
        return Err(StoreError::KeyTooWide {
            table: table.into(),
            n: layout.key.len(),
        });
    }
    remove(conn, table)?;
    let n = layout.key.len();
    let kcols = (1..=n)
        .map(|i| format!("k{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let vals = |prefix: &str| {
        layout
            .key
            .iter()
            .map(|k| format!("{prefix}.{}", q(k)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let key_changed = layout
        .key
        .iter()
        .map(|k| format!("OLD.{c} IS NOT NEW.{c}", c = q(k)))
        .collect::<Vec<_>>()
        .join(" OR ");
    let [ins, upd, del] = trigger_names(table);
    let t = q(table);
    let tl = lit(table);
    let (new_vals, old_vals) = (vals("NEW"), vals("OLD"));
    conn.execute_batch(&format!(
        "CREATE TRIGGER {ins} AFTER INSERT ON {t} BEGIN
           INSERT INTO tillsync_changes(tbl, op, {kcols}) VALUES ({tl}, 'I', {new_vals});
         END;
         CREATE TRIGGER {upd} AFTER UPDATE ON {t} BEGIN
           INSERT INTO tillsync_changes(tbl, op, {kcols}) SELECT {tl}, 'D', {old_vals} WHERE {key_changed};
           INSERT INTO tillsync_changes(tbl, op, {kcols}) VALUES ({tl}, 'U', {new_vals});
         END;
         CREATE TRIGGER {del} AFTER DELETE ON {t} BEGIN
           INSERT INTO tillsync_changes(tbl, op, {kcols}) VALUES ({tl}, 'D', {old_vals});
         END;",
        ins = q(&ins),
        upd = q(&upd),
        del = q(&del),
    ))?;
    Ok(())
}

/// Drop the triggers of `table` (absent ones are fine).
pub fn remove(conn: &Connection, table: &str) -> Result<(), StoreError> {
    for name in trigger_names(table) {
        conn.execute_batch(&format!("DROP TRIGGER IF EXISTS {}", q(&name)))?;
    }
    Ok(())
}
