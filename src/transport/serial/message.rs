//! The device-pull chunk protocol: one CBOR array per frame payload, `[kind, fields…]`.
//!
//! | kind | message | direction | fields |
//! |---|---|---|---|
//! | 1 | [`Message::VersionReport`] | device → host | version text |
//! | 2 | [`Message::ChunkRequest`] | device → host | offset u32, length u16 |
//! | 3 | [`Message::Progress`] | device → host | percent u8 |
//! | 4 | [`Message::Result`] | device → host | result code u8, version text |
//! | 16 | [`Message::Offer`] | host → device | version, size u32, md5 bytes(16) or null, sha256 bytes(32) or null |
//! | 17 | [`Message::NoUpdate`] | host → device | — |
//! | 18 | [`Message::Chunk`] | host → device | offset u32, data bytes |
//! | 19 | [`Message::Ack`] | host → device | kind acknowledged u8 (3 or 4) |
//! | 20 | [`Message::Error`] | host → device | error code u8, offset u32 |
//!
//! A chunk answer costs 10 bytes of CBOR around its data (array, kind, offset, byte-string
//! header), so a 1,024-byte chunk fills its frame to 98 %.

#![deny(clippy::arithmetic_side_effects)]

use minicbor::encode::write::{Cursor, EndOfSlice};
use minicbor::{Decoder, Encoder};

use crate::FailureCause;

/// Longest version text the protocol carries (as [`crate::version::MAX_VERSION_LEN`]).
pub const MAX_VERSION_TEXT: usize = crate::version::MAX_VERSION_LEN;

/// CBOR bytes a chunk answer adds around its data, at most.
pub const CHUNK_OVERHEAD: usize = 10;

/// Message kinds on the wire.
pub mod kind {
    /// Device reports its running version and asks for an offer.
    pub const VERSION_REPORT: u8 = 1;
    /// Device asks for a range of the image.
    pub const CHUNK_REQUEST: u8 = 2;
    /// Device reports download progress.
    pub const PROGRESS: u8 = 3;
    /// Device reports the outcome of the update.
    pub const RESULT: u8 = 4;
    /// Host offers an image.
    pub const OFFER: u8 = 16;
    /// Host has nothing newer.
    pub const NO_UPDATE: u8 = 17;
    /// Host answers a chunk request.
    pub const CHUNK: u8 = 18;
    /// Host acknowledges a progress or result report.
    pub const ACK: u8 = 19;
    /// Host refuses a request.
    pub const ERROR: u8 = 20;
}

/// Error codes in [`Message::Error`].
pub mod error_code {
    /// The requested range is outside the image.
    pub const OUT_OF_RANGE: u8 = 1;
    /// The host has no image for this device.
    pub const NO_IMAGE: u8 = 2;
    /// The request could not be decoded or is not allowed now.
    pub const BAD_REQUEST: u8 = 3;
    /// The host is serving too many devices.
    pub const BUSY: u8 = 4;
}

/// One message of the chunk protocol. Texts and data borrow the frame they came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    /// The device's running version; the host answers [`Message::Offer`] or [`Message::NoUpdate`].
    VersionReport {
        /// Version text.
        version: &'a str,
    },
    /// A request for `len` image bytes at `offset`.
    ChunkRequest {
        /// Image offset.
        offset: u32,
        /// Bytes wanted.
        len: u16,
    },
    /// Download progress; the host answers [`Message::Ack`].
    Progress {
        /// 0..=100.
        percent: u8,
    },
    /// Update outcome; the host answers [`Message::Ack`]. See [`result_code`].
    Result {
        /// 0 for success, otherwise a [`FailureCause`] code.
        code: u8,
        /// The version now running.
        version: &'a str,
    },
    /// An image is available.
    Offer {
        /// Version text of the image.
        version: &'a str,
        /// Size in bytes.
        size: u32,
        /// MD5 of the image, when the host has it.
        md5: Option<[u8; 16]>,
        /// SHA-256 of the image, when the host has it.
        sha256: Option<[u8; 32]>,
    },
    /// Nothing newer than the reported version.
    NoUpdate,
    /// Image bytes at `offset`.
    Chunk {
        /// Image offset of `data`.
        offset: u32,
        /// The bytes.
        data: &'a [u8],
    },
    /// A progress or result report arrived.
    Ack {
        /// The kind acknowledged ([`kind::PROGRESS`] or [`kind::RESULT`]).
        of: u8,
    },
    /// The host refuses a request (see [`error_code`]).
    Error {
        /// Why.
        code: u8,
        /// The offset of the refused chunk request, 0 otherwise.
        offset: u32,
    },
}

