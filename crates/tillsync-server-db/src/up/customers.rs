//! Customers and up-direction rows received from tills, written once for
//! every backend: creating a customer from the template customer, a
//! till's edit (with the table's conflict policy and its audit), an
//! abandoned creation, and a row of an up-direction table. The checks and
//! the conflict decision are `tillsync_core::customers`; each backend gives
//! only the SQL of the steps ([`CustomerSteps`]), in its `up/customers.rs`.

use serde_json::{Map, Value as Json};
use tillsync_core::customers::conflict::{
    ConflictPolicy, RowHistory, Winner, conflict_note, resolve,
};
use tillsync_core::customers::{codes, fields};
use tillsync_db::StoreError;
use tillsync_db::tables::{CUSTOMER_TABLE, NAME_COLUMN};
use tillsync_wire::api::{
    CustomerAbandon, CustomerCreate, CustomerEdit, CustomerRecord, RowChange,
};
use tillsync_wire::layout::Layout;

use crate::customers::UpOutcome;

/// The SQL steps of the customer rules, inside the caller's transaction.
/// Customers are named by their code (the one-column key `key_col` of the
/// customers table); rows and changed fields travel as JSON, by real
/// column names.
pub trait CustomerSteps {
    /// The real name of `table` (an exact match first, else one that
    /// matches ignoring case), if it is a table.
    fn table_name(&mut self, table: &str) -> Result<Option<String>, StoreError>;
    /// The layout of `table`.
    fn layout(&mut self, table: &str) -> Result<Layout, StoreError>;
    /// The conflict policy of `table` as an up sync table, or `None` if it
    /// is not registered up.
    fn policy(&mut self, table: &str) -> Result<Option<ConflictPolicy>, StoreError>;
    /// Whether `table` is registered down too.
    fn travels_down(&mut self, table: &str) -> Result<bool, StoreError>;
    /// The filter column of `table` as a down sync table, if it has one.
    fn down_filter(&mut self, table: &str) -> Result<Option<String>, StoreError>;
    /// The row of customer `code`, as a JSON object; with `lock`, locked
    /// until the transaction ends (where rows can be locked).
    fn read_row(
        &mut self,
        table: &str,
        layout: &Layout,
        key_col: &str,
        code: &str,
        lock: bool,
    ) -> Result<Option<Map<String, Json>>, StoreError>;
    /// The highest number of the codes `prefix` + `width` digits in the
    /// table and among the codes ever created at a till (0 when none).
    /// Concurrent creations wait here until this one's transaction ends
    /// (where other writers can run at the same time).
    fn highest_code(
        &mut self,
        table: &str,
        key_col: &str,
        prefix: &str,
        width: usize,
    ) -> Result<i64, StoreError>;
    /// Whether `code` is in the table or was ever created at a till.
    fn code_taken(&mut self, table: &str, key_col: &str, code: &str) -> Result<bool, StoreError>;
    /// Remember that number `n` was handed out after `prefix`.
    fn code_allocated(&mut self, prefix: &str, n: i64) -> Result<(), StoreError>;
    /// Insert a copy of the template customer's row with the columns of
    /// `set` (in order, a later one winning) replaced, and return the new
    /// row; `None` (nothing written) when the template customer is gone.
    fn insert_customer(
        &mut self,
        table: &str,
        layout: &Layout,
        key_col: &str,
        template: &str,
        set: &[(String, Json)],
    ) -> Result<Option<CustomerRecord>, StoreError>;
    /// Set the columns of `set` in customer `code`'s row.
    fn update_customer(
        &mut self,
        table: &str,
        key_col: &str,
        code: &str,
        set: &Map<String, Json>,
    ) -> Result<(), StoreError>;
    /// Send customer `code` down again (a no-op update that change capture
    /// logs).
    fn resend_customer(&mut self, table: &str, key_col: &str, code: &str)
    -> Result<(), StoreError>;
    /// Delete customer `code`.
    fn delete_customer(&mut self, table: &str, key_col: &str, code: &str)
    -> Result<(), StoreError>;
    /// How many rows of `TICKET` name the customer, if that table (with a
    /// `customer` column) exists; `None` when none does.
    fn tickets_using(&mut self, code: &str) -> Result<Option<i64>, StoreError>;
    /// The till that created customer `code` and when it abandoned the
    /// creation, if a till created it; locked until the transaction ends
    /// (where rows can be locked).
    fn creator(&mut self, code: &str) -> Result<Option<(String, Option<String>)>, StoreError>;
    /// Record that till `till` created customer `code` at `at`.
    fn record_origin(&mut self, code: &str, till: &str, at: &str) -> Result<(), StoreError>;
    /// Record that the creation of customer `code` was abandoned at `at`.
    fn mark_abandoned(&mut self, code: &str, at: &str) -> Result<(), StoreError>;
    /// The changes of customer `code`'s row the server knows of, with the
    /// last one till `till` made itself.
    fn row_history(
        &mut self,
        table: &str,
        code: &str,
        till: &str,
    ) -> Result<RowHistory, StoreError>;
    /// Remember that till `till` made the newest logged change of customer
    /// `code`'s row.
    fn record_own_write(&mut self, table: &str, code: &str, till: &str) -> Result<(), StoreError>;
    /// Keep the losing version of a conflict on customer `code`'s row in
    /// the audit (the server's row and the till's changed fields, as JSON).
    #[allow(clippy::too_many_arguments)]
    fn insert_conflict(
        &mut self,
        table: &str,
        code: &str,
        till: &str,
        server_value: &str,
        till_value: &str,
        winner: Winner,
        at: &str,
    ) -> Result<(), StoreError>;
    /// Insert a row of an up-direction table, or update the row of its key.
    fn upsert_row(
        &mut self,
        table: &str,
        layout: &Layout,
        row: &Map<String, Json>,
    ) -> Result<(), StoreError>;
    /// Delete the row of an up-direction table named by its key.
    fn delete_row(
        &mut self,
        table: &str,
        layout: &Layout,
        key: &Map<String, Json>,
    ) -> Result<(), StoreError>;
    /// A journal line of till `till`, result `ok`.
    fn journal(&mut self, at: &str, kind: &str, till: &str, detail: &str)
    -> Result<(), StoreError>;
    /// Open the savepoint of one item.
    fn savepoint(&mut self) -> Result<(), StoreError>;
    /// Keep what was written since the savepoint.
    fn release(&mut self) -> Result<(), StoreError>;
    /// Undo what was written since the savepoint, and close it.
    fn rollback_to(&mut self) -> Result<(), StoreError>;
    /// The database's words when `e` was caused by the data itself (a
    /// constraint, a type), not by the database.
    fn data_error(&self, e: &StoreError) -> Option<String>;
}

