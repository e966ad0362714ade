//! The A/B lifecycle outside power cuts: bad input, anti-rollback, two flash devices,
//! requested rollbacks, the swap progress callback.

use ota_client::Version;
use ota_client::boot::{BootControl, BootError, BootEvent, BootLoader, Layout, LayoutError, Phase, Strategy};
use ota_client::flash::{Journal, OneFlash, Partition, TwoFlashes};
use ota_client::image::{ImageInfo, Slot};
use ota_client::mock::SimFlash;
use sha2::{Digest, Sha256};

use crate::support::slots;
use slots::write_image;

const E: u32 = 1024;
type Flash = SimFlash<4, 1024>;

/// State 2 sectors, A 8 sectors, B 9 sectors, on one chip.
fn one_chip(strategy: Strategy) -> (OneFlash<Flash>, BootControl) {
    let storage = OneFlash(Flash::new(19 * E as usize, 0xFF));
    let p = |o: u32, n: u32| Partition::new(&storage.0, o * E, n * E, 0xFF).unwrap();
    let layout = Layout::new::<OneFlash<Flash>>(p(0, 2), p(2, 8), p(10, 9), strategy).unwrap();
    (storage, BootControl::new(layout))
}

fn info(bytes: &[u8], version: &str, counter: u32) -> ImageInfo {
    ImageInfo {
        size: bytes.len() as u32,
        sha256: Sha256::digest(bytes).into(),
        version: Version::parse(version).unwrap(),
        security_counter: counter,
    }
}

fn open(storage: &mut OneFlash<Flash>, boot: &BootControl) -> Journal {
    Journal::open(&mut storage.0, boot.layout().state()).unwrap()
}

#[test]
fn layout_errors_are_clear() {
    let flash = Flash::new(40 * E as usize, 0xFF);
    let p = |o: u32, n: u32| Partition::new(&flash, o * E, n * E, 0xFF).unwrap();
    type S = OneFlash<Flash>;
    assert_eq!(Layout::new::<S>(p(0, 1), p(2, 8), p(10, 9), Strategy::Swap), Err(LayoutError::StateTooSmall));
    assert_eq!(Layout::new::<S>(p(0, 2), p(1, 8), p(10, 9), Strategy::Swap), Err(LayoutError::Overlap));
    assert_eq!(Layout::new::<S>(p(0, 2), p(2, 8), p(9, 9), Strategy::Swap), Err(LayoutError::Overlap));
    assert_eq!(Layout::new::<S>(p(0, 2), p(2, 8), p(10, 8), Strategy::Swap), Err(LayoutError::NoSparePage));
    assert!(Layout::new::<S>(p(0, 2), p(2, 8), p(10, 8), Strategy::Select).is_ok());
    // On two devices the slots may sit at the same offsets.
    assert!(Layout::new::<TwoFlashes<Flash, Flash>>(p(0, 2), p(2, 8), p(2, 9), Strategy::Swap).is_ok());
}

#[test]
fn staging_refuses_bad_images() {
    let (mut storage, boot) = one_chip(Strategy::Swap);
    let mut journal = open(&mut storage, &boot);
    let img = vec![1u8; 100];
    let too_big = ImageInfo { size: 8 * E + 1, ..info(&img, "1.0", 0) };
    assert_eq!(boot.stage(&mut storage, &mut journal, too_big, 1), Err(BootError::ImageTooLarge));
    let empty = ImageInfo { size: 0, ..info(&img, "1.0", 0) };
    assert_eq!(boot.stage(&mut storage, &mut journal, empty, 1), Err(BootError::ImageTooLarge));
    assert_eq!(
        boot.stage(&mut storage, &mut journal, info(&img, "1.0", 0), 0),
        Err(BootError::InvalidAttempts)
    );
    assert_eq!(boot.state(&mut storage, &journal).unwrap().phase, Phase::Idle);
}

#[test]
fn confirm_and_rollback_with_nothing_on_trial_are_no_ops() {
    let (mut storage, boot) = one_chip(Strategy::Select);
    let mut journal = open(&mut storage, &boot);
    assert_eq!(boot.confirm(&mut storage, &mut journal), Ok(false));
    assert_eq!(boot.request_rollback(&mut storage, &mut journal), Ok(false));
    let d = BootLoader::new(*boot.layout()).prepare_boot(&mut storage, &mut journal, &mut |_| {}).unwrap();
    assert_eq!((d.slot, d.trial, d.event), (Slot::A, false, BootEvent::Normal));
}