/// Why a message could not be encoded or decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum MessageError {
    /// The payload is not well-formed CBOR of the expected shape; `at` is the byte position.
    Malformed {
        /// Byte position in the payload where decoding stopped.
        at: usize,
    },
    /// The first element is not a known message kind.
    UnknownKind(u8),
    /// The array has the wrong number of elements for its kind.
    WrongFieldCount {
        /// The message kind.
        kind: u8,
    },
    /// A digest byte string has the wrong length.
    BadDigest,
    /// A version text is empty or longer than [`MAX_VERSION_TEXT`].
    BadVersion,
    /// Bytes follow the message.
    TrailingBytes,
    /// The output buffer is too small (encoding only).
    BufferTooSmall,
}

impl core::error::Error for MessageError {}

impl core::fmt::Display for MessageError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Malformed { at } => write!(f, "malformed CBOR message at byte {at}"),
            Self::UnknownKind(k) => write!(f, "unknown message kind {k}"),
            Self::WrongFieldCount { kind } => write!(f, "wrong number of fields for message kind {kind}"),
            Self::BadDigest => f.write_str("digest has the wrong length"),
            Self::BadVersion => f.write_str("version text empty or too long"),
            Self::TrailingBytes => f.write_str("bytes after the message"),
            Self::BufferTooSmall => f.write_str("output buffer too small for the message"),
        }
    }
}

/// The protocol's result code for an outcome: 0 for success, otherwise 1 + the position of
/// the cause in [`FailureCause::ALL`].
pub fn result_code(outcome: Result<(), FailureCause>) -> u8 {
    match outcome {
        Ok(()) => 0,
        Err(cause) => FailureCause::ALL
            .iter()
            .position(|c| *c == cause)
            .and_then(|i| u8::try_from(i).ok()?.checked_add(1))
            .unwrap_or(u8::MAX),
    }
}

/// The outcome a result code stands for; unknown codes read as [`FailureCause::UpdateFailed`].
pub fn outcome_of(code: u8) -> Result<(), FailureCause> {
    match code {
        0 => Ok(()),
        n => Err(n
            .checked_sub(1)
            .and_then(|i| FailureCause::ALL.get(usize::from(i)))
            .copied()
            .unwrap_or(FailureCause::UpdateFailed)),
    }
}

type EncodeError = minicbor::encode::Error<EndOfSlice>;

fn too_small(_: EncodeError) -> MessageError {
    MessageError::BufferTooSmall
}

impl<'a> Message<'a> {
    /// The kind byte of this message.
    pub fn kind(&self) -> u8 {
        match self {
            Self::VersionReport { .. } => kind::VERSION_REPORT,
            Self::ChunkRequest { .. } => kind::CHUNK_REQUEST,
            Self::Progress { .. } => kind::PROGRESS,
            Self::Result { .. } => kind::RESULT,
            Self::Offer { .. } => kind::OFFER,
            Self::NoUpdate => kind::NO_UPDATE,
            Self::Chunk { .. } => kind::CHUNK,
            Self::Ack { .. } => kind::ACK,
            Self::Error { .. } => kind::ERROR,
        }
    }

    /// Encodes the message into `out`, returning its length.
    ///
    /// ```
    /// use ota_client::transport::serial::Message;
    /// let mut buf = [0u8; 16];
    /// let n = Message::ChunkRequest { offset: 4096, len: 1024 }.encode(&mut buf).unwrap();
    /// assert_eq!(Message::decode(&buf[..n]), Ok(Message::ChunkRequest { offset: 4096, len: 1024 }));
    /// ```
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, MessageError> {
        let mut e = Encoder::new(Cursor::new(out));
        self.encode_into(&mut e).map_err(too_small)?;
        Ok(e.writer().position())
    }

