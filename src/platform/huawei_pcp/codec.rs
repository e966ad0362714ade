//! PCP frames: `u16 start 0xFFFE | u8 version | u8 message code | u16 check code |
//! u16 data length | data`, big-endian.
//!
//! [`Packet`] is a zero-copy view over a byte buffer in the manner of a wire module: build
//! it with [`Packet::new_checked`], which checks the length before any field is read.
//! [`PlatformMessage`] and [`DeviceMessage`] are the parsed messages of each direction.
//! A device parses [`PlatformMessage`]s and emits [`DeviceMessage`]s; the reverse (the
//! platform's side, for the mock platform) is compiled only with feature `mock`.

#![deny(clippy::arithmetic_side_effects)]

use super::check_code::frame_check_code;

/// The start marker.
pub const START: u16 = 0xFFFE;
/// The protocol version this codec writes (low nibble 1).
pub const VERSION: u8 = 0x01;
/// Header length: start, version, code, check code, data length.
pub const HEADER_LEN: usize = 8;
/// Length of a version field.
pub const VERSION_LEN: usize = 16;

/// Message codes.
pub mod code {
    /// Query version (platform asks, device answers).
    pub const QUERY_VERSION: u8 = 19;
    /// New version notification.
    pub const NEW_VERSION: u8 = 20;
    /// Request block (device asks, platform answers with the block).
    pub const REQUEST_BLOCK: u8 = 21;
    /// Download status report.
    pub const DOWNLOAD_STATUS: u8 = 22;
    /// Execute upgrade.
    pub const EXECUTE_UPGRADE: u8 = 23;
    /// Upgrade result report.
    pub const UPGRADE_RESULT: u8 = 24;
}

/// Result bytes.
pub mod result {
    /// Success.
    pub const OK: u8 = 0;
    /// Device busy.
    pub const BUSY: u8 = 1;
    /// Weak signal.
    pub const WEAK_SIGNAL: u8 = 2;
    /// Already the latest version.
    pub const LATEST: u8 = 3;
    /// Low battery.
    pub const LOW_BATTERY: u8 = 4;
    /// Not enough space.
    pub const NO_SPACE: u8 = 5;
    /// Download timeout (download status).
    pub const TIMEOUT: u8 = 6;
    /// Package check failed (download status).
    pub const CHECK_FAILED: u8 = 7;
    /// Unsupported package (download status).
    pub const UNSUPPORTED: u8 = 8;
    /// Not enough memory.
    pub const NO_MEMORY: u8 = 9;
    /// Install failed (upgrade result).
    pub const INSTALL_FAILED: u8 = 0x0A;
    /// Internal error.
    pub const INTERNAL: u8 = 0x7F;
    /// Platform: no upgrade task.
    pub const NO_TASK: u8 = 0x80;
    /// Platform: bad block number.
    pub const BAD_BLOCK: u8 = 0x81;
}

/// Why a frame was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum PcpError {
    /// Shorter than the header, or than the header plus the data length it states.
    Truncated,
    /// Longer than the header plus the data length it states.
    LengthMismatch,
    /// The start marker is not 0xFFFE.
    BadStart,
    /// The version's low nibble is not 1.
    BadVersion,
    /// The check code does not match the frame.
    CheckCode,
    /// A message code outside 19..=24.
    UnknownCode(u8),
    /// The data is too short for the message.
    BadData,
    /// The output buffer is too small (encoding only).
    BufferTooSmall,
}

impl core::error::Error for PcpError {}

impl core::fmt::Display for PcpError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Truncated => f.write_str("PCP frame truncated"),
            Self::LengthMismatch => f.write_str("PCP frame longer than its data length"),
            Self::BadStart => f.write_str("PCP start marker is not 0xFFFE"),
            Self::BadVersion => f.write_str("PCP version is not 1"),
            Self::CheckCode => f.write_str("PCP check code mismatch"),
            Self::UnknownCode(c) => write!(f, "unknown PCP message code {c}"),
            Self::BadData => f.write_str("PCP data too short for its message"),
            Self::BufferTooSmall => f.write_str("output buffer too small for the PCP frame"),
        }
    }
}

