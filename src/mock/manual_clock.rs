//! [`ManualClock`]: a virtual clock that tests move by hand.

use crate::time::Clock;
use std::cell::Cell;
use std::rc::Rc;

/// A millisecond clock that only moves when told to. Clones share the same time, so a test
/// can hand one to a mock transport and keep another.
///
/// ```
/// use ota_client::mock::ManualClock;
/// use ota_client::time::Clock;
/// let clock = ManualClock::new();
/// let shared = clock.clone();
/// clock.advance(250);
/// assert_eq!(shared.now_ms(), 250);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    now: Rc<Cell<u64>>,
}

impl ManualClock {
    /// A clock at 0 ms.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the time forward by `ms`.
    pub fn advance(&self, ms: u64) {
        self.now.set(self.now.get().saturating_add(ms));
    }

    /// Sets the time (it should not go backwards; the clock does not check).
    pub fn set(&self, ms: u64) {
        self.now.set(ms);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now.get()
    }
}
