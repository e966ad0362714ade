//! [`HttpError`], and its mapping onto the download engine's [`SourceError`].

use super::{BodyError, ConnectError, HeadError, RequestError, UrlError};
use crate::transport::SourceError;

/// Why an HTTP exchange failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
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
    /// A redirect from an `https` URL to an `http` one: refused, since it would carry the
    /// request (and what it asks for) off the encrypted connection. Not retryable.
    InsecureRedirect,
    /// More interim (`1xx`) heads before the final head than the client takes
    /// ([`MAX_INTERIM_HEADS`](super::client::MAX_INTERIM_HEADS)).
    TooManyInterim,
    /// The whole response head (status line, headers and any interim heads) did not arrive
    /// within the client's head deadline
    /// ([`set_head_timeout_ms`](super::HttpClient::set_head_timeout_ms)), although each read
    /// kept within the connection's own time limit (a server that trickles its head).
    HeadTimeout,
}

impl HttpError {
    /// The error the download engine sees.
    pub const fn source_error(self) -> SourceError {
        match self {
            // The location leads nowhere the client may go: trying again cannot help.
            Self::Url(_)
            | Self::UrlTooLong
            | Self::Request(_)
            | Self::BadRedirect
            | Self::InsecureRedirect => SourceError::InvalidLocation,
            Self::Connect(ConnectError::UnsupportedScheme) => SourceError::InvalidLocation,
            Self::Connect(ConnectError::Timeout) | Self::Timeout | Self::HeadTimeout => SourceError::Timeout,
            Self::Connect(_) | Self::Io(_) | Self::Closed | Self::Body(BodyError::Truncated) => {
                SourceError::ConnectionLost
            }
            Self::Head(_)
            | Self::Body(_)
            | Self::AnswerTooLarge
            | Self::TooManyRedirects
            | Self::TooManyInterim => SourceError::Protocol,
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

impl core::fmt::Display for HttpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Url(_) => f.write_str("invalid URL"),
            Self::UrlTooLong => f.write_str("URL too long for the client's buffer"),
            Self::Request(_) => f.write_str("request head could not be encoded"),
            Self::Connect(_) => f.write_str("connection could not be opened"),
            Self::Io(kind) => write!(f, "connection I/O failed: {kind:?}"),
            Self::Timeout => f.write_str("connection timed out"),
            Self::Closed => f.write_str("connection closed before the response head"),
            Self::Head(_) => f.write_str("malformed response head"),
            Self::Body(_) => f.write_str("malformed response body"),
            Self::AnswerTooLarge => f.write_str("answer body too large for the buffer"),
            Self::TooManyRedirects => f.write_str("too many redirects"),
            Self::BadRedirect => f.write_str("redirect without a usable location"),
            Self::InsecureRedirect => f.write_str("redirect from https to http refused"),
            Self::TooManyInterim => f.write_str("too many interim responses"),
            Self::HeadTimeout => f.write_str("response head timed out"),
        }
    }
}

/// `source()` is the wrapped URL, request, connect, head or body error. `Io` carries an
/// [`embedded_io::ErrorKind`], which is no `core::error::Error`: its kind is in the message.
impl core::error::Error for HttpError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Url(e) => Some(e),
            Self::Request(e) => Some(e),
            Self::Connect(e) => Some(e),
            Self::Head(e) => Some(e),
            Self::Body(e) => Some(e),
            _ => None,
        }
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
