//! [`SerialUpdater`]: a device updated over the serial chunk protocol, driven by the
//! [`Agent`]: the Agent's reports go out as serial messages, the host's offer goes to the
//! Agent, and the [`SerialClient`] is the Agent's chunk source.

use embedded_io::{Read, ReadReady, Write};

use crate::agent::{Agent, AgentEvent, Application, OfferOutcome, Report};
use crate::boot::BootError;
use crate::flash::Storage;
use crate::time::Clock;
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

/// What one [`SerialUpdater::poll`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdaterEvent {
    /// The Agent's outcome for an offer that arrived during this poll.
    pub offer: Option<OfferOutcome>,
    /// What the Agent's poll did.
    pub agent: AgentEvent,
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

    /// Sends the Agent's next report if none is on the wire, moves bytes, and handles the
    /// host's answer: marks the report delivered, and hands an offer to the Agent.
    ///
    /// A failure to forget a delivered report ([`ReportError`](crate::agent::ReportError))
    /// arrives as the [`BootError`] it converts to, with its cause.
    pub fn poll_reports(&mut self, now_ms: u64) -> Result<Option<OfferOutcome>, BootError> {
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
            return Ok(None);
        }
        let reply = match self.client.poll_report() {
            Ok(reply) => reply,
            Err(nb::Error::WouldBlock) => return Ok(None),
            Err(nb::Error::Other(_)) => {
                self.in_flight = None;
                self.stats.resent = self.stats.resent.saturating_add(1);
                return Ok(None);
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
                Ok(Some(outcome))
            }
            Reply::Refused(_) => {
                self.stats.refused = self.stats.refused.saturating_add(1);
                Ok(None)
            }
            Reply::NoUpdate | Reply::Ack => Ok(None),
        }
    }

    /// One step of the device: [`poll_reports`](Self::poll_reports), then
    /// [`Agent::poll`] with the client as the chunk source and `buf` as the chunk buffer.
    pub fn poll(&mut self, buf: &mut [u8], now_ms: u64) -> Result<UpdaterEvent, BootError> {
        let offer = self.poll_reports(now_ms)?;
        let event = self.agent.poll(&mut self.client, buf, now_ms);
        Ok(UpdaterEvent { offer, agent: event })
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
