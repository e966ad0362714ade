//! [`BootState`]: what the bootloader and the application agree on, kept in the Journal
//! (kind [`BOOT_STATE`](crate::flash::kinds::BOOT_STATE)).
//!
//! Encoding (little-endian): format `1` | active slot | min security counter u32 | next swap
//! id u32 | optional active image | phase | optional last rolled-back version. An image is
//! size u32 | SHA-256 (32) | security counter u32 | version (length byte + text).

#![deny(clippy::arithmetic_side_effects)]

use super::image::ImageInfo;
use super::slot::Slot;
use crate::Version;
use crate::bytes::{ByteReader, ByteWriter};

const FORMAT: u8 = 1;
/// Largest encoded boot state.
pub(crate) const MAX_ENCODED: usize = 256;

/// Where the update lifecycle stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Running the confirmed image; nothing pending.
    Idle,
    /// A verified image waits in the update slot for the next boot.
    Staged {
        /// The image.
        image: ImageInfo,
        /// Boots it gets without confirmation before it is rolled back (at least 1).
        attempts: u8,
    },
    /// [`Strategy::Swap`](super::Strategy::Swap): the bootloader is moving the staged image
    /// into the primary slot.
    Installing {
        /// The image being installed.
        image: ImageInfo,
        /// Boots it will get.
        attempts: u8,
        /// Swap pages involved.
        pages: u32,
        /// Identifies this swap's progress records.
        swap_id: u32,
    },
    /// The new image runs on trial and must be confirmed.
    Trial {
        /// The image on trial.
        image: ImageInfo,
        /// Boots left before a rollback.
        attempts_left: u8,
        /// The application asked for a rollback; the next boot performs it.
        revert_requested: bool,
        /// Swap pages to exchange back on a rollback (0 for Select).
        pages: u32,
    },
    /// [`Strategy::Swap`](super::Strategy::Swap): the bootloader is exchanging the slots back.
    Reverting {
        /// The image that failed its trial.
        image: ImageInfo,
        /// Swap pages involved.
        pages: u32,
        /// Identifies this swap's progress records.
        swap_id: u32,
    },
}

/// The persistent boot state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootState {
    /// The slot holding the confirmed image (always A under Swap).
    pub active: Slot,
    /// The confirmed image, when known (`None` for a factory image flashed without state).
    pub active_image: Option<ImageInfo>,
    /// Where the lifecycle stands.
    pub phase: Phase,
    /// Images with a lower security counter are refused.
    pub min_security_counter: u32,
    /// The id the next swap's progress records will carry.
    pub next_swap_id: u32,
    /// The version of the last image rolled back, until the next image is staged.
    pub last_rollback: Option<Version>,
}

impl Default for BootState {
    /// A blank device: slot A, unknown image, idle.
    fn default() -> Self {
        Self {
            active: Slot::A,
            active_image: None,
            phase: Phase::Idle,
            min_security_counter: 0,
            next_swap_id: 0,
            last_rollback: None,
        }
    }
}

fn put_image(w: &mut ByteWriter<'_>, i: &ImageInfo) -> Option<()> {
    w.u32(i.size)?;
    w.bytes(&i.sha256)?;
    w.u32(i.security_counter)?;
    w.version(&i.version)
}

fn get_image(r: &mut ByteReader<'_>) -> Option<ImageInfo> {
    Some(ImageInfo { size: r.u32()?, sha256: r.array()?, security_counter: r.u32()?, version: r.version()? })
}

impl BootState {
    /// The slot that runs on the next boot if nothing changes.
    pub fn running_slot(&self, strategy: super::Strategy) -> Slot {
        match (&self.phase, strategy) {
            (Phase::Trial { .. }, super::Strategy::Select) => self.active.other(),
            _ => self.active,
        }
    }

    /// True while an image runs on trial (the application should self-test and confirm).
    pub fn is_trial(&self) -> bool {
        matches!(self.phase, Phase::Trial { .. })
    }