/// `CLI`'s real name, layout and (single) key column.
fn customer_layout(steps: &mut dyn CustomerSteps) -> Result<(String, Layout, String), StoreError> {
    let table = steps
        .table_name(CUSTOMER_TABLE)?
        .ok_or_else(|| StoreError::NoSuchTable(CUSTOMER_TABLE.into()))?;
    let layout = steps.layout(&table)?;
    if layout.key.len() != 1 {
        return Err(StoreError::Inconsistent(format!(
            "table {table} must have a one-column primary key (the customer code)"
        )));
    }
    let key = layout.key[0].clone();
    Ok((table, layout, key))
}

/// The next free code after the template's prefix: `CLI000000` gives the
/// prefix `CLI` and 6 digits; the next code is one above the highest code
/// of that shape in `CLI` or ever created at a till (abandoned codes are
/// not reused).
fn allocate_code(
    steps: &mut dyn CustomerSteps,
    table: &str,
    key_col: &str,
    template: &str,
) -> Result<String, StoreError> {
    let (prefix, width) = codes::code_shape(template);
    let mut n = steps.highest_code(table, key_col, prefix, width)? + 1;
    loop {
        let code = codes::code(prefix, n, width);
        if !steps.code_taken(table, key_col, &code)? {
            steps.code_allocated(prefix, n)?;
            return Ok(code);
        }
        n += 1;
    }
}