/// A zero-copy view of one PCP frame.
#[derive(Debug, Clone, Copy)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

fn be16(bytes: &[u8], at: usize) -> u16 {
    let byte = |i: Option<usize>| i.and_then(|i| bytes.get(i)).copied().unwrap_or(0);
    u16::from_be_bytes([byte(Some(at)), byte(at.checked_add(1))])
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` without checks; field accessors then read zeros past its end.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len), and checks start, version and
    /// check code.
    pub fn new_checked(buffer: T) -> Result<Self, PcpError> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        if p.start() != START {
            return Err(PcpError::BadStart);
        }
        if p.version() & 0x0F != VERSION {
            return Err(PcpError::BadVersion);
        }
        if p.check_code() != p.compute_check_code() {
            return Err(PcpError::CheckCode);
        }
        Ok(p)
    }

    /// Checks that the buffer is exactly the header plus the stated data length.
    pub fn check_len(&self) -> Result<(), PcpError> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(PcpError::Truncated);
        }
        let total = HEADER_LEN + usize::from(self.data_len());
        if len < total {
            Err(PcpError::Truncated)
        } else if len > total {
            Err(PcpError::LengthMismatch)
        } else {
            Ok(())
        }
    }

    /// The start marker.
    pub fn start(&self) -> u16 {
        be16(self.buffer.as_ref(), 0)
    }

    /// The version byte.
    pub fn version(&self) -> u8 {
        self.buffer.as_ref().get(2).copied().unwrap_or(0)
    }

    /// The message code.
    pub fn message_code(&self) -> u8 {
        self.buffer.as_ref().get(3).copied().unwrap_or(0)
    }

    /// The check code field.
    pub fn check_code(&self) -> u16 {
        be16(self.buffer.as_ref(), 4)
    }

    /// The data length field.
    pub fn data_len(&self) -> u16 {
        be16(self.buffer.as_ref(), 6)
    }

    /// The data.
    pub fn data(&self) -> &[u8] {
        let end = HEADER_LEN + usize::from(self.data_len());
        self.buffer.as_ref().get(HEADER_LEN..end).unwrap_or(&[])
    }

    /// The check code the frame should carry.
    pub fn compute_check_code(&self) -> u16 {
        frame_check_code(self.buffer.as_ref())
    }
}

/// Writes a frame with `code` and `data` into `out`, returning its length.
pub fn emit(code: u8, data: &[u8], out: &mut [u8]) -> Result<usize, PcpError> {
    let total = HEADER_LEN.checked_add(data.len()).ok_or(PcpError::BufferTooSmall)?;
    let data_len = u16::try_from(data.len()).map_err(|_| PcpError::BufferTooSmall)?;
    let frame = out.get_mut(..total).ok_or(PcpError::BufferTooSmall)?;
    let (header, body) = frame.split_at_mut(HEADER_LEN);
    let [s0, s1] = START.to_be_bytes();
    let [l0, l1] = data_len.to_be_bytes();
    header.copy_from_slice(&[s0, s1, VERSION, code, 0, 0, l0, l1]);
    body.copy_from_slice(data);
    let [c0, c1] = frame_check_code(frame).to_be_bytes();
    if let Some(field) = frame.get_mut(4..6) {
        field.copy_from_slice(&[c0, c1]);
    }
    Ok(total)
}

/// A version field from text: ASCII padded with zeros; `None` when longer than 16 bytes.
pub fn version_field(text: &str) -> Option<[u8; VERSION_LEN]> {
    let mut field = [0u8; VERSION_LEN];
    field.get_mut(..text.len())?.copy_from_slice(text.as_bytes());
    Some(field)
}

/// The text of a version field, up to the first zero; empty when it is not UTF-8.
pub fn version_text(field: &[u8; VERSION_LEN]) -> &str {
    let end = field.iter().position(|&b| b == 0).unwrap_or(VERSION_LEN);
    core::str::from_utf8(field.get(..end).unwrap_or(&[])).unwrap_or("")
}

fn version_at(data: &[u8], at: usize) -> Result<[u8; VERSION_LEN], PcpError> {
    data.get(at..).and_then(|v| v.get(..VERSION_LEN)).and_then(|v| v.try_into().ok()).ok_or(PcpError::BadData)
}

fn u8_at(data: &[u8], at: usize) -> Result<u8, PcpError> {
    data.get(at).copied().ok_or(PcpError::BadData)
}

fn u16_at(data: &[u8], at: usize) -> Result<u16, PcpError> {
    if at.checked_add(2).is_none_or(|end| data.len() < end) {
        return Err(PcpError::BadData);
    }
    Ok(be16(data, at))
}

/// An upgrade task as the platform announces it (message 20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Task {
    /// Target version field.
    pub version: [u8; VERSION_LEN],
    /// Bytes per block (the last block may be shorter).
    pub block_size: u16,
    /// Number of blocks.
    pub block_count: u16,
    /// The package's check code, which identifies it for resume.
    pub check_code: u16,
}

impl Task {
    /// Upper bound of the package size: block size times block count.
    pub fn max_len(&self) -> u32 {
        // At most 65,535²: below `u32::MAX`, so this never saturates.
        u32::from(self.block_size).saturating_mul(u32::from(self.block_count))
    }

    /// True when `other` is the same package (same version and check code).
    pub fn same_package(&self, other: &Task) -> bool {
        self.version == other.version && self.check_code == other.check_code
    }
}

/// A message from the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformMessage<'a> {
    /// 19: report your version.
    QueryVersion,
    /// 20: a new version is available.
    NewVersion(Task),
    /// 21: the answer to a block request.
    Block {
        /// 0 ok, 0x80 no task, 0x81 bad block.
        result: u8,
        /// The block number (0 when the answer carries none).
        block: u16,
        /// The block's bytes.
        data: &'a [u8],
    },
    /// 22: the platform's answer to a download status report.
    DownloadStatusAck {
        /// Result byte.
        result: u8,
    },
    /// 23: install the downloaded package.
    ExecuteUpgrade,
    /// 24: the platform's answer to an upgrade result report.
    UpgradeResultAck {
        /// 0, or 0x80 no task.
        result: u8,
    },
}

impl<'a> PlatformMessage<'a> {
    /// Parses and checks a whole frame from the platform.
    pub fn parse(frame: &'a [u8]) -> Result<Self, PcpError> {
        let packet = Packet::new_checked(frame)?;
        let d = frame.get(HEADER_LEN..).unwrap_or(&[]);
        Ok(match packet.message_code() {
            code::QUERY_VERSION => Self::QueryVersion,
            code::NEW_VERSION => Self::NewVersion(Task {
                version: version_at(d, 0)?,
                block_size: u16_at(d, 16)?,
                block_count: u16_at(d, 18)?,
                check_code: u16_at(d, 20)?,
            }),
            code::REQUEST_BLOCK => {
                let result = u8_at(d, 0)?;
                let block = if d.len() >= 3 { be16(d, 1) } else { 0 };
                Self::Block { result, block, data: d.get(3..).unwrap_or(&[]) }
            }
            code::DOWNLOAD_STATUS => Self::DownloadStatusAck { result: u8_at(d, 0)? },
            code::EXECUTE_UPGRADE => Self::ExecuteUpgrade,
            code::UPGRADE_RESULT => Self::UpgradeResultAck { result: u8_at(d, 0)? },
            other => return Err(PcpError::UnknownCode(other)),
        })
    }

    /// Writes the message as a frame into `out` (the platform side; for tests and mocks,
    /// feature `mock`).
    #[cfg(feature = "mock")]
    pub fn emit(&self, out: &mut [u8]) -> Result<usize, PcpError> {
        let mut data = [0u8; 22];
        match *self {
            Self::QueryVersion => emit(code::QUERY_VERSION, &[], out),
            Self::NewVersion(t) => {
                data[..16].copy_from_slice(&t.version);
                data[16..18].copy_from_slice(&t.block_size.to_be_bytes());
                data[18..20].copy_from_slice(&t.block_count.to_be_bytes());
                data[20..22].copy_from_slice(&t.check_code.to_be_bytes());
                emit(code::NEW_VERSION, &data, out)
            }
            Self::Block { result, block, data: bytes } => {
                let [b0, b1] = block.to_be_bytes();
                let total = bytes.len().checked_add(HEADER_LEN + 3).ok_or(PcpError::BufferTooSmall)?;
                let body = out.get_mut(HEADER_LEN..total).ok_or(PcpError::BufferTooSmall)?;
                let (head, rest) = body.split_at_mut_checked(3).ok_or(PcpError::BufferTooSmall)?;
                head.copy_from_slice(&[result, b0, b1]);
                rest.copy_from_slice(bytes);
                emit_in_place(code::REQUEST_BLOCK, total, out)
            }
            Self::DownloadStatusAck { result } => emit(code::DOWNLOAD_STATUS, &[result], out),
            Self::ExecuteUpgrade => emit(code::EXECUTE_UPGRADE, &[], out),
            Self::UpgradeResultAck { result } => emit(code::UPGRADE_RESULT, &[result], out),
        }
    }
}

/// Fills in the header of a frame whose data is already at `out[HEADER_LEN..total]`.
#[cfg(feature = "mock")]
fn emit_in_place(code: u8, total: usize, out: &mut [u8]) -> Result<usize, PcpError> {
    let data_len = u16::try_from(total.saturating_sub(HEADER_LEN)).map_err(|_| PcpError::BufferTooSmall)?;
    let frame = out.get_mut(..total).ok_or(PcpError::BufferTooSmall)?;
    let [s0, s1] = START.to_be_bytes();
    let [l0, l1] = data_len.to_be_bytes();
    frame
        .get_mut(..HEADER_LEN)
        .ok_or(PcpError::BufferTooSmall)?
        .copy_from_slice(&[s0, s1, VERSION, code, 0, 0, l0, l1]);
    let [c0, c1] = frame_check_code(frame).to_be_bytes();
    frame.get_mut(4..6).ok_or(PcpError::BufferTooSmall)?.copy_from_slice(&[c0, c1]);
    Ok(total)
}

/// A message from the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceMessage {
    /// 19: result and running version.
    Version {
        /// Result byte.
        result: u8,
        /// Running version field.
        version: [u8; VERSION_LEN],
    },
    /// 20: whether the device takes the new version.
    NewVersionAnswer {
        /// 0 ok, 1 busy, 2 weak signal, 3 latest, 4 low battery, 5 no space, 9 no memory, 0x7F internal.
        result: u8,
    },
    /// 21: ask for one block.
    RequestBlock {
        /// Target version field.
        version: [u8; VERSION_LEN],
        /// Block number, 0-based.
        block: u16,
    },
    /// 22: download status.
    DownloadStatus {
        /// 0 done, 5 no space, 6 timeout, 7 check failed, 8 unsupported.
        status: u8,
    },
    /// 23: answer to execute upgrade.
    ExecuteAnswer {
        /// Result byte.
        result: u8,
    },
    /// 24: upgrade result.
    UpgradeResult {
        /// 0 ok, 1 busy, 4 battery, 5 space, 9 memory, 0x0A install failed, 0x7F internal.
        result: u8,
        /// Version field now running.
        version: [u8; VERSION_LEN],
    },
}

/// Largest frame a [`DeviceMessage`] needs.
pub const MAX_DEVICE_FRAME: usize = HEADER_LEN + 1 + VERSION_LEN + 2;

impl DeviceMessage {
    /// Writes the message as a frame into `out` (at least [`MAX_DEVICE_FRAME`] bytes).
    ///
    /// ```
    /// use ota_client::platform::huawei_pcp::codec::DeviceMessage;
    /// let mut out = [0u8; 32];
    /// let n = DeviceMessage::DownloadStatus { status: 0 }.emit(&mut out).unwrap();
    /// assert_eq!(&out[..2], &[0xFF, 0xFE]);
    /// # #[cfg(feature = "mock")]
    /// assert_eq!(DeviceMessage::parse(&out[..n]), Ok(DeviceMessage::DownloadStatus { status: 0 }));
    /// ```
    pub fn emit(&self, out: &mut [u8]) -> Result<usize, PcpError> {
        let mut data = [0u8; 1 + VERSION_LEN];
        match *self {
            Self::Version { result, version } => {
                data[0] = result;
                data[1..].copy_from_slice(&version);
                emit(code::QUERY_VERSION, &data, out)
            }
            Self::NewVersionAnswer { result } => emit(code::NEW_VERSION, &[result], out),
            Self::RequestBlock { version, block } => {
                let mut d = [0u8; VERSION_LEN + 2];
                d[..VERSION_LEN].copy_from_slice(&version);
                d[VERSION_LEN..].copy_from_slice(&block.to_be_bytes());
                emit(code::REQUEST_BLOCK, &d, out)
            }
            Self::DownloadStatus { status } => emit(code::DOWNLOAD_STATUS, &[status], out),
            Self::ExecuteAnswer { result } => emit(code::EXECUTE_UPGRADE, &[result], out),
            Self::UpgradeResult { result, version } => {
                data[0] = result;
                data[1..].copy_from_slice(&version);
                emit(code::UPGRADE_RESULT, &data, out)
            }
        }
    }

    /// Parses and checks a whole frame from the device (the platform side; for tests and
    /// mocks, feature `mock`).
    #[cfg(feature = "mock")]
    pub fn parse(frame: &[u8]) -> Result<Self, PcpError> {
        let packet = Packet::new_checked(frame)?;
        let d = frame.get(HEADER_LEN..).unwrap_or(&[]);
        Ok(match packet.message_code() {
            code::QUERY_VERSION => Self::Version { result: u8_at(d, 0)?, version: version_at(d, 1)? },
            code::NEW_VERSION => Self::NewVersionAnswer { result: u8_at(d, 0)? },
            code::REQUEST_BLOCK => Self::RequestBlock { version: version_at(d, 0)?, block: u16_at(d, 16)? },
            code::DOWNLOAD_STATUS => Self::DownloadStatus { status: u8_at(d, 0)? },
            code::EXECUTE_UPGRADE => Self::ExecuteAnswer { result: u8_at(d, 0)? },
            code::UPGRADE_RESULT => Self::UpgradeResult { result: u8_at(d, 0)?, version: version_at(d, 1)? },
            other => return Err(PcpError::UnknownCode(other)),
        })
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "test code: a panic is a test failure"
)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn query_version_vector() {
        let frame = hex("FFFE01134C9A0000");
        let p = Packet::new_checked(&frame[..]).unwrap();
        assert_eq!(p.check_code(), 0x4C9A);
        assert_eq!(p.compute_check_code(), 0x4C9A);
        assert_eq!(PlatformMessage::parse(&frame), Ok(PlatformMessage::QueryVersion));
        let mut out = [0u8; 8];
        assert_eq!(PlatformMessage::QueryVersion.emit(&mut out), Ok(8));
        assert_eq!(&out[..], &frame[..]);
    }

    #[test]
    fn new_version_vector() {
        // As written in PROTOCOLS.md the vector carries 24 data bytes (two extra zero bytes
        // after the 16-byte version) while its length field says 22: refused as such.
        let as_written = hex("FFFE011402F7001656312E30000000000000000000000000000001F400011234");
        assert_eq!(PlatformMessage::parse(&as_written), Err(PcpError::LengthMismatch));
        // Without the two extra bytes it is a 30-byte frame whose check code is 0x02F7.
        let frame = hex("FFFE011402F7001656312E30000000000000000000000000" /* version[16] */);
        let frame = [frame, hex("01F400011234")].concat();
        let p = Packet::new_checked(&frame[..]).unwrap();
        assert_eq!(p.check_code(), 0x02F7);
        assert_eq!(p.compute_check_code(), 0x02F7);
        assert_eq!(p.data_len(), 22);
        // 0x1234 is the package's check code inside the data, not the frame's.
        let task = Task {
            version: version_field("V1.0").unwrap(),
            block_size: 500,
            block_count: 1,
            check_code: 0x1234,
        };
        assert_eq!(PlatformMessage::parse(&frame), Ok(PlatformMessage::NewVersion(task)));
        let mut out = [0u8; 64];
        let n = PlatformMessage::NewVersion(task).emit(&mut out).unwrap();
        assert_eq!(&out[..n], &frame[..]);
        assert_eq!(version_text(&task.version), "V1.0");
    }

    #[test]
    fn refuses_bad_frames() {
        let good = hex("FFFE01134C9A0000");
        let mut bad = good.clone();
        bad[5] ^= 1;
        assert_eq!(PlatformMessage::parse(&bad), Err(PcpError::CheckCode));
        assert_eq!(PlatformMessage::parse(&good[..7]), Err(PcpError::Truncated));
        let mut long = good.clone();
        long.push(0);
        assert_eq!(PlatformMessage::parse(&long), Err(PcpError::LengthMismatch));
        let mut claims_data = good.clone();
        claims_data[7] = 4;
        assert_eq!(PlatformMessage::parse(&claims_data), Err(PcpError::Truncated));
        let mut start = good.clone();
        start[1] = 0xFF;
        assert_eq!(PlatformMessage::parse(&start), Err(PcpError::BadStart));
        let mut out = [0u8; 16];
        let n = emit(30, &[], &mut out).unwrap();
        assert_eq!(PlatformMessage::parse(&out[..n]), Err(PcpError::UnknownCode(30)));
        let n = emit(code::NEW_VERSION, &[1, 2, 3], &mut out).unwrap();
        assert_eq!(PlatformMessage::parse(&out[..n]), Err(PcpError::BadData));
        assert_eq!(emit(19, &[0; 10], &mut out[..12]), Err(PcpError::BufferTooSmall));
    }

    #[test]
    fn device_messages_round_trip() {
        let v = version_field("2.0.1").unwrap();
        for m in [
            DeviceMessage::Version { result: 0, version: v },
            DeviceMessage::NewVersionAnswer { result: 5 },
            DeviceMessage::RequestBlock { version: v, block: 513 },
            DeviceMessage::DownloadStatus { status: 7 },
            DeviceMessage::ExecuteAnswer { result: 0 },
            DeviceMessage::UpgradeResult { result: 0x0A, version: v },
        ] {
            let mut out = [0u8; MAX_DEVICE_FRAME];
            let n = m.emit(&mut out).unwrap();
            assert_eq!(DeviceMessage::parse(&out[..n]), Ok(m));
        }
        let block = PlatformMessage::Block { result: 0, block: 7, data: &[1, 2, 3] };
        let mut out = [0u8; 32];
        let n = block.emit(&mut out).unwrap();
        assert_eq!(PlatformMessage::parse(&out[..n]), Ok(block));
        assert_eq!(version_field("12345678901234567"), None);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = PlatformMessage::parse(&bytes);
            let _ = DeviceMessage::parse(&bytes);
        }

        #[test]
        fn valid_header_arbitrary_data_never_panics(code in 0u8..40, data in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
            let mut out = [0u8; 64];
            let n = emit(code, &data, &mut out).unwrap();
            let _ = PlatformMessage::parse(&out[..n]);
            let _ = DeviceMessage::parse(&out[..n]);
        }
    }
}
