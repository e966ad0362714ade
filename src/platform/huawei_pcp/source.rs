//! [`PcpSource`]: PCP as a [`ChunkSource`], so that a PCP download runs through the
//! resumable [`Download`](crate::download::Download) engine and the [`Agent`](crate::agent::Agent).
//!
//! The engine asks for bytes at an offset; the source asks the platform for block
//! `offset / block size` (message 21), keeps that one block in a caller-sized buffer and hands
//! it out. The flow runs caller-paced ([`PcpFlow::set_caller_paced`]): it requests only the
//! blocks the engine needs, and reports the download status only once the Agent has stored
//! and staged the package (see [`PcpSource::start_report`]).
//!
//! # No image digest: a transport-checked offer
//! PCP announces a package by version, block size, block count and a 16-bit check code; it
//! carries no digest of the image. The source therefore builds an
//! [`Offer::transport_checked`] (package id = the task's check code), which the Agent takes
//! only with [`AgentConfig::accept_transport_checked`](crate::agent::AgentConfig) set. What
//! protects the image then:
//! - every block arrives in a frame whose check code (CRC-16 over the whole frame) is checked
//!   before the block is used; a block of the wrong length is refused and asked for again;
//! - the engine checks the total size, and computes the SHA-256 of what it wrote, which the
//!   staged image records so that the boot manager refuses an image changed on flash;
//! - version and check code identify the package for resume: a different version or check
//!   code starts over.
//!
//! Nothing checks that the platform sent the right package end to end: that is the limit of
//! PCP, and the reason the mode is opt-in.
//!
//! # The exact size
//! PCP gives only an upper bound (block size × block count): the last block may be shorter.
//! The engine needs the exact size, so on a new task the source first asks for the last
//! block and derives the size from its length (one extra block on the link). When the
//! Journal holds a checkpoint of the same package (same version text and check code, a size
//! that fits the task), its size is used instead, so a resumed download's first request is
//! the checkpoint's block.

#![deny(clippy::arithmetic_side_effects)]

use super::codec::{Task, result, version_text};
use super::flow::{Event, PcpFlow, State};
use crate::agent::{Report, Stage};
use crate::download::Checkpoint;
use crate::transport::{ChunkSource, SourceError};
use crate::{FailureCause, Offer, Version};

/// What the caller must act on after [`PcpSource::handle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceEvent {
    /// A package is announced and its size known: hand [`PcpSource::offer`] to the Agent.
    /// Also after the same package is notified again (the Agent answers a duplicate).
    OfferReady,
    /// The platform acknowledged the report started with [`PcpSource::start_report`]:
    /// call [`Agent::report_delivered`](crate::agent::Agent::report_delivered).
    ReportAcknowledged,
    /// The platform asks to install the staged package: reboot into it.
    Execute,
    /// The platform dropped the task (0x80).
    NoTask,
}

/// How [`PcpSource::start_report`] handled a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportStart {
    /// PCP has no message for it (version: answered to the platform's query; progress):
    /// it counts as delivered now.
    Delivered,
    /// Sent, and repeated until [`SourceEvent::ReportAcknowledged`].
    Sent,
}

/// Counters of the source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SourceStats {
    /// Blocks asked for by the engine (each counted once however often it is repeated).
    pub blocks_requested: u32,
    /// Blocks received and kept.
    pub blocks_received: u32,
    /// Last blocks fetched only to learn the exact size.
    pub size_probes: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Size {
    Unknown,
    Probing,
    Known(u32),
}

/// PCP as a [`ChunkSource`]; `B` is the block buffer (at least the platform's block size;
/// PCP blocks are 32..=500 bytes).
#[derive(Debug, Clone)]
pub struct PcpSource<const B: usize = 500> {
    flow: PcpFlow,
    block: [u8; B],
    held: Option<(u16, usize)>,
    wanted: Option<u16>,
    task: Option<Task>,
    size: Size,
    hint: Option<Checkpoint>,
    stats: SourceStats,
}

impl<const B: usize> PcpSource<B> {
    /// Wraps `flow`, putting it in caller-paced mode and refusing blocks longer than `B`.
    /// `checkpoint` is the Journal's download checkpoint after a restart
    /// ([`Checkpoint::load`]), or `None`.
    pub fn new(mut flow: PcpFlow, checkpoint: Option<Checkpoint>) -> Self {
        flow.set_caller_paced(true);
        flow.set_max_block(u16::try_from(B).unwrap_or(u16::MAX));
        Self {
            flow,
            block: [0; B],
            held: None,
            wanted: None,
            task: None,
            size: Size::Unknown,
            hint: checkpoint.filter(|c| c.package_id.is_some()),
            stats: SourceStats::default(),
        }
    }

    /// The flow inside.
    pub fn flow(&self) -> &PcpFlow {
        &self.flow
    }

    /// The counters.
    pub fn stats(&self) -> SourceStats {
        self.stats
    }

    /// The current task, if any.
    pub fn task(&self) -> Option<Task> {
        self.task
    }