/// Create a customer for till `till_id` of `store` inside the caller's
/// transaction (which holds the write lock, or the code counter, so that
/// two creations never get the same code): copy the template customer's
/// row, override the name and the given fields, set the store filter
/// column (when `CLI` travels down filtered by store and the till did not
/// give it) to the till's store, allocate the next code after the
/// template's prefix (`CLI000000` → `CLI000201`), record who created it and
/// journal it. Returns the full record.
pub fn create_customer(
    steps: &mut dyn CustomerSteps,
    till_id: &str,
    store: &str,
    template: &str,
    req: &CustomerCreate,
) -> Result<CustomerRecord, StoreError> {
    let bad = StoreError::BadCustomer;
    let name = fields::customer_name(&req.name).map_err(bad)?;
    let (table, layout, key_col) = customer_layout(steps)?;
    let name_col = fields::column(&layout, NAME_COLUMN)
        .ok_or_else(|| {
            StoreError::Inconsistent(format!("table {table} has no column {NAME_COLUMN}"))
        })?
        .name
        .clone();
    let no_template = || StoreError::NoTemplateCustomer(template.to_string());
    if steps
        .read_row(&table, &layout, &key_col, template, false)?
        .is_none()
    {
        return Err(no_template());
    }
    let given = fields::create_fields(&table, &layout, &name_col, &req.fields).map_err(bad)?;
    // The store filter column, unless the till gave it.
    let store_col = match steps.down_filter(&table)? {
        Some(filter) if !given.iter().any(|(g, _)| g.eq_ignore_ascii_case(&filter)) => {
            fields::column(&layout, &filter).map(|c| c.name.clone())
        }
        _ => None,
    };
    let mut set = vec![(name_col, Json::String(name.to_string()))];
    set.extend(given);
    if let Some(col) = store_col {
        set.push((col, Json::String(store.to_string())));
    }
    let code = allocate_code(steps, &table, &key_col, template)?;
    set.push((key_col.clone(), Json::String(code.clone())));
    let record = match steps.insert_customer(&table, &layout, &key_col, template, &set) {
        Ok(Some(record)) => record,
        Ok(None) => return Err(no_template()),
        Err(e) => {
            return Err(match steps.data_error(&e) {
                Some(m) => bad(format!("the customer cannot be stored: {m}")),
                None => e,
            });
        }
    };
    let now = tillsync_db::now_rfc3339();
    steps.record_origin(&code, till_id, &now)?;
    steps.record_own_write(&table, &code, till_id)?;
    steps.journal(
        &now,
        "customer-create",
        till_id,
        &format!("customer {code} created from template {template}"),
    )?;
    Ok(record)
}

/// Run `f` in a savepoint: a refusal (`Ok(Rejected)`) or an error rolls
/// back what `f` wrote (the caller's transaction stays usable), and a data
/// error (constraint, type) becomes a refusal.
fn in_savepoint(
    steps: &mut dyn CustomerSteps,
    f: impl FnOnce(&mut dyn CustomerSteps) -> Result<UpOutcome, StoreError>,
) -> Result<UpOutcome, StoreError> {
    steps.savepoint()?;
    let result = f(steps);
    match &result {
        Ok(UpOutcome::Applied(_)) => steps.release()?,
        Ok(UpOutcome::Rejected(_)) => steps.rollback_to()?,
        // The first error is the one to report (a lost connection fails
        // the rollback too).
        Err(_) => drop(steps.rollback_to()),
    }
    match result {
        Err(e) => match steps.data_error(&e) {
            Some(m) => Ok(UpOutcome::Rejected(format!(
                "the database refused the change: {m}"
            ))),
            None => Err(e),
        },
        other => other,
    }
}

/// Apply a `customer-edit` item of till `till_id` inside the caller's
/// transaction: the changed fields go to `CLI`, unless the server changed
/// the customer since the till's version and the table's policy keeps the
/// server's row; either way the losing version goes to the conflict audit.
/// The customer's row is locked while this decides (where rows can be
/// locked).
pub fn apply_customer_edit(
    steps: &mut dyn CustomerSteps,
    till_id: &str,
    edit: &CustomerEdit,
) -> Result<UpOutcome, StoreError> {
    let reject = |m: String| Ok(UpOutcome::Rejected(m));
    let (table, layout, key_col) = match customer_layout(steps) {
        Ok(t) => t,
        Err(StoreError::NoSuchTable(t)) => {
            return reject(format!("the server has no customers table {t}"));
        }
        Err(e) => return Err(e),
    };
    let Some(policy) = steps.policy(&table)? else {
        return reject(format!(
            "table {table} is not registered as an up sync table, so customer edits are not accepted \
             (tillsync server tables add --table {table} --type incremental --direction up)"
        ));
    };
    if edit.fields.is_empty() {
        return reject("the edit changes no field".into());
    }
    let sets = match fields::edit_fields(&table, &layout, &edit.fields) {
        Ok(sets) => sets,
        Err(m) => return reject(m),
    };
    let Some(current) = steps.read_row(&table, &layout, &key_col, &edit.code, true)? else {
        return reject(format!(
            "customer {} does not exist on the server (deleted there?)",
            edit.code
        ));
    };
    let changed_at = steps
        .row_history(&table, &edit.code, till_id)?
        .server_change_since(edit.base_version);
    let winner = resolve(policy, changed_at, &edit.edited_at);
    in_savepoint(steps, |steps| {
        let note = match winner {
            Some(winner) => {
                steps.insert_conflict(
                    &table,
                    &edit.code,
                    till_id,
                    &Json::Object(current).to_string(),
                    &Json::Object(edit.fields.clone()).to_string(),
                    winner,
                    &tillsync_db::now_rfc3339(),
                )?;
                Some(conflict_note(&edit.code, policy, winner))
            }
            None => None,
        };
        if winner != Some(Winner::Server) {
            steps.update_customer(&table, &key_col, &edit.code, &sets)?;
            steps.record_own_write(&table, &edit.code, till_id)?;
        }
        Ok(UpOutcome::Applied(note))
    })
}

