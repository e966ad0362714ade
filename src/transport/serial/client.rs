//! The device side of the chunk protocol as a sans-I/O core: [`ChunkClient`].
//!
//! The caller moves bytes: received bytes go into [`ChunkClient::feed`], frames to send come
//! out of [`ChunkClient::poll_transmit`], and image bytes are taken with
//! [`ChunkClient::take`]. [`SerialClient`](super::SerialClient) does this over an
//! `embedded-io` port; a port without `ReadReady` (bytes arriving in an interrupt or a DMA
//! ring) calls the same three methods itself.
//!
//! ## Window
//!
//! The image is cut into chunks of `chunk_len` bytes counted from the offset where the
//! engine started reading. Up to `window` chunks are requested at once; answers land in the
//! caller-sized window storage (`B` bytes, at least `window * chunk_len`) and are handed out
//! in order. With the window full the host sends chunk answers back to back, so the
//! host-to-device direction of the line stays busy (requests travel the other direction of the
//! full-duplex UART).
//!
//! A request is sent again when its answer does not come within `timeout_ms` (one request
//! per timeout, the others' timers restart: after a stall their answers are usually still
//! on the way), and at once when the answer to a later request arrives first (the host
//! answers in order, so the earlier request or its answer was lost). An answer to a request
//! sent twice may answer its first send and so trigger a needless repeat; ignoring such
//! answers (as TCP's Karn rule does for timing) was measured and made noisy links slower.
//!
//! An answer is only accepted for a chunk that is requested and not yet received, with
//! exactly the chunk's length; anything else is dropped and counted in [`ClientStats`].

#![deny(clippy::arithmetic_side_effects)]

use super::frame::{BODY_OVERHEAD, DecodeEvent, FrameDecoder, FrameEncoder, max_frame_len};
use super::message::{CHUNK_OVERHEAD, MAX_VERSION_TEXT, Message, error_code, kind, result_code};
use crate::transport::SourceError;
use crate::{Digest, FailureCause, Offer, Version};

/// Most chunks that may be in flight at once.
pub const MAX_WINDOW: usize = 16;

/// The frame buffer [`ClientConfig::default`]'s 1,024-byte chunks need: the chunk, its
/// message header and the frame's own bytes (the default `N` of
/// [`SerialClient`](super::SerialClient)).
pub const DEFAULT_FRAME_LEN: usize = 1024 + CHUNK_OVERHEAD + BODY_OVERHEAD;

/// A buffer of this size holds any frame [`ChunkClient::poll_transmit`] produces.
pub const TX_FRAME_LEN: usize = max_frame_len(8 + MAX_VERSION_TEXT);

/// Tuning of a [`ChunkClient`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ClientConfig {
    /// Bytes asked for per request. Larger chunks waste less of the line on framing.
    pub chunk_len: u16,
    /// Requests in flight at once (1..=[`MAX_WINDOW`]).
    pub window: u8,
    /// How long to wait for an answer before asking again.
    pub timeout_ms: u32,
    /// How often one request (or report) is retried before the fetch fails with
    /// [`SourceError::Timeout`].
    pub max_retries: u8,
}

impl Default for ClientConfig {
    /// 1,024-byte chunks, 4 in flight, 1.5 s timeout, 8 retries: about 98 % of a
    /// 115,200-baud line on a clean link, with 4 KiB of window storage.
    fn default() -> Self {
        Self { chunk_len: 1024, window: 4, timeout_ms: 1500, max_retries: 8 }
    }
}

/// Why a [`ClientConfig`] does not fit the client's buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SerialConfigError {
    /// A chunk answer would not fit the frame buffer `N`, or `chunk_len` is 0.
    ChunkLen,
    /// `window` is 0, above [`MAX_WINDOW`], or `window * chunk_len` exceeds the storage `B`.
    Window,
}

impl core::fmt::Display for SerialConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::ChunkLen => f.write_str("chunk length zero or too large for the frame buffer"),
            Self::Window => f.write_str("window zero, too large, or beyond the storage"),
        }
    }
}

impl core::error::Error for SerialConfigError {}