    fn encode_into(&self, e: &mut Encoder<Cursor<&mut [u8]>>) -> Result<(), EncodeError> {
        let k = self.kind();
        match *self {
            Self::VersionReport { version } => {
                e.array(2)?.u8(k)?.str(version)?;
            }
            Self::ChunkRequest { offset, len } => {
                e.array(3)?.u8(k)?.u32(offset)?.u16(len)?;
            }
            Self::Progress { percent } => {
                e.array(2)?.u8(k)?.u8(percent)?;
            }
            Self::Result { code, version } => {
                e.array(3)?.u8(k)?.u8(code)?.str(version)?;
            }
            Self::Offer { version, size, md5, sha256 } => {
                e.array(5)?.u8(k)?.str(version)?.u32(size)?;
                match md5 {
                    Some(d) => e.bytes(&d)?,
                    None => e.null()?,
                };
                match sha256 {
                    Some(d) => e.bytes(&d)?,
                    None => e.null()?,
                };
            }
            Self::NoUpdate => {
                e.array(1)?.u8(k)?;
            }
            Self::Chunk { offset, data } => {
                e.array(3)?.u8(k)?.u32(offset)?.bytes(data)?;
            }
            Self::Ack { of } => {
                e.array(2)?.u8(k)?.u8(of)?;
            }
            Self::Error { code, offset } => {
                e.array(3)?.u8(k)?.u8(code)?.u32(offset)?;
            }
        }
        Ok(())
    }

    /// Decodes one message; the whole payload must be that message.
    pub fn decode(payload: &'a [u8]) -> Result<Self, MessageError> {
        let mut d = Decoder::new(payload);
        let msg = decode_from(&mut d)?;
        if d.position() != payload.len() {
            return Err(MessageError::TrailingBytes);
        }
        Ok(msg)
    }
}

fn malformed(d: &Decoder<'_>) -> impl Fn(minicbor::decode::Error) -> MessageError {
    let at = d.position();
    move |e| MessageError::Malformed { at: e.position().unwrap_or(at) }
}

fn version_text<'a>(d: &mut Decoder<'a>) -> Result<&'a str, MessageError> {
    let v = d.str().map_err(malformed(d))?;
    if v.is_empty() || v.len() > MAX_VERSION_TEXT {
        return Err(MessageError::BadVersion);
    }
    Ok(v)
}

fn digest<const L: usize>(d: &mut Decoder<'_>) -> Result<Option<[u8; L]>, MessageError> {
    if d.datatype().map_err(malformed(d))? == minicbor::data::Type::Null {
        d.null().map_err(malformed(d))?;
        return Ok(None);
    }
    let b = d.bytes().map_err(malformed(d))?;
    b.try_into().map(Some).map_err(|_| MessageError::BadDigest)
}

