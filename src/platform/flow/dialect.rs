//! [`Dialect`]: the part of a [`Flow`](super::Flow) that speaks one platform.

use crate::agent::{OfferOutcome, Report};
use crate::platform::json::DecodeError;
use crate::{FailureCause, Offer, Version};

/// What a downlink asks of the device, as a [`Dialect`] decodes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound<const L: usize> {
    /// Install this firmware: handed to [`Agent::offer`](crate::agent::Agent::offer).
    Offer(Offer<L>),
    /// An offer whose version reads but which cannot be used (a digest that is not hex, a
    /// size that is not a number, no URL, a URL too long to keep, a key given twice in any
    /// object of the message, which names the first `version` here): the platform hears a
    /// failure for `version` with `cause` (so it does not wait for a report that would never
    /// come), and the Agent never sees the offer.
    Unusable {
        /// The version the message offered.
        version: Version,
        /// Why it cannot be used.
        cause: FailureCause,
    },
    /// Report the running version.
    ReportVersion,
    /// Nothing to do (a reply, an unknown or malformed message).
    Ignore,
}

/// One platform's topics and message formats, as a [`Flow`](super::Flow) uses them.
pub trait Dialect<const L: usize> {
    /// How many topic filters the device subscribes to.
    fn filter_count(&self) -> usize;

    /// Builds the `index`-th filter into `buf`.
    fn filter<'b>(&self, index: usize, buf: &'b mut [u8]) -> Option<&'b str>;

    /// True when a message on `topic` is for this dialect (its device's downlink topics);
    /// the flow hands others to the application ([`Flow::poll_with`](super::Flow::poll_with)).
    /// The default takes every topic.
    fn owns(&self, _topic: &str) -> bool {
        true
    }

    /// Decodes a message received on `topic`. `running` is the running version.
    fn decode(&mut self, topic: &str, payload: &[u8], running: &Version) -> Inbound<L>;

    /// A new session is ready (after the version report was queued).
    fn session_ready(&mut self) {}

    /// What the Agent made of the offer the last [`Dialect::decode`] returned.
    fn offer_outcome(&mut self, _outcome: OfferOutcome) {}

    /// A message of the dialect's own to send (a reply to a request, a request for
    /// firmware): encodes its topic into `topic` and its payload into `out`, returns their
    /// lengths. It stays next until [`Dialect::request_sent`].
    fn next_request(&mut self, _topic: &mut [u8], _out: &mut [u8]) -> Option<(usize, usize)> {
        None
    }

    /// The message [`Dialect::next_request`] gave was published.
    fn request_sent(&mut self) {}

    /// Encodes `report` as the platform's uplink: topic into `topic`, payload into `out`;
    /// returns their lengths, or `None` when the platform has no message for it (or it
    /// cannot be encoded), in which case the report is dropped.
    fn encode_report(
        &mut self,
        report: &Report,
        running: &Version,
        topic: &mut [u8],
        out: &mut [u8],
    ) -> Option<(usize, usize)>;
}

/// The failure a platform hears for an offer that did not decode with `error`; `url_key`
/// names the offer's URL field (used by the Tencent and Huawei dialects).
#[cfg_attr(not(any(feature = "tencent", feature = "huawei")), allow(dead_code))]
pub(crate) fn unusable_cause(error: DecodeError, url_key: &str) -> FailureCause {
    match error {
        DecodeError::MissingField(k) | DecodeError::InvalidField(k) if k == url_key => {
            FailureCause::InvalidUri
        }
        // A text longer than the buffers this build keeps it in.
        DecodeError::FieldTooLong(_) => FailureCause::OutOfMemory,
        _ => FailureCause::InvalidOffer,
    }
}
