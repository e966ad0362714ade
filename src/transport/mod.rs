//! Transports: the traits the library drives and its own implementations over `embedded-io`.
//!
//! The download engine pulls image bytes through a [`ChunkSource`]; HTTP, serial and PCP
//! transports each provide one. All calls are non-blocking in the `nb` style: a transport
//! that has nothing yet answers `WouldBlock` and the caller polls again.

#[cfg(feature = "serial")]
pub mod serial;

/// Why a chunk source could not deliver bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SourceError {
    /// The connection dropped or could not be opened; retrying may succeed.
    ConnectionLost,
    /// No answer within the transport's time limit; retrying may succeed.
    Timeout,
    /// The server says the file does not exist.
    NotFound,
    /// The server refused the credentials, or the presigned location expired.
    Unauthorized,
    /// The location could not be parsed or resolved, or it redirects where the client refuses
    /// to go (from `https` to `http`); retrying cannot help.
    InvalidLocation,
    /// The peer broke the protocol (malformed answer, wrong range, oversized frame).
    Protocol,
    /// The server reports an error of its own.
    Server,
}

impl core::fmt::Display for SourceError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::ConnectionLost => f.write_str("connection lost"),
            Self::Timeout => f.write_str("timed out"),
            Self::NotFound => f.write_str("file not found"),
            Self::Unauthorized => f.write_str("unauthorized or location expired"),
            Self::InvalidLocation => f.write_str("invalid or refused location"),
            Self::Protocol => f.write_str("protocol violation by the peer"),
            Self::Server => f.write_str("server error"),
        }
    }
}

impl core::error::Error for SourceError {}

impl SourceError {
    /// True when a later attempt may succeed, so the engine should back off and retry.
    pub const fn is_transient(self) -> bool {
        matches!(self, Self::ConnectionLost | Self::Timeout | Self::Protocol | Self::Server)
    }

    /// The failure cause to report when this error ends an update.
    pub const fn cause(self) -> crate::FailureCause {
        use crate::FailureCause as C;
        match self {
            Self::ConnectionLost | Self::Protocol | Self::Server => C::ConnectionLost,
            Self::Timeout => C::DownloadTimeout,
            Self::NotFound => C::FileNotFound,
            Self::Unauthorized => C::AuthorisationExpired,
            Self::InvalidLocation => C::InvalidUri,
        }
    }
}

/// Where the download engine gets image bytes from.
///
/// `fetch` fills `buf` with image bytes starting exactly at `offset` and returns how many it
/// wrote (at least 1, at most `buf.len()`). The engine asks for consecutive ranges, so a
/// streaming source (one HTTP response) keeps its stream open while `offset` follows on from
/// the previous call, and reopens at `offset` (an HTTP `Range` request, a serial chunk
/// request) otherwise. A source must never hand back bytes from another offset: an HTTP
/// server that ignores `Range` and answers 200 has its bytes before `offset` discarded.
pub trait ChunkSource {
    /// Fetches image bytes at `offset` into `buf`.
    fn fetch(&mut self, offset: u32, buf: &mut [u8]) -> nb::Result<usize, SourceError>;

    /// Drops any open connection; the next `fetch` reconnects. Called after errors and
    /// before a long pause.
    fn reset(&mut self) {}

    /// Points the source at an offer's `location`, sending `token` (empty for none) as its
    /// credentials; a platform driver calls it before every fetch of that offer. A source
    /// that serves whatever image its host offered (the serial client, PCP, a test's bytes)
    /// keeps the default, which accepts any location. An error fails the update with that
    /// cause.
    fn locate(&mut self, location: &str, token: &str) -> Result<(), SourceError> {
        let _ = (location, token);
        Ok(())
    }
}

impl<T: ChunkSource + ?Sized> ChunkSource for &mut T {
    fn fetch(&mut self, offset: u32, buf: &mut [u8]) -> nb::Result<usize, SourceError> {
        (**self).fetch(offset, buf)
    }
    fn reset(&mut self) {
        (**self).reset()
    }
    fn locate(&mut self, location: &str, token: &str) -> Result<(), SourceError> {
        (**self).locate(location, token)
    }
}

#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "mqtt")]
pub mod mqtt;
#[cfg(feature = "rumqttc")]
pub mod mqtt_std;
