//! The device side of the PCP upgrade as a sans-I/O state machine: [`PcpFlow`].
//!
//! Frames from the platform go into [`PcpFlow::handle`], which returns what the caller must
//! act on ([`Event`]: a block to write, the upgrade to execute, …). Frames to send come out
//! of [`PcpFlow::poll_transmit`], which also repeats unanswered requests. Block bytes are
//! handed out borrowed from the frame that carried them: the flow buffers nothing.
//!
//! ```text
//! Idle --20 accepted--> Downloading{next} --last block--> Downloaded --23--> Upgrading
//!   ^                      |  retries spent                                   |
//!   |                      v                                       report_upgrade_result
//!   |                   Stalled{next} --20 same package--> Downloading{next}  v
//!   +------------------------------------- 24 acknowledged ------------- Reporting
//! ```
//!
//! Caller-paced ([`PcpFlow::set_caller_paced`], used by the download engine's
//! [`PcpSource`](super::source::PcpSource)): after an accepted notification and after each
//! block the flow waits in [`State::Holding`]; [`PcpFlow::request_block`] asks for any block
//! by index, and [`PcpFlow::report_download`] ends the download once the caller has checked
//! and stored the package.

#![deny(clippy::arithmetic_side_effects)]

use super::codec::{DeviceMessage, PcpError, PlatformMessage, Task, VERSION_LEN, result};

/// Timing of retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FlowConfig {
    /// How long to wait for an answer before asking again.
    pub timeout_ms: u32,
    /// How often one request is repeated before the flow stalls.
    pub max_retries: u8,
}

impl Default for FlowConfig {
    /// 10 s, 5 retries (the platform allows 60 minutes for the whole download).
    fn default() -> Self {
        Self { timeout_ms: 10_000, max_retries: 5 }
    }
}

/// Where the flow is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum State {
    /// No task.
    Idle,
    /// Requesting blocks; `next_block` is the first one missing.
    Downloading {
        /// First missing block.
        next_block: u16,
    },
    /// Retries ran out (or the device restarted mid-download); waiting for the platform to
    /// notify the same package again to continue at `next_block`.
    Stalled {
        /// First missing block.
        next_block: u16,
    },
    /// Caller-paced ([`PcpFlow::set_caller_paced`]): the blocks before `next_block` arrived
    /// and nothing is asked for until the caller calls [`PcpFlow::request_block`] (or, once
    /// every block is in, [`PcpFlow::report_download`]).
    Holding {
        /// The block after the last one received.
        next_block: u16,
    },
    /// All blocks received; download status reported.
    Downloaded,
    /// The platform asked to execute the upgrade; the caller installs it.
    Upgrading,
    /// Reporting the upgrade result until the platform acknowledges it.
    Reporting,
}

/// What the caller must act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// A new package was accepted: prepare storage for `task.max_len()` bytes.
    Accepted(Task),
    /// The same package was notified again; downloading continues at `next_block`.
    Resumed {
        /// The task.
        task: Task,
        /// First missing block.
        next_block: u16,
    },
    /// Block bytes to store at `offset` in the image.
    Block {
        /// Image offset (block number times block size).
        offset: u32,
        /// The bytes, borrowed from the frame.
        data: &'a [u8],
    },
    /// The platform acknowledged the download status.
    DownloadReported {
        /// The status that was reported (0 = complete).
        status: u8,
    },
    /// Install the package, then call [`PcpFlow::report_upgrade_result`].
    Execute,
    /// The platform has no task (0x80): the download or report was abandoned.
    NoTask,
    /// The platform acknowledged the upgrade result; the flow is idle.
    Finished,
}

/// Counters of dropped or unexpected input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FlowStats {
    /// Frames with a bad check code.
    pub check_code_errors: u32,
    /// Frames whose length disagrees with their data length field.
    pub length_errors: u32,
    /// Other malformed frames (start, version, unknown code, short data).
    pub malformed: u32,
    /// Well-formed messages that make no sense now (a block never asked for, an ack for nothing).
    pub unexpected: u32,
    /// Block answers with the wrong length, or 0x81 (bad block).
    pub bad_blocks: u32,
    /// Requests repeated after a timeout or a bad block.
    pub retries: u32,
}

/// Where the device is and what it has, as the caller should persist it for resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The task.
    pub task: Task,
    /// First missing block (equals `block_count` when complete).
    pub next_block: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Retry {
    sent_at: Option<u64>,
    tries: u8,
}

