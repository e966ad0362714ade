//! [`SerialClient`]: the chunk client over an `embedded-io` UART, as a [`ChunkSource`].

use embedded_io::{Read, ReadReady, Write};

use super::client::{ChunkClient, ClientStats, Reply, TX_FRAME_LEN};
use crate::time::Clock;
use crate::transport::{ChunkSource, SourceError};
use crate::{FailureCause, Version};

/// The chunk client driving a UART that can say whether bytes are waiting (`ReadReady`), so
/// no call ever blocks on reading. Writes are short requests and reports (under 60 bytes)
/// and go out with `write_all`.
///
/// For a port without `ReadReady` (received bytes collected by an interrupt or DMA), use
/// [`ChunkClient`] directly: hand it received bytes with `feed`, send what `poll_transmit`
/// produces, and read image bytes with `take`.
///
/// `N` bounds a frame, `B` the window storage; the defaults ([`DEFAULT_FRAME_LEN`](super::DEFAULT_FRAME_LEN)
/// and 4 KiB) are what [`ClientConfig::default`](super::ClientConfig) needs.
#[derive(Debug)]
pub struct SerialClient<P, C, const N: usize = { super::DEFAULT_FRAME_LEN }, const B: usize = 4096> {
    port: P,
    clock: C,
    client: ChunkClient<N, B>,
}

impl<P: Read + ReadReady + Write, C: Clock> SerialClient<P, C> {
    /// A client over `port` with the default protocol settings
    /// ([`ClientConfig::default`](super::ClientConfig): 1 KiB chunks, 4 in flight), timing
    /// retries with `clock`.
    pub fn with_defaults(port: P, clock: C) -> Result<Self, super::SerialConfigError> {
        Ok(Self { port, clock, client: ChunkClient::new(super::ClientConfig::default())? })
    }
}

impl<P, C, const N: usize, const B: usize> SerialClient<P, C, N, B>
where
    P: Read + ReadReady + Write,
    C: Clock,
{
    /// Wraps `port`, timing retries with `clock`.
    pub fn new(port: P, clock: C, client: ChunkClient<N, B>) -> Self {
        Self { port, clock, client }
    }

    /// The sans-I/O client inside.
    pub fn client(&mut self) -> &mut ChunkClient<N, B> {
        &mut self.client
    }

    /// Counters so far.
    pub fn stats(&self) -> ClientStats {
        self.client.stats()
    }

    /// Gives the port back.
    pub fn into_port(self) -> P {
        self.port
    }

    fn receive(&mut self) -> Result<(), SourceError> {
        let mut scratch = [0u8; 128];
        while self.port.read_ready().map_err(|_| SourceError::ConnectionLost)? {
            let n = self.port.read(&mut scratch).map_err(|_| SourceError::ConnectionLost)?;
            if n == 0 {
                break;
            }
            self.client.feed(scratch.get(..n).unwrap_or(&[]));
        }
        Ok(())
    }

    fn transmit(&mut self) -> Result<(), SourceError> {
        let mut frame = [0u8; TX_FRAME_LEN];
        let now = self.clock.now_ms();
        while let Some(n) = self.client.poll_transmit(now, &mut frame) {
            self.port.write_all(frame.get(..n).unwrap_or(&[])).map_err(|_| SourceError::ConnectionLost)?;
        }
        Ok(())
    }

    /// Moves bytes both ways without waiting: reads what has arrived and sends what is due.
    pub fn poll(&mut self) -> Result<(), SourceError> {
        self.receive()?;
        self.transmit()
    }

    /// Moves bytes and returns the host's answer to the report in progress: `WouldBlock`
    /// until it arrives, `Timeout` when every retry went unanswered.
    pub fn poll_report(&mut self) -> nb::Result<Reply, SourceError> {
        self.poll()?;
        self.client.poll_reply()
    }

    /// Starts a version report; follow with [`poll_report`](Self::poll_report).
    pub fn report_version(&mut self, running: &Version) {
        self.client.start_version_report(running);
    }

    /// Starts a progress report; follow with [`poll_report`](Self::poll_report).
    pub fn report_progress(&mut self, percent: u8) {
        self.client.start_progress(percent);
    }

    /// Starts a result report; follow with [`poll_report`](Self::poll_report).
    pub fn report_result(&mut self, outcome: Result<(), FailureCause>, running: &Version) {
        self.client.start_result(outcome, running);
    }
}

impl<P, C, const N: usize, const B: usize> ChunkSource for SerialClient<P, C, N, B>
where
    P: Read + ReadReady + Write,
    C: Clock,
{
    fn fetch(&mut self, offset: u32, buf: &mut [u8]) -> nb::Result<usize, SourceError> {
        self.receive()?;
        let result = self.client.take(offset, buf);
        self.transmit()?;
        result
    }

    fn reset(&mut self) {
        self.client.reset();
    }
}
