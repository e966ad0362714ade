//! [`Application`]: the hooks through which the firmware takes part in an update.

use crate::Version;

/// The application's answer to an offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Decision {
    /// Start downloading now.
    AcceptNow,
    /// Start downloading after this many milliseconds (a busy period, a maintenance window).
    Later {
        /// Delay in milliseconds.
        delay_ms: u64,
    },
    /// Refuse the update: reported to the platform as declined.
    Decline,
}

/// Hooks the [`Agent`](super::Agent) calls. Every method has a default (accept every
/// offer, pass every self-test, no reboot hook), and `()` is the application that keeps
/// them all: a device that reboots when its platform driver says so
/// ([`AgentEvent::Staged`](super::AgentEvent::Staged)) needs no implementation.
pub trait Application {
    /// Decides about an offer of firmware `version`, `size` bytes, that passed the library's
    /// own checks (upon-device-request mode: the application chooses; forced push: return
    /// `AcceptNow`). Takes no capacity parameter: an implementation names no buffer size.
    fn decide(&mut self, _version: &Version, _size: u32) -> Decision {
        Decision::AcceptNow
    }

    /// Runs after a trial boot of a new image, before it is confirmed: `false` rolls it back.
    fn self_test(&mut self) -> bool {
        true
    }

    /// The update is staged (or must be rolled back): reboot when convenient. The same moment
    /// is also the driver's event [`AgentEvent::Staged`](super::AgentEvent::Staged).
    fn request_reboot(&mut self) {}
}

/// The application that accepts every offer and passes every self-test.
impl Application for () {}

impl<A: Application + ?Sized> Application for &mut A {
    fn decide(&mut self, version: &Version, size: u32) -> Decision {
        (**self).decide(version, size)
    }
    fn self_test(&mut self) -> bool {
        (**self).self_test()
    }
    fn request_reboot(&mut self) {
        (**self).request_reboot()
    }
}