fn decode_from<'a>(d: &mut Decoder<'a>) -> Result<Message<'a>, MessageError> {
    let len = d.array().map_err(malformed(d))?.ok_or(MessageError::Malformed { at: 0 })?;
    let k = d.u8().map_err(malformed(d))?;
    let expected = match k {
        kind::VERSION_REPORT | kind::PROGRESS | kind::ACK => 2,
        kind::CHUNK_REQUEST | kind::RESULT | kind::CHUNK | kind::ERROR => 3,
        kind::OFFER => 5,
        kind::NO_UPDATE => 1,
        other => return Err(MessageError::UnknownKind(other)),
    };
    if len != expected {
        return Err(MessageError::WrongFieldCount { kind: k });
    }
    Ok(match k {
        kind::VERSION_REPORT => Message::VersionReport { version: version_text(d)? },
        kind::CHUNK_REQUEST => Message::ChunkRequest {
            offset: d.u32().map_err(malformed(d))?,
            len: d.u16().map_err(malformed(d))?,
        },
        kind::PROGRESS => Message::Progress { percent: d.u8().map_err(malformed(d))? },
        kind::RESULT => Message::Result { code: d.u8().map_err(malformed(d))?, version: version_text(d)? },
        kind::OFFER => Message::Offer {
            version: version_text(d)?,
            size: d.u32().map_err(malformed(d))?,
            md5: digest(d)?,
            sha256: digest(d)?,
        },
        kind::NO_UPDATE => Message::NoUpdate,
        kind::CHUNK => {
            Message::Chunk { offset: d.u32().map_err(malformed(d))?, data: d.bytes().map_err(malformed(d))? }
        }
        kind::ACK => Message::Ack { of: d.u8().map_err(malformed(d))? },
        _ => Message::Error { code: d.u8().map_err(malformed(d))?, offset: d.u32().map_err(malformed(d))? },
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code: a panic is a test failure")]
mod tests {
    use super::*;

    fn round_trip(m: Message<'_>) {
        let mut buf = [0u8; 1200];
        let n = m.encode(&mut buf).unwrap();
        assert_eq!(Message::decode(&buf[..n]), Ok(m));
    }

    #[test]
    fn every_kind_round_trips() {
        round_trip(Message::VersionReport { version: "1.0.0" });
        round_trip(Message::ChunkRequest { offset: 0x0102_0304, len: 1024 });
        round_trip(Message::Progress { percent: 42 });
        round_trip(Message::Result { code: 0, version: "v2" });
        round_trip(Message::Offer { version: "2.0", size: 123_456, md5: Some([7; 16]), sha256: None });
        round_trip(Message::Offer { version: "2.0", size: 1, md5: None, sha256: Some([9; 32]) });
        round_trip(Message::NoUpdate);
        round_trip(Message::Chunk { offset: 99, data: &[0, 1, 2, 0] });
        round_trip(Message::Ack { of: kind::RESULT });
        round_trip(Message::Error { code: error_code::OUT_OF_RANGE, offset: 5 });
    }

    #[test]
    fn chunk_overhead_is_small() {
        let data = [0xAAu8; 1024];
        let mut buf = [0u8; 1100];
        let n = Message::Chunk { offset: u32::MAX, data: &data }.encode(&mut buf).unwrap();
        assert_eq!(n - data.len(), CHUNK_OVERHEAD);
    }

    #[test]
    fn clear_errors() {
        assert_eq!(Message::decode(&[]), Err(MessageError::Malformed { at: 0 }));
        assert_eq!(Message::decode(&[0x81, 0x18, 0x63]), Err(MessageError::UnknownKind(99)));
        assert_eq!(Message::decode(&[0x82, 0x11, 0x00]), Err(MessageError::WrongFieldCount { kind: 17 }));
        // Offer with a 3-byte md5.
        let mut buf = [0u8; 64];
        let mut e = Encoder::new(Cursor::new(&mut buf[..]));
        e.array(5)
            .unwrap()
            .u8(16)
            .unwrap()
            .str("1")
            .unwrap()
            .u32(1)
            .unwrap()
            .bytes(&[1, 2, 3])
            .unwrap()
            .null()
            .unwrap();
        let n = e.writer().position();
        assert_eq!(Message::decode(&buf[..n]), Err(MessageError::BadDigest));
        assert_eq!(Message::decode(&[0x81, 0x11, 0x00]), Err(MessageError::TrailingBytes));
        let mut tiny = [0u8; 4];
        assert_eq!(
            Message::Chunk { offset: 0, data: &[1; 8] }.encode(&mut tiny),
            Err(MessageError::BufferTooSmall)
        );
        assert!(matches!(Message::decode(&[0x83, 0x12, 0x1a]), Err(MessageError::Malformed { .. })));
        assert_eq!(format!("{}", MessageError::UnknownKind(7)), "unknown message kind 7");
    }

    #[test]
    fn result_codes_map_both_ways() {
        assert_eq!(result_code(Ok(())), 0);
        for cause in FailureCause::ALL {
            assert_eq!(outcome_of(result_code(Err(cause))), Err(cause));
        }
        assert_eq!(outcome_of(200), Err(FailureCause::UpdateFailed));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..80)) {
            let _ = Message::decode(&bytes);
        }
    }
}