const FRESH: Retry = Retry { sent_at: None, tries: 0 };

/// The device-side PCP flow. (The example plays the platform with the cloud side of the
/// codec, feature `mock`.)
///
/// ```
/// # #[cfg(feature = "mock")] {
/// use ota_client::platform::huawei_pcp::codec::{version_field, DeviceMessage, PlatformMessage};
/// use ota_client::platform::huawei_pcp::flow::{FlowConfig, PcpFlow};
/// let mut flow = PcpFlow::new(version_field("1.0").unwrap(), 64 * 1024, FlowConfig::default());
/// let mut frame = [0u8; 8];
/// let n = PlatformMessage::QueryVersion.emit(&mut frame).unwrap();
/// assert_eq!(flow.handle(0, &frame[..n]), None);
/// let mut out = [0u8; 32];
/// let m = flow.poll_transmit(0, &mut out).unwrap();
/// assert!(matches!(DeviceMessage::parse(&out[..m]), Ok(DeviceMessage::Version { result: 0, .. })));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct PcpFlow {
    config: FlowConfig,
    running: [u8; VERSION_LEN],
    capacity: u32,
    busy: bool,
    state: State,
    task: Option<Task>,
    /// An immediate answer to send (to 19, 20 or 23).
    answer: Option<DeviceMessage>,
    /// The repeated request of the current state (21, 22 or 24).
    retry: Retry,
    status: u8,
    upgrade_result: u8,
    stats: FlowStats,
    caller_paced: bool,
    max_block: u16,
}

impl PcpFlow {
    /// A flow for a device running `running`, with room for `capacity` bytes of package.
    pub fn new(running: [u8; VERSION_LEN], capacity: u32, config: FlowConfig) -> Self {
        Self {
            config,
            running,
            capacity,
            busy: false,
            state: State::Idle,
            task: None,
            answer: None,
            retry: FRESH,
            status: result::OK,
            upgrade_result: result::OK,
            stats: FlowStats::default(),
            caller_paced: false,
            max_block: u16::MAX,
        }
    }

    /// Caller-paced mode, for a download engine that decides which block it needs (see
    /// [`PcpSource`](super::source::PcpSource)): the flow asks for a block only when
    /// [`request_block`](Self::request_block) says so, waits in [`State::Holding`] after each
    /// block, and reports the download status only when the caller calls
    /// [`report_download`](Self::report_download) (after checking and storing the package).
    pub fn set_caller_paced(&mut self, on: bool) {
        self.caller_paced = on;
    }

    /// Refuses (9, no memory) a new version whose blocks are longer than `len` bytes: the
    /// caller's block buffer.
    pub fn set_max_block(&mut self, len: u16) {
        self.max_block = len;
    }

    /// Asks for block `block` of the current task next (caller-paced mode, or to move a
    /// download elsewhere): from [`State::Downloading`], [`State::Stalled`] or
    /// [`State::Holding`]. Asking again for the block already being requested keeps its
    /// retry timer. False without a task, past the last block, or in another state.
    pub fn request_block(&mut self, block: u16) -> bool {
        let Some(task) = self.task else { return false };
        if block >= task.block_count {
            return false;
        }
        match self.state {
            State::Downloading { next_block } if next_block == block => true,
            State::Downloading { .. } | State::Stalled { .. } | State::Holding { .. } => {
                self.state = State::Downloading { next_block: block };
                self.retry = FRESH;
                true
            }
            _ => false,
        }
    }

    /// A flow restored after a restart mid-download, from what [`progress`](Self::progress)
    /// returned: it waits for the platform to notify the same package, then continues at
    /// `next_block` (or reports the download complete again).
    pub fn resume(running: [u8; VERSION_LEN], capacity: u32, config: FlowConfig, progress: Progress) -> Self {
        let mut flow = Self::new(running, capacity, config);
        flow.task = Some(progress.task);
        flow.state = State::Stalled { next_block: progress.next_block };
        flow
    }

    /// While busy, new-version notifications are answered 1 (busy).
    pub fn set_busy(&mut self, busy: bool) {
        self.busy = busy;
    }

    /// The state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The counters.
    pub fn stats(&self) -> FlowStats {
        self.stats
    }

    /// The task and first missing block, to persist for resume; `None` without a task.
    pub fn progress(&self) -> Option<Progress> {
        let task = self.task?;
        let next_block = match self.state {
            State::Downloading { next_block }
            | State::Stalled { next_block }
            | State::Holding { next_block } => next_block,
            State::Downloaded | State::Upgrading | State::Reporting => task.block_count,
            State::Idle => return None,
        };
        Some(Progress { task, next_block })
    }