    pub(crate) fn encode<'b>(&self, buf: &'b mut [u8; MAX_ENCODED]) -> Option<&'b [u8]> {
        let mut w = ByteWriter::new(buf);
        w.u8(FORMAT)?;
        w.u8(self.active.index())?;
        w.u32(self.min_security_counter)?;
        w.u32(self.next_swap_id)?;
        match &self.active_image {
            None => w.u8(0)?,
            Some(i) => {
                w.u8(1)?;
                put_image(&mut w, i)?;
            }
        }
        match &self.phase {
            Phase::Idle => w.u8(0)?,
            Phase::Staged { image, attempts } => {
                w.u8(1)?;
                put_image(&mut w, image)?;
                w.u8(*attempts)?;
            }
            Phase::Installing { image, attempts, pages, swap_id } => {
                w.u8(2)?;
                put_image(&mut w, image)?;
                w.u8(*attempts)?;
                w.u32(*pages)?;
                w.u32(*swap_id)?;
            }
            Phase::Trial { image, attempts_left, revert_requested, pages } => {
                w.u8(3)?;
                put_image(&mut w, image)?;
                w.u8(*attempts_left)?;
                w.u8(u8::from(*revert_requested))?;
                w.u32(*pages)?;
            }
            Phase::Reverting { image, pages, swap_id } => {
                w.u8(4)?;
                put_image(&mut w, image)?;
                w.u32(*pages)?;
                w.u32(*swap_id)?;
            }
        }
        match &self.last_rollback {
            None => w.u8(0)?,
            Some(v) => {
                w.u8(1)?;
                w.version(v)?;
            }
        }
        let n = w.len();
        buf.get(..n)
    }

    /// Decodes a record; `None` for anything that is not a well-formed boot state.
    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        let mut r = ByteReader::new(bytes);
        if r.u8()? != FORMAT {
            return None;
        }
        let active = Slot::from_index(r.u8()?)?;
        let min_security_counter = r.u32()?;
        let next_swap_id = r.u32()?;
        let active_image = match r.u8()? {
            0 => None,
            1 => Some(get_image(&mut r)?),
            _ => return None,
        };
        let phase = match r.u8()? {
            0 => Phase::Idle,
            1 => Phase::Staged { image: get_image(&mut r)?, attempts: r.u8()? },
            2 => Phase::Installing {
                image: get_image(&mut r)?,
                attempts: r.u8()?,
                pages: r.u32()?,
                swap_id: r.u32()?,
            },
            3 => Phase::Trial {
                image: get_image(&mut r)?,
                attempts_left: r.u8()?,
                revert_requested: match r.u8()? {
                    0 => false,
                    1 => true,
                    _ => return None,
                },
                pages: r.u32()?,
            },
            4 => Phase::Reverting { image: get_image(&mut r)?, pages: r.u32()?, swap_id: r.u32()? },
            _ => return None,
        };
        let last_rollback = match r.u8()? {
            0 => None,
            1 => Some(r.version()?),
            _ => return None,
        };
        r.is_done().then_some(Self {
            active,
            active_image,
            phase,
            min_security_counter,
            next_swap_id,
            last_rollback,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(v: &str) -> ImageInfo {
        ImageInfo { size: 1234, sha256: [7; 32], version: Version::parse(v).unwrap(), security_counter: 3 }
    }

    #[test]
    fn round_trips_every_phase() {
        let phases = [
            Phase::Idle,
            Phase::Staged { image: image("1.1"), attempts: 3 },
            Phase::Installing { image: image("1.1"), attempts: 3, pages: 9, swap_id: 4 },
            Phase::Trial { image: image("v1.1.0.7"), attempts_left: 2, revert_requested: true, pages: 9 },
            Phase::Reverting { image: image("1.1"), pages: 9, swap_id: 5 },
        ];
        for phase in phases {
            let s = BootState {
                active: Slot::B,
                active_image: Some(image("1.0.0-with-a-long-suffix-to-32b")),
                phase,
                min_security_counter: 9,
                next_swap_id: 77,
                last_rollback: Some(Version::parse("0.9").unwrap()),
            };
            let mut buf = [0u8; MAX_ENCODED];
            let bytes = s.encode(&mut buf).unwrap().to_vec();
            assert_eq!(BootState::decode(&bytes), Some(s.clone()));
            // Every strict prefix and a trailing byte are refused.
            for n in 0..bytes.len() {
                assert_eq!(BootState::decode(&bytes[..n]), None);
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert_eq!(BootState::decode(&longer), None);
        }
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..300)) {
            let _ = BootState::decode(&bytes);
        }
    }
}
