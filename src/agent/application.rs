//! [`Application`]: the hooks through which the firmware takes part in an update.

use crate::Offer;

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

/// Hooks the [`Agent`](super::Agent) calls. Every method has a default, so a minimal
/// application implements only [`Application::request_reboot`].
pub trait Application {
    /// Decides about an offer that passed the library's own checks (upon-device-request
    /// mode: the application chooses; forced push: return `AcceptNow`).
    fn decide<const L: usize>(&mut self, _offer: &Offer<L>) -> Decision {
        Decision::AcceptNow
    }

    /// Runs after a trial boot of a new image, before it is confirmed: `false` rolls it back.
    fn self_test(&mut self) -> bool {
        true
    }

    /// The update is staged (or must be rolled back): reboot when convenient.
    fn request_reboot(&mut self);
}
