//! [`HttpError`], and its mapping onto the download engine's [`SourceError`].

use super::{BodyError, ConnectError, HeadError, RequestError, UrlError};
use crate::transport::SourceError;

/// Why an HTTP exchange failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpError {
    /// The URL (or a redirect's `Location`) could not be parsed or resolved.
    Url(UrlError),
    /// A URL does not fit in the client's URL buffer.
    UrlTooLong,
    /// The request head could not be encoded.
    Request(RequestError),
    /// The connection could not be opened.
    Connect(ConnectError),
    /// Reading or writing the connection failed.
    Io(embedded_io::ErrorKind),
    /// A read or write hit the connection's time limit.
    Timeout,
    /// The server closed the connection before the response head was complete.
    Closed,
    /// The response head is malformed or too large.
    Head(HeadError),
    /// The response body is malformed or was cut short.
    Body(BodyError),
    /// An answer body does not fit in the caller's buffer.
    AnswerTooLarge,
    /// More redirects than the client allows.
    TooManyRedirects,
    /// A redirect without a usable `Location`.
    BadRedirect,
}

impl HttpError {
    /// The error the download engine sees.
    pub const fn source_error(self) -> SourceError {
        match self {
            Self::Url(_) | Self::UrlTooLong | Self::Request(_) | Self::BadRedirect => {
                SourceError::InvalidLocation
            }
            Self::Connect(ConnectError::UnsupportedScheme) => SourceError::InvalidLocation,
            Self::Connect(ConnectError::Timeout) | Self::Timeout => SourceError::Timeout,
            Self::Connect(_) | Self::Io(_) | Self::Closed | Self::Body(BodyError::Truncated) => {
                SourceError::ConnectionLost
            }
            Self::Head(_) | Self::Body(_) | Self::AnswerTooLarge | Self::TooManyRedirects => {
                SourceError::Protocol
            }
        }
    }
}

impl From<UrlError> for HttpError {
    fn from(e: UrlError) -> Self {
        Self::Url(e)
    }
}

impl From<RequestError> for HttpError {
    fn from(e: RequestError) -> Self {
        Self::Request(e)
    }
}

impl From<HeadError> for HttpError {
    fn from(e: HeadError) -> Self {
        Self::Head(e)
    }
}

impl From<BodyError> for HttpError {
    fn from(e: BodyError) -> Self {
        Self::Body(e)
    }
}

// `embedded_io::ErrorKind` has no `defmt::Format` (embedded-io 0.6 speaks defmt 0.3).
#[cfg(feature = "defmt")]
impl defmt::Format for HttpError {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{}", defmt::Debug2Format(self))
    }
}

impl core::fmt::Display for HttpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self, f)
    }
}

/// Maps a status code of a download answer onto the engine's error, `None` for success
/// (200, 206).
pub const fn status_error(status: u16) -> Option<SourceError> {
    match status {
        200 | 206 => None,
        404 | 410 => Some(SourceError::NotFound),
        401 | 403 => Some(SourceError::Unauthorized),
        500..=599 => Some(SourceError::Server),
        _ => Some(SourceError::Protocol),
    }
}