/// Counters of the client's traffic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ClientStats {
    /// Chunk requests sent, first tries.
    pub requests: u32,
    /// Chunk requests sent again after a timeout.
    pub timeouts: u32,
    /// Chunk requests sent again because a later answer came first.
    pub fast_retransmits: u32,
    /// Chunk answers accepted.
    pub answers: u32,
    /// Chunk answers for an offset not currently asked for: dropped.
    pub unrequested: u32,
    /// Chunk answers for a chunk already received: dropped.
    pub duplicates: u32,
    /// Chunk answers with the wrong length: dropped.
    pub bad_answers: u32,
    /// Payloads that are not a valid message, or a message the device never receives.
    pub undecodable: u32,
    /// Error answers from the host.
    pub host_errors: u32,
    /// Image bytes handed to the download engine (what a resumed download fetched again is
    /// counted again).
    pub bytes: u64,
    /// Frame-level counters (CRC errors, garbage, lost frames).
    pub frames: super::frame::FrameStats,
}

/// The host's answer to a report started with one of the `start_*` methods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// An image is on offer (answer to a version report).
    Offer(OfferInfo),
    /// Nothing newer (answer to a version report).
    NoUpdate,
    /// The report arrived (answer to a progress or result report).
    Ack,
    /// The host refused; the code is one of [`error_code`].
    Refused(u8),
}

/// An offer as the host sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferInfo {
    /// Version text.
    pub version: heapless::String<MAX_VERSION_TEXT>,
    /// Image size.
    pub size: u32,
    /// Image digests.
    pub digest: Digest,
}

impl OfferInfo {
    /// The crate's [`Offer`] (no location: the serial link is the source).
    pub fn to_offer<const L: usize>(&self) -> Result<Offer<L>, FailureCause> {
        let version = Version::parse(&self.version).map_err(|_| FailureCause::InvalidOffer)?;
        Ok(Offer::new(version, self.size, self.digest))
    }
}

#[derive(Debug, Clone)]
enum Control {
    VersionReport(heapless::String<MAX_VERSION_TEXT>),
    Progress(u8),
    Result(u8, heapless::String<MAX_VERSION_TEXT>),
}

#[derive(Debug, Clone)]
struct Pending {
    msg: Control,
    sent_at: Option<u64>,
    tries: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotState {
    Free,
    Requested { sent_at: u64, order: u32, due: bool },
    Received,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    chunk: u32,
    state: SlotState,
    tries: u8,
}

const FREE: Slot = Slot { chunk: 0, state: SlotState::Free, tries: 0 };

/// The device side of the chunk protocol, without I/O. `N` is the frame buffer (at least
/// `chunk_len + 15`), `B` the window storage (at least `window * chunk_len`).
///
/// ```
/// use ota_client::transport::serial::{ChunkClient, ClientConfig};
/// let cfg = ClientConfig { chunk_len: 512, window: 4, ..ClientConfig::default() };
/// let client = ChunkClient::<600, 2048>::new(cfg).unwrap();
/// assert!(ChunkClient::<600, 1024>::new(cfg).is_err());
/// # let _ = client;
/// ```
#[derive(Debug, Clone)]
pub struct ChunkClient<const N: usize, const B: usize> {
    decoder: FrameDecoder<N>,
    core: Core<B>,
}

#[derive(Debug, Clone)]
struct Core<const B: usize> {
    config: ClientConfig,
    encoder: FrameEncoder,
    storage: [u8; B],
    slots: [Slot; MAX_WINDOW],
    size: Option<u32>,
    origin: u32,
    head: Option<u32>,
    order: u32,
    control: Option<Pending>,
    reply: Option<Result<Reply, SourceError>>,
    failed: Option<SourceError>,
    stats: ClientStats,
}

impl<const N: usize, const B: usize> ChunkClient<N, B> {
    /// A client with `config`, checked against the buffers.
    pub fn new(config: ClientConfig) -> Result<Self, SerialConfigError> {
        let chunk = usize::from(config.chunk_len);
        if chunk == 0 || chunk.checked_add(CHUNK_OVERHEAD + BODY_OVERHEAD).is_none_or(|n| n > N) {
            return Err(SerialConfigError::ChunkLen);
        }
        let window = usize::from(config.window);
        if window == 0 || window > MAX_WINDOW || window.checked_mul(chunk).is_none_or(|n| n > B) {
            return Err(SerialConfigError::Window);
        }
        Ok(Self {
            decoder: FrameDecoder::new(),
            core: Core {
                config,
                encoder: FrameEncoder::new(),
                storage: [0; B],
                slots: [FREE; MAX_WINDOW],
                size: None,
                origin: 0,
                head: None,
                order: 0,
                control: None,
                reply: None,
                failed: None,
                stats: ClientStats::default(),
            },
        })
    }

    /// The configuration.
    pub fn config(&self) -> ClientConfig {
        self.core.config
    }

    /// Counters so far.
    pub fn stats(&self) -> ClientStats {
        ClientStats { frames: self.decoder.stats(), ..self.core.stats }
    }

