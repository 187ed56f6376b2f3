-- The demo customers table on PostgreSQL, as crates/tillsync-store/src/demo.rs
-- creates it on SQLite (the template customer is CLI000000).
CREATE TABLE IF NOT EXISTS "CLI" (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT,
    city TEXT,
    store TEXT,
    phone TEXT,
    loyalty_points INTEGER NOT NULL DEFAULT 0
);
