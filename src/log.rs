//! Logging: through `defmt` with feature `defmt`, compiled out otherwise.
//!
//! The macros take a `defmt` format string and arguments. Without the feature they expand
//! to a borrow of each argument, so an argument used only for logging stays "used" and
//! costs nothing. They log decisions a firmware engineer wants to see on a probe (a resumed
//! download, a torn journal tail, a rollback), never per-byte work.

/// Logs at `info` level: one line per decision.
#[cfg(feature = "defmt")]
macro_rules! info {
    ($($t:tt)*) => { defmt::info!($($t)*) };
}

/// Logs at `warn` level: something recovered from (a torn write, a bad record).
#[cfg(feature = "defmt")]
macro_rules! warning {
    ($($t:tt)*) => { defmt::warn!($($t)*) };
}

/// Logs at `debug` level: routine housekeeping (a compaction, a checkpoint).
#[cfg(feature = "defmt")]
macro_rules! debug {
    ($($t:tt)*) => { defmt::debug!($($t)*) };
}

#[cfg(not(feature = "defmt"))]
macro_rules! info {
    ($fmt:literal $(, $arg:expr)* $(,)?) => {{ $( let _ = &$arg; )* }};
}

#[cfg(not(feature = "defmt"))]
macro_rules! warning {
    ($fmt:literal $(, $arg:expr)* $(,)?) => {{ $( let _ = &$arg; )* }};
}

#[cfg(not(feature = "defmt"))]
macro_rules! debug {
    ($fmt:literal $(, $arg:expr)* $(,)?) => {{ $( let _ = &$arg; )* }};
}

pub(crate) use {debug, info, warning};