    /// The image size chunks are clamped to; set by an offer, or here when the offer came
    /// another way (a resumed download).
    pub fn set_image_size(&mut self, size: u32) {
        self.core.size = Some(size);
        self.core.clear_window();
    }

    /// Forgets the window and any partial frame; the next `take` asks again.
    pub fn reset(&mut self) {
        self.decoder.reset();
        self.core.clear_window();
        self.core.failed = None;
    }

    /// Hands received bytes to the client.
    pub fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let (used, event) = self.decoder.feed(bytes);
            if let Some(DecodeEvent::Frame(frame)) = event {
                self.core.handle(frame.payload);
            }
            bytes = bytes.get(used..).unwrap_or(&[]);
        }
    }

    /// The next frame to send, if any is due at `now_ms`, written into `out` (at least
    /// [`TX_FRAME_LEN`] bytes). Call until it returns `None`.
    pub fn poll_transmit(&mut self, now_ms: u64, out: &mut [u8]) -> Option<usize> {
        self.core.poll_transmit(now_ms, out)
    }

    /// Copies image bytes at `offset` into `buf` once they have arrived; see
    /// [`ChunkSource::fetch`](crate::transport::ChunkSource::fetch). A new `offset` that
    /// does not follow on from the last one restarts the window there.
    pub fn take(&mut self, offset: u32, buf: &mut [u8]) -> nb::Result<usize, SourceError> {
        let n = self.core.take(offset, buf)?;
        self.core.stats.bytes = self.core.stats.bytes.saturating_add(n as u64);
        Ok(n)
    }

    /// Starts a version report; the answer comes from [`poll_reply`](Self::poll_reply).
    pub fn start_version_report(&mut self, running: &Version) {
        let mut v = heapless::String::new();
        let _ = v.push_str(running.as_str());
        self.core.start(Control::VersionReport(v));
    }

    /// Starts a progress report (0..=100).
    pub fn start_progress(&mut self, percent: u8) {
        self.core.start(Control::Progress(percent.min(100)));
    }

    /// Starts a result report.
    pub fn start_result(&mut self, outcome: Result<(), FailureCause>, running: &Version) {
        let mut v = heapless::String::new();
        let _ = v.push_str(running.as_str());
        self.core.start(Control::Result(result_code(outcome), v));
    }

    /// The answer to the report in progress: `WouldBlock` until it arrives,
    /// [`SourceError::Timeout`] when all retries went unanswered.
    pub fn poll_reply(&mut self) -> nb::Result<Reply, SourceError> {
        match self.core.reply.take() {
            Some(Ok(r)) => Ok(r),
            Some(Err(e)) => Err(nb::Error::Other(e)),
            None => Err(nb::Error::WouldBlock),
        }
    }
}

impl<const B: usize> Core<B> {
    fn chunk_len(&self) -> u32 {
        u32::from(self.config.chunk_len)
    }

    fn window(&self) -> u32 {
        u32::from(self.config.window)
    }

    fn clear_window(&mut self) {
        self.slots = [FREE; MAX_WINDOW];
        self.head = None;
    }

    /// Start offset and length of chunk `k`, or `None` past the end of the image.
    fn chunk_range(&self, k: u32) -> Option<(u32, u32)> {
        let size = self.size?;
        let start = k.checked_mul(self.chunk_len())?.checked_add(self.origin)?;
        let left = size.checked_sub(start).filter(|&left| left > 0)?;
        Some((start, left.min(self.chunk_len())))
    }

    fn head_chunk(&self) -> Option<u32> {
        let head = self.head?;
        head.checked_sub(self.origin)?.checked_div(self.chunk_len())
    }

    fn slot_index(&self, k: u32) -> usize {
        k.checked_rem(self.window()).and_then(|i| usize::try_from(i).ok()).unwrap_or(0)
    }

    fn region(&mut self, k: u32) -> Option<&mut [u8]> {
        let chunk = usize::from(self.config.chunk_len);
        let start = self.slot_index(k).checked_mul(chunk)?;
        self.storage.get_mut(start..start.checked_add(chunk)?)
    }

    fn start(&mut self, msg: Control) {
        self.control = Some(Pending { msg, sent_at: None, tries: 0 });
        self.reply = None;
    }