    /// The transport-checked offer for the current task, once its size is known
    /// ([`SourceEvent::OfferReady`]): version text, exact size, package id = check code.
    /// `None` before, or when the version field is not a valid version.
    pub fn offer<const L: usize>(&self) -> Option<Offer<L>> {
        let (task, Size::Known(size)) = (self.task?, self.size) else { return None };
        let version = Version::parse(version_text(&task.version)).ok()?;
        Some(Offer::transport_checked(version, size, u32::from(task.check_code)))
    }

    /// The next frame to send at `now_ms`, into `out` (at least
    /// [`MAX_DEVICE_FRAME`](super::codec::MAX_DEVICE_FRAME) bytes). Call until `None`.
    pub fn poll_transmit(&mut self, now_ms: u64, out: &mut [u8]) -> Option<usize> {
        self.flow.poll_transmit(now_ms, out)
    }

    /// Takes one whole frame from the platform. The flow holds one immediate answer (to a
    /// query, a notification, an execute request): send what
    /// [`poll_transmit`](Self::poll_transmit) gives after each frame.
    pub fn handle(&mut self, now_ms: u64, frame: &[u8]) -> Option<SourceEvent> {
        match self.flow.handle(now_ms, frame)? {
            Event::Accepted(task) => {
                self.task = Some(task);
                self.held = None;
                self.wanted = None;
                self.size = Size::Unknown;
                self.learn_size(task)
            }
            Event::Resumed { task, .. } => {
                self.task = Some(task);
                // The flow now waits for a request: the next fetch asks again.
                self.wanted = None;
                match self.size {
                    Size::Known(_) => Some(SourceEvent::OfferReady),
                    Size::Probing | Size::Unknown => self.learn_size(task),
                }
            }
            Event::Block { offset, data } => self.on_block(offset, data),
            Event::DownloadReported { .. } | Event::Finished => Some(SourceEvent::ReportAcknowledged),
            Event::Execute => Some(SourceEvent::Execute),
            Event::NoTask => {
                self.task = None;
                self.size = Size::Unknown;
                self.held = None;
                self.wanted = None;
                Some(SourceEvent::NoTask)
            }
        }
    }

    /// Uses a checkpoint of the same package for the size, or asks for the last block.
    fn learn_size(&mut self, task: Task) -> Option<SourceEvent> {
        // At most 65,535²: below `u32::MAX`, so this never saturates.
        let lower = u32::from(task.block_count.saturating_sub(1)).saturating_mul(u32::from(task.block_size));
        let from_checkpoint = self.hint.as_ref().filter(|c| {
            c.package_id == Some(u32::from(task.check_code))
                && c.version.as_str() == version_text(&task.version)
                && c.size > lower
                && c.size <= task.max_len()
        });
        if let Some(c) = from_checkpoint {
            self.size = Size::Known(c.size);
            return Some(SourceEvent::OfferReady);
        }
        let last = task.block_count.saturating_sub(1);
        if self.flow.request_block(last) {
            self.size = Size::Probing;
            self.wanted = Some(last);
            self.stats.size_probes = self.stats.size_probes.saturating_add(1);
        }
        None
    }

    fn on_block(&mut self, offset: u32, data: &[u8]) -> Option<SourceEvent> {
        let task = self.task?;
        let index = u16::try_from(offset.checked_div(u32::from(task.block_size.max(1)))?).ok()?;
        let dst = self.block.get_mut(..data.len())?;
        dst.copy_from_slice(data);
        self.held = Some((index, data.len()));
        self.stats.blocks_received = self.stats.blocks_received.saturating_add(1);
        if self.wanted == Some(index) {
            self.wanted = None;
        }
        if self.size == Size::Probing && index.saturating_add(1) == task.block_count {
            let len = u32::try_from(data.len()).ok()?;
            self.size = Size::Known(offset.checked_add(len)?);
            return Some(SourceEvent::OfferReady);
        }
        None
    }

    /// Starts telling the platform about `report`, with the PCP codes of
    /// [`download_status`] and [`upgrade_result`]; `running` is the version now running.
    ///
    /// | report | PCP |
    /// |---|---|
    /// | `Version`, `Progress` | nothing (the flow answers the version query itself; PCP has no progress) |
    /// | `Downloaded` | 22 download status 0 |
    /// | `Failed` at offer, download or verify | 22 download status [`download_status`] |
    /// | `Failed` at install | 24 upgrade result [`upgrade_result`] |
    /// | `Succeeded` | 24 upgrade result 0 |
    pub fn start_report(&mut self, report: &Report, running: &Version) -> ReportStart {
        let field = super::codec::version_field(running.as_str()).unwrap_or([0; super::codec::VERSION_LEN]);
        match report {
            Report::Version { .. } | Report::Progress { .. } => ReportStart::Delivered,
            Report::Downloaded { .. } => {
                self.flow.report_download(result::OK);
                ReportStart::Sent
            }
            Report::Failed { cause, stage: Stage::Offer | Stage::Download | Stage::Verify, .. } => {
                if self.task.is_none() {
                    // No task to report against (refused before PCP accepted anything).
                    return ReportStart::Delivered;
                }
                self.flow.report_download(download_status(*cause));
                ReportStart::Sent
            }
            Report::Failed { cause, stage: Stage::Install, .. } => {
                self.flow.report_upgrade_result(upgrade_result(Err(*cause)), field);
                ReportStart::Sent
            }
            Report::Succeeded { .. } => {
                self.flow.report_upgrade_result(result::OK, field);
                ReportStart::Sent
            }
        }
    }
}

