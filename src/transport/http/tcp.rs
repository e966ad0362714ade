//! [`TcpConnector`] (feature `std`): the [`Connector`] over `std::net::TcpStream`, with
//! connect, read and write time limits.

use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use embedded_io::ErrorKind;

use super::{ConnectError, Connector, Scheme};

/// Opens plain TCP connections (`http://` only) with time limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpConnector {
    /// Time limit to open a connection.
    pub connect_timeout: Duration,
    /// Time limit of each read and write; a read that waits longer fails with
    /// [`ErrorKind::TimedOut`].
    pub io_timeout: Duration,
}

impl Default for TcpConnector {
    /// 10 s to connect, 30 s per read or write.
    fn default() -> Self {
        Self { connect_timeout: Duration::from_secs(10), io_timeout: Duration::from_secs(30) }
    }
}

impl Connector for TcpConnector {
    type Connection = TcpConnection;

    fn connect(&mut self, scheme: Scheme, host: &str, port: u16) -> Result<TcpConnection, ConnectError> {
        if scheme != Scheme::Http {
            return Err(ConnectError::UnsupportedScheme);
        }
        let addrs = (host, port).to_socket_addrs().map_err(|_| ConnectError::HostNotFound)?;
        let mut last = ConnectError::HostNotFound;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, self.connect_timeout) {
                Ok(stream) => {
                    let limit = Some(self.io_timeout).filter(|d| !d.is_zero());
                    stream.set_read_timeout(limit).map_err(|_| ConnectError::Unreachable)?;
                    stream.set_write_timeout(limit).map_err(|_| ConnectError::Unreachable)?;
                    // Small request heads go out at once.
                    let _ = stream.set_nodelay(true);
                    return Ok(TcpConnection { stream });
                }
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => last = ConnectError::Timeout,
                Err(_) => last = ConnectError::Unreachable,
            }
        }
        Err(last)
    }
}

/// A `TcpStream` seen through `embedded-io`. Errors are [`ErrorKind`]s; a read time limit
/// (which the OS reports as `WouldBlock` or `TimedOut`) is [`ErrorKind::TimedOut`].
#[derive(Debug)]
pub struct TcpConnection {
    stream: TcpStream,
}

impl TcpConnection {
    /// The stream, e.g. to change its time limits.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }
}

fn kind(e: &std::io::Error) -> ErrorKind {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => ErrorKind::TimedOut,
        std::io::ErrorKind::ConnectionReset => ErrorKind::ConnectionReset,
        std::io::ErrorKind::ConnectionAborted => ErrorKind::ConnectionAborted,
        std::io::ErrorKind::BrokenPipe => ErrorKind::BrokenPipe,
        std::io::ErrorKind::NotConnected => ErrorKind::NotConnected,
        _ => ErrorKind::Other,
    }
}

impl embedded_io::ErrorType for TcpConnection {
    type Error = ErrorKind;
}

impl embedded_io::Read for TcpConnection {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        loop {
            match self.stream.read(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                other => return other.map_err(|e| kind(&e)),
            }
        }
    }
}

impl embedded_io::Write for TcpConnection {
    fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        loop {
            match self.stream.write(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                other => return other.map_err(|e| kind(&e)),
            }
        }
    }

    fn flush(&mut self) -> Result<(), ErrorKind> {
        self.stream.flush().map_err(|e| kind(&e))
    }
}
