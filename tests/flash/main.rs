//! Integration tests of the flash layer: the journal under power cuts and random operations.
//!
//! One test binary per layer (`tests/<layer>/main.rs`), so that the crate is linked once per
//! layer rather than once per file.

mod journal_power_sweep;
mod journal_props;
