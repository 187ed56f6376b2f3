//! The up path written once for every backend: the batch loop.

pub mod batch;