/// Apply a `customer-abandon` item of till `till_id` inside the caller's
/// transaction: delete the customer if this till created it and no ticket
/// uses it; otherwise refuse, saying why (and send the customer down again:
/// the till removed its copy when it queued the abandon).
pub fn apply_customer_abandon(
    steps: &mut dyn CustomerSteps,
    till_id: &str,
    abandon: &CustomerAbandon,
) -> Result<UpOutcome, StoreError> {
    let code = &abandon.code;
    let refusal = match steps.creator(code)? {
        None => Some(format!(
            "customer {code} was not created at a till; only a creation made at a till can be abandoned"
        )),
        Some((creator, _)) if creator != till_id => Some(format!(
            "customer {code} was created by till {creator}, not by this till; only its creator can abandon it"
        )),
        Some((_, Some(_))) => return Ok(UpOutcome::Applied(Some("already abandoned".into()))),
        Some(_) => steps.tickets_using(code)?.map(|n| {
            format!(
                "customer {code} is used by {n} ticket(s) on the server; a customer that a ticket uses is kept"
            )
        }),
    };
    if let Some(m) = refusal {
        // The till already removed its copy: a refused abandon re-sends the
        // customer down, so the till gets it back with its next load.
        if let Ok((table, _, key_col)) = customer_layout(steps) {
            steps.resend_customer(&table, &key_col, code)?;
        }
        return Ok(UpOutcome::Rejected(m));
    }
    let (table, _, key_col) = customer_layout(steps)?;
    in_savepoint(steps, |steps| {
        steps.delete_customer(&table, &key_col, code)?;
        let now = tillsync_db::now_rfc3339();
        steps.mark_abandoned(code, &now)?;
        steps.journal(
            &now,
            "customer-abandon",
            till_id,
            &format!("customer {code} deleted (creation abandoned at the till)"),
        )?;
        Ok(UpOutcome::Applied(None))
    })
}

/// Apply a `row` item of till `till_id` inside the caller's transaction: an
/// upsert or delete into a table registered up only. Columns are checked
/// against the server table; a `till_id` column must name the sending till
/// (an upsert without it gets it).
pub fn apply_row_change(
    steps: &mut dyn CustomerSteps,
    till_id: &str,
    change: &RowChange,
) -> Result<UpOutcome, StoreError> {
    let reject = |m: String| Ok(UpOutcome::Rejected(m));
    if change.op != "upsert" && change.op != "delete" {
        return reject(format!(
            "unknown row operation {:?}: expected upsert or delete",
            change.op
        ));
    }
    if let Err(e) = tillsync_core::ident::validate(&change.table) {
        return reject(format!("invalid table name: {e}"));
    }
    let Some(table) = steps.table_name(&change.table)? else {
        return reject(format!(
            "table {} does not exist on the server",
            change.table
        ));
    };
    if steps.policy(&table)?.is_none() {
        return reject(format!(
            "table {table} is not registered as an up sync table"
        ));
    }
    if steps.travels_down(&table)? {
        return reject(format!(
            "table {table} also travels down; row changes are accepted only for tables that travel up only"
        ));
    }
    let layout = steps.layout(&table)?;
    let mut row = Map::new();
    for (k, v) in &change.row {
        let Some(col) = fields::column(&layout, k) else {
            return reject(format!("table {table} has no column {k:?}"));
        };
        match fields::field_value(col, v) {
            Ok(value) => {
                row.insert(col.name.clone(), value);
            }
            Err(e) => return reject(format!("column {k}: {e}")),
        }
    }
    if let Some(tc) = fields::column(&layout, "till_id") {
        match row.get(&tc.name) {
            Some(Json::String(t)) if t == till_id => {}
            Some(v) => {
                return reject(format!(
                    "the row names till {v}; a till may only send its own rows"
                ));
            }
            None if change.op == "upsert" => {
                row.insert(tc.name.clone(), Json::String(till_id.into()));
            }
            None => {}
        }
    }
    for k in &layout.key {
        if !row.contains_key(k) {
            return reject(format!("the row lacks key column {k} of table {table}"));
        }
    }
    if change.op == "delete" {
        // A deletion names its row by the key alone.
        row.retain(|c, _| layout.key.contains(c));
        in_savepoint(steps, |steps| {
            steps.delete_row(&table, &layout, &row)?;
            Ok(UpOutcome::Applied(None))
        })
    } else {
        in_savepoint(steps, |steps| {
            steps.upsert_row(&table, &layout, &row)?;
            Ok(UpOutcome::Applied(None))
        })
    }
}
