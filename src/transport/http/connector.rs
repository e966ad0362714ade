//! The [`Connector`]: how the client opens a byte stream to a host, over the user's TCP or
//! TLS stack (smoltcp, embassy-net, an AT modem's socket commands, `std::net`).

use super::url::Scheme;

/// Why a connection could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConnectError {
    /// The host name did not resolve.
    HostNotFound,
    /// The host refused or could not be reached.
    Unreachable,
    /// No answer in the connector's time limit.
    Timeout,
    /// The connector cannot open this scheme (for example `https` without a TLS stack).
    UnsupportedScheme,
}

impl core::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::HostNotFound => f.write_str("host not found"),
            Self::Unreachable => f.write_str("host unreachable or refused"),
            Self::Timeout => f.write_str("connect timed out"),
            Self::UnsupportedScheme => f.write_str("connector cannot open this scheme"),
        }
    }
}

impl core::error::Error for ConnectError {}

/// Opens connections for the [`HttpClient`](super::HttpClient).
///
/// The connection is a blocking [`embedded_io::Read`] + [`embedded_io::Write`] stream. Read
/// time limits belong to the connection: a read that waits too long fails with
/// [`embedded_io::ErrorKind::TimedOut`], which the client reports as a timeout. A read of 0
/// bytes means the peer closed.
pub trait Connector {
    /// An open stream.
    type Connection: embedded_io::Read + embedded_io::Write;

    /// Opens a stream to `host:port`, with TLS when `scheme` is [`Scheme::Https`].
    fn connect(&mut self, scheme: Scheme, host: &str, port: u16) -> Result<Self::Connection, ConnectError>;
}

impl<T: Connector + ?Sized> Connector for &mut T {
    type Connection = T::Connection;

    fn connect(&mut self, scheme: Scheme, host: &str, port: u16) -> Result<Self::Connection, ConnectError> {
        (**self).connect(scheme, host, port)
    }
}
