//! Bad input and faults of the down path.
