//! [`BootState`]: what the bootloader and the application agree on, kept in the Journal
//! (kind [`BOOT_STATE`](crate::flash::kinds::BOOT_STATE)).
//!
//! Encoding (little-endian): format `2` | active slot | min security counter u32 | next swap
//! id u32 | optional active image | phase | optional last rolled-back version | optional
//! awaited update. An image is size u32 | SHA-256 (32) | security counter u32 | version
//! (length byte + text); an update is a version and a job id (length byte + text). Format `1`
//! (no awaited update) is still read, so a device updated from a build that wrote it keeps
//! its state.

#![deny(clippy::arithmetic_side_effects)]

use super::error::BootError;
use super::layout::{Layout, Strategy};
use crate::bytes::{ByteReader, ByteWriter};
use crate::flash::{Journal, Storage, kinds};
use crate::image::info::ImageInfo;
use crate::image::slot::Slot;
use crate::{UpdateId, Version};

const FORMAT: u8 = 2;
/// The format before [`BootState::awaiting`].
const FORMAT_1: u8 = 1;
/// Largest encoded boot state: 10 fixed bytes, two images of at most 73 bytes, 11 phase
/// bytes, a 34-byte rolled-back version and a 99-byte awaited update come to 301.
pub(crate) const MAX_ENCODED: usize = 320;

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
    /// The update whose outcome the platform has not acknowledged yet: set by the
    /// [`Agent`](crate::agent::Agent) in the same write that stages the image, so no power
    /// cut separates "staged" from "an outcome is owed", and cleared once the platform
    /// acknowledged the outcome. While it is set, the outcome follows from the phase alone
    /// ([`BootState::outcome`]). [`BootControl::stage`](super::BootControl::stage) keeps it
    /// as it is.
    pub awaiting: Option<UpdateId>,
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
            awaiting: None,
        }
    }
}

/// The outcome of an awaited update, as the boot state tells it ([`BootState::outcome`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Outcome {
    /// Not decided yet: staged, installing, or on trial without a rollback request.
    Pending,
    /// The awaited image is the confirmed one.
    Succeeded,
    /// The awaited image was rolled back, refused at boot, or withdrawn, or its rollback is
    /// requested.
    Failed,
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

    /// What became of the [`awaiting`](Self::awaiting) update, from the phase alone: `None`
    /// when no update is awaited.
    pub fn outcome(&self) -> Option<Outcome> {
        let awaiting = self.awaiting.as_ref()?;
        Some(match &self.phase {
            Phase::Staged { .. } | Phase::Installing { .. } => Outcome::Pending,
            Phase::Trial { revert_requested: false, .. } => Outcome::Pending,
            Phase::Trial { revert_requested: true, .. } | Phase::Reverting { .. } => Outcome::Failed,
            Phase::Idle => {
                if self.active_image.as_ref().is_some_and(|i| i.version.same_text(&awaiting.version)) {
                    Outcome::Succeeded
                } else {
                    Outcome::Failed
                }
            }
        })
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
        match &self.awaiting {
            None => w.u8(0)?,
            Some(u) => {
                w.u8(1)?;
                w.update(u)?;
            }
        }
        let n = w.len();
        buf.get(..n)
    }

    /// Decodes a record; `None` for anything that is not a well-formed boot state.
    pub(crate) fn decode(bytes: &[u8]) -> Option<Self> {
        let mut r = ByteReader::new(bytes);
        let format = r.u8()?;
        if format != FORMAT && format != FORMAT_1 {
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
        let awaiting = match (format, r.u8()) {
            (FORMAT_1, None) => None,
            (FORMAT, Some(0)) => None,
            (FORMAT, Some(1)) => Some(r.update()?),
            _ => return None,
        };
        r.is_done().then_some(Self {
            active,
            active_image,
            phase,
            min_security_counter,
            next_swap_id,
            last_rollback,
            awaiting,
        })
    }
}

