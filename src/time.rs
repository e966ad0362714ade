//! Time, as the caller's clock tells it.

/// A monotonic millisecond clock. On a device: a timer peripheral or an RTOS tick; on the
/// host: `std::time::Instant` (see [`StdClock`], feature `std`) or a virtual clock in tests.
pub trait Clock {
    /// Milliseconds since an arbitrary fixed start; never goes backwards.
    fn now_ms(&self) -> u64;
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now_ms(&self) -> u64 {
        (**self).now_ms()
    }
}

/// A clock that never moves: it always reads 0 ms. It stands in where a component can take a
/// clock and was given none (see [`HttpClient::new`](crate::transport::http::HttpClient::new)):
/// a deadline measured with it never expires.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NoClock;

impl Clock for NoClock {
    fn now_ms(&self) -> u64 {
        0
    }
}

/// The host's monotonic clock.
#[cfg(feature = "std")]
#[derive(Debug, Clone, Copy)]
pub struct StdClock {
    start: std::time::Instant,
}

#[cfg(feature = "std")]
impl StdClock {
    /// A clock starting at zero now.
    pub fn new() -> Self {
        Self { start: std::time::Instant::now() }
    }
}

#[cfg(feature = "std")]
impl Default for StdClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "std")]
impl Clock for StdClock {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// Milliseconds since this instant: a host clock with no type of this crate to name.
#[cfg(feature = "std")]
impl Clock for std::time::Instant {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}
