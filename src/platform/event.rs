//! [`Event`]: what one `poll` of a platform driver did, the same type for every driver (the
//! main loop it serves is in the [`platform`](crate::platform) docs).

use crate::FailureCause;
use crate::agent::{AgentEvent, OfferOutcome};
use crate::transport::SourceError;

/// What one `poll` of a platform driver did: the same type for every driver, so that a
/// device's main loop is the same on every platform (see [`platform`](crate::platform)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Event {
    /// Nothing was due: sleep, or wait for the transport's interrupt.
    Idle,
    /// The platform answered a check or a version report: no update for this device.
    NoUpdate,
    /// An offer arrived; this is what the Agent made of it.
    Offered(OfferOutcome),
    /// An offer arrived that cannot be used (bad URL, digest, size…); a failure report is
    /// queued, the Agent never saw it.
    Unusable(FailureCause),
    /// An offer arrived of firmware refused, failed or staged earlier: not taken again yet.
    Ignored,
    /// The download waits: for the start the application asked for, or for the link.
    Waiting,
    /// Image bytes moved; progress in percent.
    Downloading {
        /// 0..=100.
        percent: u8,
    },
    /// The image is verified and staged. [`Event::Reboot`] follows once the reports are out.
    Staged,
    /// The update failed; its failure report is queued.
    Failed(FailureCause),
    /// The platform acknowledged a report (or one call of it); the Agent forgot it.
    Reported,
    /// The platform refused a report for good (`status`: its HTTP or protocol code); it is
    /// not sent again.
    ReportRejected {
        /// The platform's status or result code of the refusal.
        status: u16,
    },
    /// An exchange with the platform failed (a check, a report, the size probe); the driver
    /// tries again after its retry interval. The variant says whether waiting can help.
    Retry(SourceError),
    /// The session to the platform came up (MQTT: subscriptions and the version report
    /// follow).
    Connected,
    /// The session to the platform was lost; a download pauses until it is back.
    Disconnected,
    /// Reboot now: an image is staged, every report is delivered (and, on PCP, the platform
    /// asked to install). The bootloader installs it at the reset.
    Reboot,
}

impl Event {
    /// True for [`Event::Reboot`]: reset the device into the staged image.
    pub const fn is_reboot(&self) -> bool {
        matches!(self, Self::Reboot)
    }

    /// True when nothing moved ([`Event::Idle`], [`Event::Waiting`]): the loop may sleep.
    pub const fn is_idle(&self) -> bool {
        matches!(self, Self::Idle | Self::Waiting)
    }

    /// How much a caller wants to hear of this event when one poll did several things:
    /// an offer over a session change over a delivered report over nothing (the MQTT flow
    /// takes several messages per poll).
    #[cfg(feature = "mqtt")]
    pub(crate) const fn rank(&self) -> u8 {
        match self {
            Self::Idle => 0,
            Self::Reported | Self::NoUpdate => 1,
            Self::Connected | Self::Disconnected | Self::Retry(_) | Self::ReportRejected { .. } => 2,
            _ => 3,
        }
    }

    /// `self` or `other`, whichever [ranks](Self::rank) higher (`self` on a tie).
    #[cfg(feature = "mqtt")]
    pub(crate) const fn or(self, other: Self) -> Self {
        if other.rank() > self.rank() { other } else { self }
    }
}

impl From<AgentEvent> for Event {
    fn from(event: AgentEvent) -> Self {
        match event {
            AgentEvent::Idle => Self::Idle,
            AgentEvent::Waiting => Self::Waiting,
            AgentEvent::Downloading { percent } => Self::Downloading { percent },
            AgentEvent::Staged => Self::Staged,
            AgentEvent::Failed(cause) => Self::Failed(cause),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "mqtt")]
    #[test]
    fn an_offer_outranks_a_session_change_which_outranks_a_delivery() {
        let offered = Event::Offered(OfferOutcome::Accepted);
        assert_eq!(Event::Idle.or(Event::Reported).or(Event::Connected).or(offered), offered);
        assert_eq!(offered.or(Event::Connected), offered);
        assert_eq!(Event::Reported.or(Event::Idle), Event::Reported);
        assert_eq!(Event::Connected.or(Event::Disconnected), Event::Connected, "first on a tie");
    }

    #[test]
    fn agent_events_keep_their_meaning() {
        assert_eq!(Event::from(AgentEvent::Downloading { percent: 7 }), Event::Downloading { percent: 7 });
        assert_eq!(
            Event::from(AgentEvent::Failed(FailureCause::IntegrityCheckFailure)),
            Event::Failed(FailureCause::IntegrityCheckFailure)
        );
        assert!(Event::from(AgentEvent::Waiting).is_idle());
        assert!(!Event::Staged.is_reboot() && Event::Reboot.is_reboot());
    }
}
