-- Tests only: the tables of the PostgreSQL server that the up path reads
-- but does not own (journal, sync tables with their conflict policy, change
-- log and its capture on CLI), in the shape the up path expects. Runs
-- after demo_customers.sql.
CREATE TABLE IF NOT EXISTS tillsync_journal(
    id BIGSERIAL PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL, till TEXT,
    result TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tillsync_sync_tables(
    tbl TEXT NOT NULL, direction TEXT NOT NULL, sync_type TEXT NOT NULL,
    filter_column TEXT, created_at TEXT NOT NULL,
    conflict_policy TEXT NOT NULL DEFAULT 'server-wins',
    PRIMARY KEY (tbl, direction));
CREATE TABLE IF NOT EXISTS tillsync_changes(
    seq BIGSERIAL PRIMARY KEY, tbl TEXT NOT NULL, op TEXT NOT NULL,
    k1 TEXT, k2 TEXT, k3 TEXT, k4 TEXT,
    at BIGINT NOT NULL DEFAULT (EXTRACT(EPOCH FROM now())::BIGINT));
CREATE OR REPLACE FUNCTION tillsync_test_capture_cli() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO tillsync_changes(tbl, op, k1) VALUES ('CLI', 'D', OLD.code);
    ELSIF TG_OP = 'UPDATE' THEN
        IF OLD.code IS DISTINCT FROM NEW.code THEN
            INSERT INTO tillsync_changes(tbl, op, k1) VALUES ('CLI', 'D', OLD.code);
        END IF;
        INSERT INTO tillsync_changes(tbl, op, k1) VALUES ('CLI', 'U', NEW.code);
    ELSE
        INSERT INTO tillsync_changes(tbl, op, k1) VALUES ('CLI', 'I', NEW.code);
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS tillsync_test_capture_cli ON "CLI";
CREATE TRIGGER tillsync_test_capture_cli AFTER INSERT OR UPDATE OR DELETE ON "CLI"
    FOR EACH ROW EXECUTE FUNCTION tillsync_test_capture_cli();
