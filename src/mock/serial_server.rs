//! The host side of the serial chunk protocol: an update server for one or many devices,
//! each on its own byte stream (a simulated [`SerialLink`](super::serial_link::SerialLink),
//! a TCP socket, a pty).
//!
//! Streams are non-blocking `std::io::Read + Write` (a read with nothing to give fails with
//! `WouldBlock`, as a non-blocking socket does); [`SerialServer::poll`] serves every stream
//! once and never waits.

use std::io::{ErrorKind, Read, Write};
use std::sync::Arc;

use sha2::Digest as _;

use crate::FailureCause;
use crate::transport::serial::frame::{FrameDecoder, FrameEncoder, FrameStats, max_frame_len};
use crate::transport::serial::message::{Message, error_code, kind, outcome_of};

/// Devices a server serves at once by default (an EnOS Edge port channel serves five).
pub const DEFAULT_MAX_DEVICES: usize = 5;

/// Largest chunk the server answers by default.
pub const DEFAULT_MAX_CHUNK: usize = 4096;

/// The image a server offers.
#[derive(Debug, Clone)]
pub struct Image {
    /// Version text.
    pub version: String,
    /// The bytes.
    pub data: Vec<u8>,
    /// MD5 of the bytes.
    pub md5: [u8; 16],
    /// SHA-256 of the bytes.
    pub sha256: [u8; 32],
}

impl Image {
    /// An image with its digests computed.
    pub fn new(version: &str, data: Vec<u8>) -> Self {
        let md5 = <[u8; 16]>::from(<md5::Md5 as md5::Digest>::digest(&data));
        let sha256 = sha2::Sha256::digest(&data).into();
        Self { version: version.to_owned(), data, md5, sha256 }
    }
}

/// What the server knows about one device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceRecord {
    /// The version the device last reported.
    pub version: Option<String>,
    /// The last progress report.
    pub progress: Option<u8>,
    /// The last result report, with the version the device then ran.
    pub result: Option<(Result<(), FailureCause>, String)>,
    /// Chunk requests answered with data.
    pub chunks_served: u64,
    /// Image bytes sent.
    pub bytes_served: u64,
    /// Requests refused (out of range, undecodable).
    pub refused: u64,
    /// Frame-level counters of what the device sent.
    pub frames: FrameStats,
    /// The stream reached its end or failed.
    pub closed: bool,
}

struct Session<P> {
    port: P,
    decoder: FrameDecoder<256>,
    encoder: FrameEncoder,
    out: Vec<u8>,
    record: DeviceRecord,
}

/// An update server for up to `max_devices` streams.
pub struct SerialServer<P> {
    image: Option<Arc<Image>>,
    sessions: Vec<Session<P>>,
    max_devices: usize,
    max_chunk: usize,
}

impl<P: Read + Write> SerialServer<P> {
    /// A server offering `image` (or nothing) to at most [`DEFAULT_MAX_DEVICES`] devices.
    pub fn new(image: Option<Image>) -> Self {
        Self {
            image: image.map(Arc::new),
            sessions: Vec::new(),
            max_devices: DEFAULT_MAX_DEVICES,
            max_chunk: DEFAULT_MAX_CHUNK,
        }
    }

    /// Changes how many devices may be attached at once.
    pub fn with_max_devices(mut self, n: usize) -> Self {
        self.max_devices = n;
        self
    }

    /// Attaches a device's stream, returning its index, or gives the stream back when the
    /// server is full (closed streams still count until [`prune`](Self::prune)).
    pub fn attach(&mut self, port: P) -> Result<usize, P> {
        if self.sessions.len() >= self.max_devices {
            return Err(port);
        }
        self.sessions.push(Session {
            port,
            decoder: FrameDecoder::new(),
            encoder: FrameEncoder::new(),
            out: Vec::new(),
            record: DeviceRecord::default(),
        });
        Ok(self.sessions.len() - 1)
    }

    /// Drops closed streams (indices of later devices shift down).
    pub fn prune(&mut self) {
        self.sessions.retain(|s| !s.record.closed);
    }

    /// Devices attached.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// True when no device is attached.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// What the server knows about device `i`.
    pub fn record(&self, i: usize) -> Option<&DeviceRecord> {
        self.sessions.get(i).map(|s| &s.record)
    }