    fn take(&mut self, offset: u32, buf: &mut [u8]) -> nb::Result<usize, SourceError> {
        let size = self.size.ok_or(nb::Error::Other(SourceError::Protocol))?;
        if offset >= size || buf.is_empty() {
            return Err(nb::Error::Other(SourceError::Protocol));
        }
        if self.head != Some(offset) {
            self.clear_window();
            self.origin = offset;
            self.head = Some(offset);
        }
        if let Some(e) = self.failed.take() {
            self.clear_window();
            return Err(nb::Error::Other(e));
        }
        let k = self.head_chunk().ok_or(nb::Error::WouldBlock)?;
        let slot = self.slot_index(k);
        let ready = self.slots.get(slot).is_some_and(|s| s.chunk == k && s.state == SlotState::Received);
        let (start, len) = self.chunk_range(k).ok_or(nb::Error::Other(SourceError::Protocol))?;
        if !ready {
            return Err(nb::Error::WouldBlock);
        }
        let protocol = nb::Error::Other(SourceError::Protocol);
        // `start <= offset < start + len` by how `k` was found; checked all the same.
        let within = offset.checked_sub(start).ok_or(protocol)?;
        let n = len.checked_sub(within).ok_or(protocol)?.min(u32::try_from(buf.len()).unwrap_or(u32::MAX));
        let from = usize::try_from(within).unwrap_or(0);
        let count = usize::try_from(n).unwrap_or(0);
        let region = self.region(k).ok_or(protocol)?;
        let src = region.get(from..).and_then(|r| r.get(..count)).ok_or(protocol)?;
        buf.get_mut(..count).ok_or(protocol)?.copy_from_slice(src);
        let next = offset.checked_add(n).ok_or(protocol)?;
        self.head = Some(next);
        if within.checked_add(n) == Some(len)
            && let Some(s) = self.slots.get_mut(slot)
        {
            *s = FREE;
        }
        Ok(count)
    }

    fn encode(&mut self, msg: &Message<'_>, out: &mut [u8]) -> Option<usize> {
        let mut payload = [0u8; 8 + MAX_VERSION_TEXT];
        let n = msg.encode(&mut payload).ok()?;
        self.encoder.encode(payload.get(..n)?, out).ok()
    }

    fn poll_transmit(&mut self, now: u64, out: &mut [u8]) -> Option<usize> {
        let timeout = u64::from(self.config.timeout_ms);
        if let Some(p) = self.control.as_mut() {
            let due = p.sent_at.is_none_or(|t| now.saturating_sub(t) >= timeout);
            if due {
                if p.tries > self.config.max_retries {
                    self.control = None;
                    self.reply = Some(Err(SourceError::Timeout));
                } else {
                    // At most `max_retries + 1`: checked just above.
                    p.tries = p.tries.saturating_add(1);
                    p.sent_at = Some(now);
                    let msg = p.msg.clone();
                    let m = match &msg {
                        Control::VersionReport(v) => Message::VersionReport { version: v },
                        Control::Progress(p) => Message::Progress { percent: *p },
                        Control::Result(c, v) => Message::Result { code: *c, version: v },
                    };
                    return self.encode(&m, out);
                }
            }
        }
        if self.failed.is_some() {
            return None;
        }
        if self.head >= self.size {
            return None; // everything was handed out
        }
        let hk = self.head_chunk()?;
        for k in hk..hk.saturating_add(self.window()) {
            let Some((start, len)) = self.chunk_range(k) else { break };
            let i = self.slot_index(k);
            let slot = self.slots.get(i).copied().unwrap_or(FREE);
            let slot = if slot.chunk == k { slot } else { FREE };
            let resend = match slot.state {
                SlotState::Free => false,
                SlotState::Received => continue,
                SlotState::Requested { sent_at, due, .. } => {
                    if !due && now.saturating_sub(sent_at) < timeout {
                        continue;
                    }
                    if slot.tries > self.config.max_retries {
                        self.failed = Some(SourceError::Timeout);
                        return None;
                    }
                    if !due {
                        self.stats.timeouts = self.stats.timeouts.saturating_add(1);
                        // One request again per timeout: after a stall the other answers
                        // are usually still queued behind this one, so give them time.
                        for s in self.slots.iter_mut() {
                            if let SlotState::Requested { sent_at, due: false, .. } = &mut s.state {
                                *sent_at = now;
                            }
                        }
                    }
                    true
                }
            };
            if !resend {
                self.stats.requests = self.stats.requests.saturating_add(1);
            }
            self.order = self.order.wrapping_add(1);
            let order = self.order;
            if let Some(s) = self.slots.get_mut(i) {
                *s = Slot {
                    chunk: k,
                    state: SlotState::Requested { sent_at: now, order, due: false },
                    tries: slot.tries.saturating_add(1),
                };
            }
            let len = u16::try_from(len).unwrap_or(u16::MAX);
            return self.encode(&Message::ChunkRequest { offset: start, len }, out);
        }
        None
    }

