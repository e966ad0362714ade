//! [`SerialUpdater`]: a device updated over the serial chunk protocol, driven by the
//! [`Agent`]: the Agent's reports go out as serial messages, the host's offer goes to the
//! Agent, and the [`SerialClient`] is the Agent's chunk source.

use embedded_io::{Read, ReadReady, Write};

use crate::agent::{Agent, Application, OfferOutcome, Report};
use crate::boot::BootError;
use crate::flash::Storage;
use crate::platform::Event;
use crate::time::Clock;
use crate::transport::SourceError;
use crate::transport::serial::{Reply, SerialClient};

/// Counters of the report exchange.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UpdaterStats {
    /// Reports the host answered.
    pub delivered: u32,
    /// Reports sent again after every retry of the client went unanswered.
    pub resent: u32,
    /// Reports the host refused (counted as delivered: sending them again would not help).
    pub refused: u32,
    /// Offers handed to the Agent.
    pub offers: u32,
}

/// The report side of a serial device: which report is on the wire.
///
/// | Agent report | serial message |
/// |---|---|
/// | `Version` | version report; the answer (offer or no update) completes it, an offer goes to [`Agent::offer`] |
/// | `Progress` | progress report |
/// | `Downloaded` | none: the progress report of 100 % before it says the same |
/// | `Succeeded` | result report, code 0, the version now running |
/// | `Failed` | result report, code [`result_code`](crate::transport::serial::message::result_code) of the cause, the version now running |
///
/// A report leaves the Agent's queue only when the host answered it; an unanswered report
/// is sent again at the next poll.
pub struct SerialUpdater<
    P,
    C,
    S,
    A = (),
    const N: usize = 4,
    const B: usize = 4096,
    const K: usize = 8,
    const L: usize = 512,
> where
    P: Read + ReadReady + Write,
    C: Clock,
    S: Storage,
    A: Application,
{
    agent: Agent<S, A, K, L>,
    client: SerialClient<P, C, N, B>,
    in_flight: Option<Report>,
    stats: UpdaterStats,
}

impl<P, C, S, A, const N: usize, const B: usize, const K: usize, const L: usize>
    SerialUpdater<P, C, S, A, N, B, K, L>
where
    P: Read + ReadReady + Write,
    C: Clock,
    S: Storage,
    A: Application,
{
    /// A device driving `agent` (started after this boot) over `client`; nothing on the wire
    /// yet.
    pub fn new(agent: Agent<S, A, K, L>, client: SerialClient<P, C, N, B>) -> Self {
        Self { agent, client, in_flight: None, stats: UpdaterStats::default() }
    }

    /// The counters.
    pub fn stats(&self) -> UpdaterStats {
        self.stats
    }

    /// The Agent.
    pub fn agent(&self) -> &Agent<S, A, K, L> {
        &self.agent
    }

    /// The Agent, mutably (its flash, its application hooks).
    pub fn agent_mut(&mut self) -> &mut Agent<S, A, K, L> {
        &mut self.agent
    }

    /// The serial client.
    pub fn client(&self) -> &SerialClient<P, C, N, B> {
        &self.client
    }

    /// The serial client, mutably.
    pub fn client_mut(&mut self) -> &mut SerialClient<P, C, N, B> {
        &mut self.client
    }

    /// The Agent and the client together (for instance to wrap the client in a counting
    /// source and poll the Agent with it).
    pub fn parts_mut(&mut self) -> (&mut Agent<S, A, K, L>, &mut SerialClient<P, C, N, B>) {
        (&mut self.agent, &mut self.client)
    }

    /// Gives back the Agent and the client.
    pub fn into_parts(self) -> (Agent<S, A, K, L>, SerialClient<P, C, N, B>) {
        (self.agent, self.client)
    }

    /// True while a report waits to be sent or answered.
    pub fn report_pending(&self) -> bool {
        self.in_flight.is_some() || self.agent.next_report().is_some()
    }

    /// The report half of [`poll`](Self::poll): sends the Agent's next report if none is on
    /// the wire, moves bytes, and handles the host's answer: marks the report delivered, and
    /// hands an offer to the Agent.
    fn exchange(&mut self, now_ms: u64) -> Result<Event, BootError> {
        if self.in_flight.is_none()
            && let Some(report) = self.agent.next_report().cloned()
        {
            if start(&mut self.client, &report, self.agent.running()) {
                self.in_flight = Some(report);
            } else {
                self.agent.report_delivered(&report)?;
            }
        }
        if self.in_flight.is_none() {
            // Keep the link moving (answers to requests of an earlier download, garbage).
            let _ = self.client.poll();
            return Ok(Event::Idle);
        }
        let reply = match self.client.poll_report() {
            Ok(reply) => reply,
            Err(nb::Error::WouldBlock) => return Ok(Event::Idle),
            Err(nb::Error::Other(_)) => {
                self.in_flight = None;
                self.stats.resent = self.stats.resent.saturating_add(1);
                return Ok(Event::Retry(SourceError::Timeout));
            }
        };
        // Only the report that was sent is removed (a newer progress report may have replaced
        // it in the Agent's queue already).
        if let Some(sent) = self.in_flight.take() {
            self.agent.report_delivered(&sent)?;
        }
        self.stats.delivered = self.stats.delivered.saturating_add(1);
        match reply {
            Reply::Offer(info) => {
                self.stats.offers = self.stats.offers.saturating_add(1);
                let outcome = match info.to_offer::<L>() {
                    Ok(offer) => self.agent.offer(offer, now_ms),
                    Err(cause) => OfferOutcome::Refused(cause),
                };
                Ok(Event::Offered(outcome))
            }
            Reply::Refused(code) => {
                self.stats.refused = self.stats.refused.saturating_add(1);
                Ok(Event::ReportRejected { status: u16::from(code) })
            }
            Reply::NoUpdate => Ok(Event::NoUpdate),
            Reply::Ack => Ok(Event::Reported),
        }
    }

    /// One step of the device, answering what it did (the [`Event`] every platform driver
    /// answers): the report exchange (send the next report, take the host's answer, hand an
    /// offer to the Agent); when that brought nothing worth telling, [`Event::Reboot`] once
    /// an image is staged and every report is answered, or else one [`Agent::poll`] with
    /// the client as the chunk source and `buf` as the chunk buffer.
    ///
    /// A failure to forget a delivered report ([`ReportError`](crate::agent::ReportError))
    /// arrives as the [`BootError`] it converts to, with its cause.
    pub fn poll(&mut self, buf: &mut [u8], now_ms: u64) -> Result<Event, BootError> {
        let link = self.exchange(now_ms)?;
        if link != Event::Idle {
            return Ok(link);
        }
        if self.agent.reboot_pending() && !self.report_pending() {
            return Ok(Event::Reboot);
        }
        Ok(self.agent.poll(&mut self.client, buf, now_ms).into())
    }
}

/// Starts `report` on the wire; false when the protocol has no message for it.
fn start<P, C, const N: usize, const B: usize>(
    client: &mut SerialClient<P, C, N, B>,
    report: &Report,
    running: &crate::Version,
) -> bool
where
    P: Read + ReadReady + Write,
    C: Clock,
{
    match report {
        Report::Version { current } => client.report_version(current),
        Report::Progress { percent, .. } => client.report_progress(*percent),
        Report::Downloaded { .. } => return false,
        Report::Succeeded { version, .. } => client.report_result(Ok(()), version),
        Report::Failed { cause, .. } => client.report_result(Err(*cause), running),
    }
    true
}