    /// Ends the download with a failure status (5 no space, 7 check failed, 8 unsupported)
    /// when storing or checking the package failed. The status is reported until acknowledged.
    pub fn fail_download(&mut self, status: u8) {
        self.report_download(status);
    }

    /// Ends the download with `status` (0 done, or a failure as in
    /// [`fail_download`](Self::fail_download)); reported until acknowledged. In caller-paced
    /// mode this is how a complete download is reported, once the package is checked and
    /// stored.
    pub fn report_download(&mut self, status: u8) {
        self.status = status;
        self.state = State::Downloaded;
        self.retry = FRESH;
    }

    /// Reports the upgrade result (0 ok, or a failure byte) with the version now running;
    /// repeated until the platform acknowledges it. Also used after the restart into the
    /// new firmware, on a fresh flow.
    pub fn report_upgrade_result(&mut self, result: u8, running: [u8; VERSION_LEN]) {
        self.running = running;
        self.upgrade_result = result;
        self.state = State::Reporting;
        self.retry = FRESH;
    }

    fn count_error(&mut self, e: PcpError) {
        let c = match e {
            PcpError::CheckCode => &mut self.stats.check_code_errors,
            PcpError::Truncated | PcpError::LengthMismatch => &mut self.stats.length_errors,
            _ => &mut self.stats.malformed,
        };
        *c = c.saturating_add(1);
    }

    fn unexpected(&mut self) {
        self.stats.unexpected = self.stats.unexpected.saturating_add(1);
    }