    fn handle(&mut self, payload: &[u8]) {
        let Ok(msg) = Message::decode(payload) else {
            self.stats.undecodable = self.stats.undecodable.saturating_add(1);
            return;
        };
        match msg {
            Message::Chunk { offset, data } => self.on_chunk(offset, data),
            Message::Offer { version, size, md5, sha256 } => {
                if let Some(Pending { msg: Control::VersionReport(_), .. }) = self.control {
                    let mut v = heapless::String::new();
                    let _ = v.push_str(version);
                    self.control = None;
                    self.size = Some(size);
                    self.clear_window();
                    self.reply = Some(Ok(Reply::Offer(OfferInfo {
                        version: v,
                        size,
                        digest: Digest { md5, sha256 },
                    })));
                }
            }
            Message::NoUpdate => {
                if let Some(Pending { msg: Control::VersionReport(_), .. }) = self.control {
                    self.control = None;
                    self.reply = Some(Ok(Reply::NoUpdate));
                }
            }
            Message::Ack { of } => {
                let matches = match self.control {
                    Some(Pending { msg: Control::Progress(_), .. }) => of == kind::PROGRESS,
                    Some(Pending { msg: Control::Result(..), .. }) => of == kind::RESULT,
                    _ => false,
                };
                if matches {
                    self.control = None;
                    self.reply = Some(Ok(Reply::Ack));
                }
            }
            Message::Error { code, offset } => {
                self.stats.host_errors = self.stats.host_errors.saturating_add(1);
                let for_chunk = matches!(code, error_code::OUT_OF_RANGE | error_code::NO_IMAGE)
                    && self.requested_slot(offset).is_some();
                if for_chunk {
                    self.failed = Some(match code {
                        error_code::NO_IMAGE => SourceError::NotFound,
                        _ => SourceError::Protocol,
                    });
                } else if self.control.is_some() {
                    self.control = None;
                    self.reply = Some(Ok(Reply::Refused(code)));
                } else if self.head.is_some() {
                    // A refusal of a request in the window (busy, bad request).
                    self.failed = Some(SourceError::Server);
                }
            }
            Message::VersionReport { .. }
            | Message::ChunkRequest { .. }
            | Message::Progress { .. }
            | Message::Result { .. } => {
                self.stats.undecodable = self.stats.undecodable.saturating_add(1);
            }
        }
    }

    /// The chunk index and slot of a requested chunk starting at `offset`, if it is in the window.
    fn requested_slot(&self, offset: u32) -> Option<(u32, usize)> {
        let hk = self.head_chunk()?;
        let rel = offset.checked_sub(self.origin)?;
        if !rel.is_multiple_of(self.chunk_len()) {
            return None;
        }
        let k = rel.checked_div(self.chunk_len())?;
        if k < hk || k >= hk.saturating_add(self.window()) {
            return None;
        }
        let i = self.slot_index(k);
        let slot = self.slots.get(i)?;
        (slot.chunk == k && slot.state != SlotState::Free).then_some((k, i))
    }

    fn on_chunk(&mut self, offset: u32, data: &[u8]) {
        let Some((k, i)) = self.requested_slot(offset) else {
            self.stats.unrequested = self.stats.unrequested.saturating_add(1);
            return;
        };
        let Some(slot) = self.slots.get(i).copied() else { return };
        let SlotState::Requested { order, .. } = slot.state else {
            self.stats.duplicates = self.stats.duplicates.saturating_add(1);
            return;
        };
        let expected = self.chunk_range(k).map(|(_, len)| len);
        if expected != u32::try_from(data.len()).ok() {
            self.stats.bad_answers = self.stats.bad_answers.saturating_add(1);
            return;
        }
        let Some(region) = self.region(k) else { return };
        let Some(dst) = region.get_mut(..data.len()) else { return };
        dst.copy_from_slice(data);
        self.stats.answers = self.stats.answers.saturating_add(1);
        let mut fast = 0u32;
        for s in self.slots.iter_mut() {
            if let SlotState::Requested { order: o, due, .. } = &mut s.state
                && *o < order
                && !*due
            {
                *due = true;
                fast = fast.saturating_add(1);
            }
        }
        self.stats.fast_retransmits = self.stats.fast_retransmits.saturating_add(fast);
        if let Some(s) = self.slots.get_mut(i) {
            s.state = SlotState::Received;
            s.tries = 0;
        }
    }
}
