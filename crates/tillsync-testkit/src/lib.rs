//! tillsync-testkit