    /// Serves every stream once: reads what arrived, answers it, sends what fits. Returns
    /// true when any byte moved.
    pub fn poll(&mut self) -> bool {
        let mut moved = false;
        for s in self.sessions.iter_mut().filter(|s| !s.record.closed) {
            moved |= s.poll(self.image.as_deref(), self.max_chunk);
        }
        moved
    }
}

impl<P: Read + Write> Session<P> {
    fn poll(&mut self, image: Option<&Image>, max_chunk: usize) -> bool {
        let mut moved = self.flush();
        let mut buf = [0u8; 2048];
        loop {
            match self.port.read(&mut buf) {
                Ok(0) => {
                    self.record.closed = true;
                    break;
                }
                Ok(n) => {
                    moved = true;
                    let mut input = buf.get(..n).unwrap_or(&[]);
                    while !input.is_empty() {
                        let (used, event) = self.decoder.feed(input);
                        if let Some(crate::transport::serial::DecodeEvent::Frame(f)) = event {
                            let payload = f.payload.to_vec();
                            self.answer(&payload, image, max_chunk);
                        }
                        input = input.get(used..).unwrap_or(&[]);
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.record.closed = true;
                    break;
                }
            }
        }
        self.record.frames = self.decoder.stats();
        moved | self.flush()
    }

    fn flush(&mut self) -> bool {
        let mut moved = false;
        while !self.out.is_empty() {
            match self.port.write(&self.out) {
                Ok(0) => break,
                Ok(n) => {
                    self.out.drain(..n.min(self.out.len()));
                    moved = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.record.closed = true;
                    break;
                }
            }
        }
        moved
    }

    fn send(&mut self, msg: &Message<'_>) {
        let mut payload = vec![
            0u8;
            64 + match msg {
                Message::Chunk { data, .. } => data.len(),
                _ => 0,
            }
        ];
        let Ok(n) = msg.encode(&mut payload) else { return };
        let mut frame = vec![0u8; max_frame_len(n)];
        if let Ok(m) = self.encoder.encode(payload.get(..n).unwrap_or(&[]), &mut frame) {
            self.out.extend_from_slice(frame.get(..m).unwrap_or(&[]));
        }
    }

    fn refuse(&mut self, code: u8, offset: u32) {
        self.record.refused += 1;
        self.send(&Message::Error { code, offset });
    }

    fn answer(&mut self, payload: &[u8], image: Option<&Image>, max_chunk: usize) {
        let Ok(msg) = Message::decode(payload) else {
            self.refuse(error_code::BAD_REQUEST, 0);
            return;
        };
        match msg {
            Message::VersionReport { version } => {
                self.record.version = Some(version.to_owned());
                match image {
                    Some(img) if img.version != version => {
                        let offer = Message::Offer {
                            version: &img.version,
                            size: u32::try_from(img.data.len()).unwrap_or(u32::MAX),
                            md5: Some(img.md5),
                            sha256: Some(img.sha256),
                        };
                        self.send(&offer);
                    }
                    _ => self.send(&Message::NoUpdate),
                }
            }
            Message::ChunkRequest { offset, len } => {
                let Some(img) = image else {
                    self.refuse(error_code::NO_IMAGE, offset);
                    return;
                };
                let start = usize::try_from(offset).unwrap_or(usize::MAX);
                let len = usize::from(len);
                if len == 0 || len > max_chunk || start >= img.data.len() {
                    self.refuse(error_code::OUT_OF_RANGE, offset);
                    return;
                }
                let end = start.saturating_add(len).min(img.data.len());
                let data = img.data.get(start..end).unwrap_or(&[]);
                self.record.chunks_served += 1;
                self.record.bytes_served += data.len() as u64;
                self.send(&Message::Chunk { offset, data });
            }
            Message::Progress { percent } => {
                self.record.progress = Some(percent);
                self.send(&Message::Ack { of: kind::PROGRESS });
            }
            Message::Result { code, version } => {
                self.record.result = Some((outcome_of(code), version.to_owned()));
                self.send(&Message::Ack { of: kind::RESULT });
            }
            _ => self.refuse(error_code::BAD_REQUEST, 0),
        }
    }
}