/// Reads the boot state. A blank state partition, or one whose record cannot be decoded,
/// reads as [`BootState::default`]: slot A, idle.
pub(crate) fn load<S: Storage, const K: usize>(
    storage: &mut S,
    journal: &Journal<K>,
) -> Result<BootState, BootError> {
    let mut buf = [0u8; MAX_ENCODED];
    Ok(match journal.read(storage.primary(), kinds::BOOT_STATE, &mut buf) {
        Ok(Some(bytes)) => BootState::decode(bytes).unwrap_or_default(),
        Ok(None) | Err(crate::flash::JournalError::BufferTooSmall { .. }) => BootState::default(),
        Err(e) => return Err(e.into()),
    })
}

/// Writes the boot state: one Journal record, the commit point of every boot transition.
pub(crate) fn save<S: Storage, const K: usize>(
    storage: &mut S,
    journal: &mut Journal<K>,
    state: &BootState,
) -> Result<(), BootError> {
    let mut buf = [0u8; MAX_ENCODED];
    let bytes = state.encode(&mut buf).ok_or(BootError::StateFull)?;
    journal.write(storage.primary(), kinds::BOOT_STATE, bytes)?;
    Ok(())
}

/// The slot a download writes to: the inactive one under Select, B under Swap.
pub(crate) fn update_slot(layout: &Layout, state: &BootState) -> Slot {
    match layout.strategy() {
        Strategy::Select => state.active.other(),
        Strategy::Swap => Slot::B,
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
                awaiting: Some(UpdateId {
                    version: Version::parse("1.1.0-with-a-long-suffix-to-32").unwrap(),
                    job: crate::JobId::try_from("j".repeat(crate::offer::MAX_JOB_LEN).as_str()).unwrap(),
                }),
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

    #[test]
    fn reads_format_1() {
        let s = BootState { active: Slot::B, active_image: Some(image("1.0")), ..BootState::default() };
        let mut buf = [0u8; MAX_ENCODED];
        let mut bytes = s.encode(&mut buf).unwrap().to_vec();
        // Format 1 is format 2 without the awaited-update byte.
        assert_eq!(bytes.pop(), Some(0));
        bytes[0] = FORMAT_1;
        assert_eq!(BootState::decode(&bytes), Some(s));
        // A format-1 record that carries an awaited update is not format 1.
        bytes.push(0);
        assert_eq!(BootState::decode(&bytes), None);
    }

    #[test]
    fn outcome_follows_the_phase() {
        let awaited = UpdateId { version: Version::parse("1.1").unwrap(), job: crate::JobId::new() };
        let mut s = BootState { active_image: Some(image("1.0")), ..BootState::default() };
        assert_eq!(s.outcome(), None);
        s.awaiting = Some(awaited);
        let cases = [
            (Phase::Staged { image: image("1.1"), attempts: 1 }, Some(image("1.0")), Outcome::Pending),
            (
                Phase::Installing { image: image("1.1"), attempts: 1, pages: 1, swap_id: 0 },
                None,
                Outcome::Pending,
            ),
            (
                Phase::Trial { image: image("1.1"), attempts_left: 0, revert_requested: false, pages: 0 },
                None,
                Outcome::Pending,
            ),
            (
                Phase::Trial { image: image("1.1"), attempts_left: 0, revert_requested: true, pages: 0 },
                None,
                Outcome::Failed,
            ),
            (Phase::Reverting { image: image("1.1"), pages: 1, swap_id: 0 }, None, Outcome::Failed),
            (Phase::Idle, Some(image("1.1")), Outcome::Succeeded),
            (Phase::Idle, Some(image("1.0")), Outcome::Failed),
            (Phase::Idle, None, Outcome::Failed),
        ];
        for (phase, active_image, want) in cases {
            let s = BootState { phase: phase.clone(), active_image, ..s.clone() };
            assert_eq!(s.outcome(), Some(want), "{phase:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..300)) {
            let _ = BootState::decode(&bytes);
        }
    }
}
