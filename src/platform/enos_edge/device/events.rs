//! What [`EdgeDevice::poll`](super::EdgeDevice::poll) reports: events, errors, counters.

use super::super::codec::CodecError;
use super::super::endpoints::EndpointError;
use crate::FailureCause;
use crate::agent::OfferOutcome;
use crate::platform::Event;
use crate::transport::SourceError;
use crate::transport::http::HttpError;

/// Why a checkversion exchange or a report did not go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EdgeError {
    /// An endpoint URL could not be built.
    Endpoint(EndpointError),
    /// A request body could not be encoded, or an answer could not be decoded.
    Codec(CodecError),
    /// The HTTP exchange failed.
    Http(HttpError),
    /// The Edge answered with this non-success status (`httpstatus` when its body had one).
    Status(u16),
    /// The first byte of the image (the size probe) could not be fetched; retried at the next
    /// poll.
    Probe(SourceError),
}

impl EdgeError {
    /// The same failure as a [`SourceError`], the kind every driver's
    /// [`Event::Retry`](crate::platform::Event::Retry) carries: whether waiting can help.
    pub const fn source_error(self) -> SourceError {
        match self {
            Self::Endpoint(_) => SourceError::InvalidLocation,
            Self::Codec(_) => SourceError::Protocol,
            Self::Http(e) => e.source_error(),
            Self::Status(s) => match crate::transport::http::status_error(s) {
                Some(e) => e,
                // A 2xx the flow still could not use.
                None => SourceError::Protocol,
            },
            Self::Probe(e) => e,
        }
    }
}

impl core::fmt::Display for EdgeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Endpoint(_) => f.write_str("endpoint URL could not be built"),
            Self::Codec(_) => f.write_str("message could not be encoded or decoded"),
            Self::Http(_) => f.write_str("HTTP exchange failed"),
            Self::Status(s) => write!(f, "edge answered status {s}"),
            Self::Probe(_) => f.write_str("size probe failed"),
        }
    }
}

impl core::error::Error for EdgeError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Endpoint(e) => Some(e),
            Self::Codec(e) => Some(e),
            Self::Http(e) => Some(e),
            Self::Probe(e) => Some(e),
            _ => None,
        }
    }
}

/// Which call delivered (part of) a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeCallKind {
    /// `POST /downloadresult/{id}` with this code.
    DownloadResult {
        /// 1 success, 0 failure.
        code: u8,
    },
    /// `POST /updateresult` with this flag and process.
    UpdateResult {
        /// 0 failed, 1 in progress, 2 done.
        flag: u8,
        /// 0..=100.
        process: u8,
    },
}

/// What one step of the device did, with the Edge's detail; [`EdgeDevice::poll`](super::EdgeDevice::poll)
/// answers it as an [`Event`] and keeps the detail ([`EdgeDevice::last_call`](super::EdgeDevice::last_call),
/// [`EdgeDevice::last_error`](super::EdgeDevice::last_error)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EdgeEvent {
    /// Nothing was due.
    Idle,
    /// checkversion: no update.
    NoUpdate,
    /// checkversion offered an update; this is what the Agent made of it.
    Offered(OfferOutcome),
    /// checkversion offered an update refused or failed earlier (or already staged): not
    /// offered again yet.
    Ignored,
    /// checkversion offered an update the flow could not use (bad url, digest, size…); a
    /// failure report is queued.
    BadOffer(FailureCause),
    /// checkversion did not go through; the next one follows after the poll interval.
    CheckFailed(EdgeError),
    /// Downloading: progress in percent.
    Downloading {
        /// 0..=100.
        percent: u8,
    },
    /// The update waits for the start the application asked for.
    Waiting,
    /// The image is verified and staged; the application was asked to reboot.
    Staged,
    /// The update failed; the failure reports are queued.
    UpdateFailed(FailureCause),
    /// The Edge accepted this call (the report is delivered once all its calls are).
    Reported(EdgeCallKind),
    /// The call could not be delivered now (link failure, an answer that is no answer, or a
    /// 5xx `httpstatus`); it is sent again after `report_retry_ms`, until the Edge takes it.
    ReportFailed(EdgeError),
    /// The Edge refused the call for good with a 4xx `httpstatus` (400 bad request, 404
    /// unsupported url, 406 not acceptable): it is not sent again, and the report moves on.
    ReportRejected {
        /// The call refused.
        call: EdgeCallKind,
        /// The `httpstatus` (or HTTP status) of the refusal.
        status: u16,
    },
}

impl From<EdgeEvent> for Event {
    fn from(event: EdgeEvent) -> Self {
        match event {
            EdgeEvent::Idle => Self::Idle,
            EdgeEvent::NoUpdate => Self::NoUpdate,
            EdgeEvent::Offered(outcome) => Self::Offered(outcome),
            EdgeEvent::Ignored => Self::Ignored,
            EdgeEvent::BadOffer(cause) => Self::Unusable(cause),
            EdgeEvent::CheckFailed(e) | EdgeEvent::ReportFailed(e) => Self::Retry(e.source_error()),
            EdgeEvent::Downloading { percent } => Self::Downloading { percent },
            EdgeEvent::Waiting => Self::Waiting,
            EdgeEvent::Staged => Self::Staged,
            EdgeEvent::UpdateFailed(cause) => Self::Failed(cause),
            EdgeEvent::Reported(_) => Self::Reported,
            EdgeEvent::ReportRejected { status, .. } => Self::ReportRejected { status },
        }
    }
}

/// Counters, for diagnostics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EdgeStats {
    /// checkversion requests sent.
    pub checks: u32,
    /// Size probes made.
    pub probes: u32,
    /// Report calls the Edge accepted.
    pub calls_accepted: u32,
    /// Report calls that failed and wait to be sent again.
    pub calls_failed: u32,
    /// Report calls the Edge refused for good (4xx).
    pub calls_rejected: u32,
}
