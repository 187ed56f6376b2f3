//! CLI: configuration, sync tables, checks, deployment packages.