impl<const B: usize> ChunkSource for PcpSource<B> {
    fn fetch(&mut self, offset: u32, buf: &mut [u8]) -> nb::Result<usize, SourceError> {
        let (Some(task), Size::Known(size)) = (self.task, self.size) else {
            return Err(nb::Error::Other(SourceError::NotFound));
        };
        if offset >= size || task.block_size == 0 {
            return Err(nb::Error::Other(SourceError::Protocol));
        }
        let bs = u32::from(task.block_size);
        let protocol = nb::Error::Other(SourceError::Protocol);
        let index = offset.checked_div(bs).and_then(|i| u16::try_from(i).ok()).ok_or(protocol)?;
        let within = offset.checked_rem(bs).and_then(|w| usize::try_from(w).ok()).ok_or(protocol)?;
        if let Some((held, len)) = self.held
            && held == index
        {
            let n = len.saturating_sub(within).min(buf.len());
            let src = self.block.get(within..).and_then(|b| b.get(..n)).ok_or(protocol)?;
            buf.get_mut(..n).ok_or(nb::Error::Other(SourceError::Protocol))?.copy_from_slice(src);
            return if n == 0 { Err(nb::Error::Other(SourceError::Protocol)) } else { Ok(n) };
        }
        match self.flow.state() {
            State::Idle => return Err(nb::Error::Other(SourceError::NotFound)),
            State::Stalled { .. } if self.wanted == Some(index) => {
                // The flow's retries ran out: let the engine back off, then ask again.
                self.wanted = None;
                return Err(nb::Error::Other(SourceError::Timeout));
            }
            _ => {}
        }
        if self.wanted != Some(index) {
            if !self.flow.request_block(index) {
                return Err(nb::Error::Other(SourceError::Protocol));
            }
            self.wanted = Some(index);
            self.stats.blocks_requested = self.stats.blocks_requested.saturating_add(1);
        }
        Err(nb::Error::WouldBlock)
    }

    fn reset(&mut self) {
        self.wanted = None;
    }
}

/// PCP's download status (message 22) for a failure: 5 no space, 6 timeout, 7 check
/// failed, 8 unsupported. PCP has no other status, so causes outside these (a flash error,
/// a declined or refused offer) are reported as 8, "unsupported": the device will not take
/// this package.
pub fn download_status(cause: FailureCause) -> u8 {
    use FailureCause as C;
    match cause {
        C::NotEnoughStorage | C::OutOfMemory => result::NO_SPACE,
        C::ConnectionLost | C::DownloadTimeout | C::FileNotFound | C::AuthorisationExpired => result::TIMEOUT,
        C::IntegrityCheckFailure | C::InvalidOffer | C::VersionMismatch => result::CHECK_FAILED,
        C::UnsupportedPackage
        | C::InvalidUri
        | C::UpdateFailed
        | C::AlreadyLatest
        | C::Busy
        | C::LowBattery
        | C::DeclinedByApplication
        | C::Superseded
        | C::Downgrade => result::UNSUPPORTED,
    }
}

/// PCP's upgrade result (message 24): 0 ok, 1 busy, 4 low battery, 5 no space, 9 no
/// memory, 0x0A install failed for any other failure (a failed self-test, a rollback).
pub fn upgrade_result(outcome: Result<(), FailureCause>) -> u8 {
    use FailureCause as C;
    match outcome {
        Ok(()) => result::OK,
        Err(C::Busy) => result::BUSY,
        Err(C::LowBattery) => result::LOW_BATTERY,
        Err(C::NotEnoughStorage) => result::NO_SPACE,
        Err(C::OutOfMemory) => result::NO_MEMORY,
        Err(_) => result::INSTALL_FAILED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cause_has_a_pcp_code_from_the_tables() {
        for cause in FailureCause::ALL {
            let status = download_status(cause);
            assert!([5, 6, 7, 8].contains(&status), "{cause:?} → {status}");
            let upgrade = upgrade_result(Err(cause));
            assert!([1, 4, 5, 9, 0x0A].contains(&upgrade), "{cause:?} → {upgrade}");
        }
        assert_eq!(download_status(FailureCause::IntegrityCheckFailure), result::CHECK_FAILED);
        assert_eq!(download_status(FailureCause::DownloadTimeout), result::TIMEOUT);
        assert_eq!(upgrade_result(Ok(())), result::OK);
        assert_eq!(upgrade_result(Err(FailureCause::UpdateFailed)), result::INSTALL_FAILED);
    }
}
