-- tillsync on PostgreSQL, step 4 of the server schema: customers created
-- at tills, the conflict audit, per-row export versions and the changes
-- tills made themselves (see up/customers.rs); the step also adds the
-- conflict policy of a sync table (in db.rs). Idempotent: every statement
-- may run again on a database that has them.
CREATE TABLE IF NOT EXISTS tillsync_customer_origin(
    code TEXT PRIMARY KEY, till_id TEXT NOT NULL, created_at TEXT NOT NULL,
    abandoned_at TEXT);
CREATE TABLE IF NOT EXISTS tillsync_conflicts(
    id BIGSERIAL PRIMARY KEY, tbl TEXT NOT NULL, key TEXT NOT NULL, till_id TEXT NOT NULL,
    server_value TEXT, till_value TEXT NOT NULL, winner TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tillsync_row_versions(
    tbl TEXT NOT NULL, key TEXT NOT NULL, version BIGINT NOT NULL,
    last_seq BIGINT NOT NULL, changed_at BIGINT NOT NULL, PRIMARY KEY (tbl, key));
CREATE TABLE IF NOT EXISTS tillsync_row_writes(
    tbl TEXT NOT NULL, key TEXT NOT NULL, till_id TEXT NOT NULL, seq BIGINT NOT NULL,
    PRIMARY KEY (tbl, key));
-- The last customer code number allocated per code prefix: the row is
-- locked by the creating transaction, so concurrent server processes never
-- hand out the same code.
CREATE TABLE IF NOT EXISTS tillsync_customer_codes(
    prefix TEXT PRIMARY KEY, last_number BIGINT NOT NULL);