    /// Takes one whole frame from the platform. Bad frames are dropped and counted.
    pub fn handle<'a>(&mut self, _now_ms: u64, frame: &'a [u8]) -> Option<Event<'a>> {
        let msg = match PlatformMessage::parse(frame) {
            Ok(m) => m,
            Err(e) => {
                self.count_error(e);
                return None;
            }
        };
        match msg {
            PlatformMessage::QueryVersion => {
                self.answer = Some(DeviceMessage::Version { result: result::OK, version: self.running });
                None
            }
            PlatformMessage::NewVersion(task) => self.on_new_version(task),
            PlatformMessage::Block { result, block, data } => self.on_block(result, block, data),
            PlatformMessage::DownloadStatusAck { .. } => {
                if self.state == State::Downloaded && self.retry.sent_at.is_some() {
                    let status = self.status;
                    self.retry = Retry { sent_at: None, tries: u8::MAX };
                    if status != result::OK {
                        self.state = State::Idle;
                        self.task = None;
                    }
                    return Some(Event::DownloadReported { status });
                }
                self.unexpected();
                None
            }
            PlatformMessage::ExecuteUpgrade => match self.state {
                State::Downloaded if self.status == result::OK => {
                    self.answer = Some(DeviceMessage::ExecuteAnswer { result: result::OK });
                    self.state = State::Upgrading;
                    Some(Event::Execute)
                }
                State::Upgrading => {
                    self.answer = Some(DeviceMessage::ExecuteAnswer { result: result::OK });
                    None
                }
                _ => {
                    self.answer = Some(DeviceMessage::ExecuteAnswer { result: result::INTERNAL });
                    None
                }
            },
            PlatformMessage::UpgradeResultAck { result } => {
                if self.state != State::Reporting {
                    self.unexpected();
                    return None;
                }
                self.state = State::Idle;
                self.task = None;
                Some(if result == result::NO_TASK { Event::NoTask } else { Event::Finished })
            }
        }
    }

    fn on_new_version(&mut self, task: Task) -> Option<Event<'static>> {
        let same = self.task.is_some_and(|t| t.same_package(&task));
        if same {
            match self.state {
                State::Downloading { next_block } | State::Stalled { next_block } => {
                    self.answer = Some(DeviceMessage::NewVersionAnswer { result: result::OK });
                    self.state = if self.caller_paced {
                        State::Holding { next_block }
                    } else {
                        State::Downloading { next_block }
                    };
                    self.retry = FRESH;
                    return Some(Event::Resumed { task, next_block });
                }
                State::Holding { next_block } => {
                    // Caller-paced: the caller asks for the next block itself.
                    self.answer = Some(DeviceMessage::NewVersionAnswer { result: result::OK });
                    return Some(Event::Resumed { task, next_block });
                }
                State::Downloaded => {
                    self.answer = Some(DeviceMessage::NewVersionAnswer { result: result::OK });
                    self.retry = FRESH;
                    return None;
                }
                State::Upgrading | State::Reporting => {
                    self.answer = Some(DeviceMessage::NewVersionAnswer { result: result::BUSY });
                    return None;
                }
                State::Idle => {}
            }
        }
        let refusal = if self.busy || matches!(self.state, State::Upgrading | State::Reporting) {
            Some(result::BUSY)
        } else if task.version == self.running {
            Some(result::LATEST)
        } else if task.block_size == 0 || task.block_count == 0 {
            Some(result::INTERNAL)
        } else if task.max_len() > self.capacity {
            Some(result::NO_SPACE)
        } else if task.block_size > self.max_block {
            Some(result::NO_MEMORY)
        } else {
            None
        };
        if let Some(r) = refusal {
            self.answer = Some(DeviceMessage::NewVersionAnswer { result: r });
            return None;
        }
        self.answer = Some(DeviceMessage::NewVersionAnswer { result: result::OK });
        self.task = Some(task);
        // Caller-paced, the caller asks for its first block itself (it may resume elsewhere).
        self.state = if self.caller_paced {
            State::Holding { next_block: 0 }
        } else {
            State::Downloading { next_block: 0 }
        };
        self.status = result::OK;
        self.retry = FRESH;
        Some(Event::Accepted(task))
    }

    fn on_block<'a>(&mut self, res: u8, block: u16, data: &'a [u8]) -> Option<Event<'a>> {
        let (State::Downloading { next_block }, Some(task)) = (self.state, self.task) else {
            self.unexpected();
            return None;
        };
        match res {
            result::OK => {}
            result::NO_TASK => {
                self.state = State::Idle;
                self.task = None;
                return Some(Event::NoTask);
            }
            result::BAD_BLOCK => {
                self.stats.bad_blocks = self.stats.bad_blocks.saturating_add(1);
                self.retry.sent_at = None;
                return None;
            }
            _ => {
                self.unexpected();
                return None;
            }
        }
        if block != next_block {
            self.unexpected();
            return None;
        }
        let last = block.saturating_add(1) == task.block_count;
        let size = usize::from(task.block_size);
        let ok_len = if last { !data.is_empty() && data.len() <= size } else { data.len() == size };
        if !ok_len {
            self.stats.bad_blocks = self.stats.bad_blocks.saturating_add(1);
            self.retry.sent_at = None;
            return None;
        }
        // At most 65,535²: below `u32::MAX`, so this never saturates.
        let offset = u32::from(block).saturating_mul(u32::from(task.block_size));
        self.retry = FRESH;
        let next_block = block.saturating_add(1);
        self.state = if self.caller_paced {
            State::Holding { next_block }
        } else if last {
            State::Downloaded
        } else {
            State::Downloading { next_block }
        };
        Some(Event::Block { offset, data })
    }

    /// The next frame to send at `now_ms`, into `out` (at least
    /// [`MAX_DEVICE_FRAME`](super::codec::MAX_DEVICE_FRAME) bytes). Call until `None`.
    pub fn poll_transmit(&mut self, now_ms: u64, out: &mut [u8]) -> Option<usize> {
        if let Some(answer) = self.answer.take() {
            return answer.emit(out).ok();
        }
        let msg = match (self.state, self.task) {
            (State::Downloading { next_block }, Some(task)) => {
                DeviceMessage::RequestBlock { version: task.version, block: next_block }
            }
            (State::Downloaded, Some(_)) => DeviceMessage::DownloadStatus { status: self.status },
            (State::Reporting, _) => {
                DeviceMessage::UpgradeResult { result: self.upgrade_result, version: self.running }
            }
            _ => return None,
        };
        if self.retry.tries == u8::MAX {
            return None; // acknowledged
        }
        if let Some(at) = self.retry.sent_at
            && now_ms.saturating_sub(at) < u64::from(self.config.timeout_ms)
        {
            return None;
        }
        if self.retry.tries > self.config.max_retries {
            if let State::Downloading { next_block } = self.state {
                self.state = State::Stalled { next_block };
            }
            self.retry.tries = u8::MAX;
            return None;
        }
        if self.retry.tries > 0 {
            self.stats.retries = self.stats.retries.saturating_add(1);
        }
        self.retry = Retry { sent_at: Some(now_ms), tries: self.retry.tries.saturating_add(1) };
        msg.emit(out).ok()
    }
}