#[test]
fn digest_mismatch_at_boot_discards_the_staged_image() {
    for strategy in [Strategy::Select, Strategy::Swap] {
        let (mut storage, boot) = one_chip(strategy);
        let mut journal = open(&mut storage, &boot);
        let old = vec![0x11u8; 3000];
        write_image(&boot, &mut storage, Slot::A, &old);
        let new = vec![0x22u8; 2500];
        write_image(&boot, &mut storage, Slot::B, &new);
        boot.stage(&mut storage, &mut journal, info(&new, "2.0", 0), 1).unwrap();
        // Flip one bit of the staged image.
        let b0 = boot.layout().staging(Slot::B).part.offset() as usize;
        storage.0.contents_mut()[b0 + 1000] ^= 0x01;
        let d =
            BootLoader::new(*boot.layout()).prepare_boot(&mut storage, &mut journal, &mut |_| {}).unwrap();
        assert_eq!(
            (d.slot, d.trial, d.event),
            (Slot::A, false, BootEvent::StagedImageCorrupt),
            "{strategy:?}"
        );
        let a0 = boot.layout().slot(Slot::A).part.offset() as usize;
        assert_eq!(&storage.0.contents()[a0..a0 + 3000], &old[..], "old image intact");
    }
}

#[test]
fn anti_rollback_refuses_older_counters_after_confirm() {
    let (mut storage, boot) = one_chip(Strategy::Select);
    let mut journal = open(&mut storage, &boot);
    let v2 = vec![2u8; 1500];
    write_image(&boot, &mut storage, Slot::B, &v2);
    boot.stage(&mut storage, &mut journal, info(&v2, "2.0", 5), 1).unwrap();
    BootLoader::new(*boot.layout()).prepare_boot(&mut storage, &mut journal, &mut |_| {}).unwrap();
    assert!(boot.confirm(&mut storage, &mut journal).unwrap());
    assert_eq!(boot.state(&mut storage, &journal).unwrap().min_security_counter, 5);
    let v1 = vec![1u8; 1500];
    write_image(&boot, &mut storage, Slot::A, &v1);
    assert_eq!(
        boot.stage(&mut storage, &mut journal, info(&v1, "1.9", 4), 1),
        Err(BootError::SecurityCounter { minimum: 5, image: 4 })
    );
    // Equal counters are fine.
    boot.stage(&mut storage, &mut journal, info(&v1, "2.1", 5), 1).unwrap();
}

#[test]
fn requested_rollback_swaps_back_and_blocks_confirm() {
    let (mut storage, boot) = one_chip(Strategy::Swap);
    let mut journal = open(&mut storage, &boot);
    let old: Vec<u8> = (0..7000u32).map(|i| i as u8).collect();
    let new: Vec<u8> = (0..5000u32).map(|i| (i * 7) as u8).collect();
    write_image(&boot, &mut storage, Slot::A, &old);
    write_image(&boot, &mut storage, Slot::B, &new);
    boot.stage(&mut storage, &mut journal, info(&new, "2.0", 0), 3).unwrap();
    let mut calls = Vec::new();
    let d = BootLoader::new(*boot.layout())
        .prepare_boot(&mut storage, &mut journal, &mut |p| calls.push(p))
        .unwrap();
    assert_eq!((d.slot, d.trial, d.event), (Slot::A, true, BootEvent::TrialStarted));
    // 8 pages (whole slot: the factory image's size is unknown) → 16 steps, reported in order.
    assert_eq!(calls.len(), 16);
    assert!(calls.iter().enumerate().all(|(i, p)| p.done == i as u32 + 1 && p.total == 16));
    let a0 = boot.layout().slot(Slot::A).part.offset() as usize;
    assert_eq!(&storage.0.contents()[a0..a0 + 5000], &new[..]);
    assert!(boot.request_rollback(&mut storage, &mut journal).unwrap());
    assert_eq!(boot.confirm(&mut storage, &mut journal), Err(BootError::RollbackPending));
    let d = BootLoader::new(*boot.layout()).prepare_boot(&mut storage, &mut journal, &mut |_| {}).unwrap();
    assert_eq!((d.slot, d.trial, d.event), (Slot::A, false, BootEvent::RolledBack));
    assert_eq!(&storage.0.contents()[a0..a0 + 7000], &old[..]);
    let state = boot.state(&mut storage, &journal).unwrap();
    assert_eq!(state.last_rollback, Some(Version::parse("2.0").unwrap()));
}

#[test]
fn download_is_refused_while_an_image_is_on_trial() {
    let (mut storage, boot) = one_chip(Strategy::Select);
    let mut journal = open(&mut storage, &boot);
    let new = vec![9u8; 800];
    assert_eq!(boot.update_region(&mut storage, &mut journal).unwrap().slot, Slot::B);
    write_image(&boot, &mut storage, Slot::B, &new);
    boot.stage(&mut storage, &mut journal, info(&new, "2.0", 0), 2).unwrap();
    BootLoader::new(*boot.layout()).prepare_boot(&mut storage, &mut journal, &mut |_| {}).unwrap();
    // Slot A holds the rollback image: no download may touch it until the trial ends.
    assert_eq!(boot.update_region(&mut storage, &mut journal), Err(BootError::Busy));
    boot.confirm(&mut storage, &mut journal).unwrap();
    assert_eq!(boot.update_region(&mut storage, &mut journal).unwrap().slot, Slot::A);
}

#[test]
fn a_new_download_withdraws_a_staged_image() {
    let (mut storage, boot) = one_chip(Strategy::Swap);
    let mut journal = open(&mut storage, &boot);
    let new = vec![9u8; 800];
    write_image(&boot, &mut storage, Slot::B, &new);
    boot.stage(&mut storage, &mut journal, info(&new, "2.0", 0), 2).unwrap();
    boot.update_region(&mut storage, &mut journal).unwrap();
    assert_eq!(boot.state(&mut storage, &journal).unwrap().phase, Phase::Idle);
    let d = BootLoader::new(*boot.layout()).prepare_boot(&mut storage, &mut journal, &mut |_| {}).unwrap();
    assert_eq!(d.event, BootEvent::Normal);
}

#[test]
fn garbage_state_partition_boots_slot_a() {
    let (mut storage, boot) = one_chip(Strategy::Select);
    let state = boot.layout().state();
    let (s, n) = (state.offset() as usize, state.size() as usize);
    for (i, b) in storage.0.contents_mut()[s..s + n].iter_mut().enumerate() {
        *b = (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[2];
    }
    let mut journal = open(&mut storage, &boot);
    let d = BootLoader::new(*boot.layout()).prepare_boot(&mut storage, &mut journal, &mut |_| {}).unwrap();
    assert_eq!((d.slot, d.trial), (Slot::A, false));
    // The state is writable again afterwards.
    let new = vec![3u8; 100];
    write_image(&boot, &mut storage, Slot::B, &new);
    boot.stage(&mut storage, &mut journal, info(&new, "2.0", 0), 1).unwrap();
}

#[test]
fn swap_across_two_flash_devices() {
    // Internal flash with 2 KiB sectors and 8-byte writes; external SPI NOR with 4 KiB sectors.
    type Internal = SimFlash<8, 2048>;
    type External = SimFlash<1, 4096>;
    let mut storage =
        TwoFlashes { primary: Internal::new(20 * 2048, 0xFF), secondary: External::new(64 * 1024, 0xFF) };
    let state = Partition::new(&storage.primary, 0, 2 * 2048, 0xFF).unwrap();
    let a = Partition::new(&storage.primary, 2 * 2048, 16 * 2048, 0xFF).unwrap();
    let b = Partition::new(&storage.secondary, 0, 9 * 4096, 0xFF).unwrap();
    let layout = Layout::new::<TwoFlashes<Internal, External>>(state, a, b, Strategy::Swap).unwrap();
    assert_eq!(layout.page(), 4096);
    let boot = BootControl::new(layout);
    let mut journal: Journal = Journal::open(&mut storage.primary, state).unwrap();
    let old: Vec<u8> = (0..20_000u32).map(|i| (i * 3) as u8).collect();
    let new: Vec<u8> = (0..30_000u32).map(|i| (i * 5 + 1) as u8).collect();
    write_image(&boot, &mut storage, Slot::A, &old);
    let region = boot.update_region(&mut storage, &mut journal).unwrap();
    for s in 0..8 {
        region.erase_sector(&mut storage, s).unwrap();
    }
    region.write(&mut storage, 0, &new).unwrap();
    boot.stage(&mut storage, &mut journal, info(&new, "3.0", 0), 1).unwrap();
    let d = BootLoader::new(*boot.layout()).prepare_boot(&mut storage, &mut journal, &mut |_| {}).unwrap();
    assert_eq!((d.slot, d.trial), (Slot::A, true));
    let a0 = a.offset() as usize;
    assert_eq!(&storage.primary.contents()[a0..a0 + new.len()], &new[..]);
    // No confirmation: the next boot spends the last attempt... and rolls back.
    let d = BootLoader::new(*boot.layout()).prepare_boot(&mut storage, &mut journal, &mut |_| {}).unwrap();
    assert_eq!(d.event, BootEvent::RolledBack);
    assert_eq!(&storage.primary.contents()[a0..a0 + old.len()], &old[..]);
}
