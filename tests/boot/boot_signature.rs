//! The bootloader's own signature check (`BootLoader::require_signature`): a staged image
//! boots on trial only if its signed-image trailer verifies against the bootloader's keys;
//! an unsigned, tampered or foreign-signed image is discarded and the running image boots on,
//! for both strategies.

use ota_client::Version;
use ota_client::boot::{BootControl, BootEvent, BootLoader, Layout, Phase, Strategy};
use ota_client::flash::{Journal, OneFlash, Partition};
use ota_client::image::TrustedKey;
use ota_client::image::{ImageInfo, Slot};
use ota_client::mock::{SimFlash, manifest, power_sweep, public_key, sign_image};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

use crate::support::slots;
use slots::write_image;

const E: u32 = 1024;
type Flash = SimFlash<4, 1024>;

const RELEASE_SECRET: [u8; 32] = [0x5A; 32];
const OTHER_SECRET: [u8; 32] = [0x33; 32];

/// The bootloader's trusted keys: id 1 is the release key.
static KEYS: LazyLock<[TrustedKey; 1]> =
    LazyLock::new(|| [TrustedKey { id: 1, public_key: public_key(&RELEASE_SECRET) }]);

/// The product id of the test device.
const PRODUCT: u32 = 0x0B0B;

/// `body` signed as 2.0.0 (counter 0) for [`PRODUCT`].
fn sign(body: &[u8], secret: &[u8; 32], key_id: u8) -> Vec<u8> {
    sign_image(body, &manifest("2.0.0", 0, PRODUCT), secret, key_id)
}

fn device(strategy: Strategy) -> (OneFlash<Flash>, BootControl, BootLoader) {
    let storage = OneFlash(Flash::new(19 * E as usize, 0xFF));
    let p = |o: u32, n: u32| Partition::new(&storage.0, o * E, n * E, 0xFF).unwrap();
    let layout = Layout::new::<OneFlash<Flash>>(p(0, 2), p(2, 8), p(10, 9), strategy).unwrap();
    let keys: &'static [TrustedKey] = &*KEYS;
    (storage, BootControl::new(layout), BootLoader::new(layout).require_signature(keys, PRODUCT))
}

fn info(bytes: &[u8]) -> ImageInfo {
    ImageInfo {
        size: bytes.len() as u32,
        sha256: Sha256::digest(bytes).into(),
        version: Version::parse("2.0.0").unwrap(),
        security_counter: 0,
    }
}

/// Stages `image` over a running 1.0 image and boots once: returns the boot event.
fn boot_staged(strategy: Strategy, image: &[u8]) -> (BootEvent, Slot, bool, Vec<u8>) {
    let (mut storage, boot, loader) = device(strategy);
    let mut journal = Journal::<8>::open(&mut storage.0, boot.layout().state()).unwrap();
    let old = vec![0x11u8; 3000];
    write_image(&boot, &mut storage, Slot::A, &old);
    write_image(&boot, &mut storage, Slot::B, image);
    boot.stage(&mut storage, &mut journal, info(image), 2).unwrap();
    let d = loader.prepare_boot(&mut storage, &mut journal, &mut |_| {}).unwrap();
    if d.event == BootEvent::StagedImageUnsigned {
        assert_eq!(boot.state(&mut storage, &journal).unwrap().phase, Phase::Idle);
        let a0 = boot.layout().slot(Slot::A).part.offset() as usize;
        assert_eq!(&storage.0.contents()[a0..a0 + old.len()], &old[..], "the running image is intact");
    }
    let running = boot.layout().slot(d.slot).part.offset() as usize;
    let head = storage.0.contents()[running..running + 16].to_vec();
    (d.event, d.slot, d.trial, head)
}

#[test]
fn a_signed_image_boots_on_trial() {
    let body: Vec<u8> = (0..2500u32).map(|i| (i * 7 % 251) as u8).collect();
    let image = sign(&body, &RELEASE_SECRET, 1);
    for strategy in [Strategy::Select, Strategy::Swap] {
        let (event, _, trial, head) = boot_staged(strategy, &image);
        assert_eq!((event, trial), (BootEvent::TrialStarted, true), "{strategy:?}");
        assert_eq!(&head[..], &image[..16], "{strategy:?}: the new image runs");
    }
}

#[test]
fn unsigned_tampered_or_foreign_images_are_discarded_at_boot() {
    let body: Vec<u8> = (0..2500u32).map(|i| (i * 13 % 253) as u8).collect();
    let signed = sign(&body, &RELEASE_SECRET, 1);
    let mut flipped_body = signed.clone();
    flipped_body[100] ^= 0x04;
    let mut flipped_signature = signed.clone();
    let last = flipped_signature.len() - 1;
    flipped_signature[last] ^= 0x80;
    let cases: [(&str, Vec<u8>); 8] = [
        (
            "signed for another product",
            sign_image(&body, &manifest("2.0.0", 0, PRODUCT + 1), &RELEASE_SECRET, 1),
        ),
        // What the application recorded (2.0.0, counter 0) is not what was signed.
        ("signed as another version", sign_image(&body, &manifest("2.0.1", 0, PRODUCT), &RELEASE_SECRET, 1)),
        (
            "signed with another counter",
            sign_image(&body, &manifest("2.0.0", 3, PRODUCT), &RELEASE_SECRET, 1),
        ),
        ("no trailer", body.clone()),
        ("a flipped bit in the body", flipped_body),
        ("a flipped bit in the signature", flipped_signature),
        ("signed by an untrusted key", sign(&body, &OTHER_SECRET, 1)),
        ("an unknown key id", sign(&body, &RELEASE_SECRET, 9)),
    ];
    for strategy in [Strategy::Select, Strategy::Swap] {
        for (what, image) in &cases {
            // The recorded SHA-256 matches what is on flash: only the signature can refuse it.
            let (event, slot, trial, head) = boot_staged(strategy, image);
            assert_eq!(
                (event, slot, trial),
                (BootEvent::StagedImageUnsigned, Slot::A, false),
                "{strategy:?}: {what}"
            );
            assert_eq!(head, vec![0x11u8; 16], "{strategy:?}: {what}: the old image runs");
        }
    }
}

#[test]
fn without_the_requirement_any_image_boots() {
    let body = vec![0x42u8; 2000];
    let (mut storage, boot, _) = device(Strategy::Select);
    let plain = BootControl::new(*boot.layout());
    let mut journal = Journal::<8>::open(&mut storage.0, boot.layout().state()).unwrap();
    write_image(&plain, &mut storage, Slot::B, &body);
    plain.stage(&mut storage, &mut journal, info(&body), 1).unwrap();
    let d = BootLoader::new(*plain.layout()).prepare_boot(&mut storage, &mut journal, &mut |_| {}).unwrap();
    assert_eq!((d.event, d.slot), (BootEvent::TrialStarted, Slot::B));
}

/// Power cut at every flash operation of: stage an unsigned image → reboot → `prepare_boot`
/// refuses it. After every cut and reboot the bootloader never runs the unsigned image, and
/// the device settles on the old image with nothing staged.
fn refusal_sweep<const W: usize>(erased: u8, strategy: Strategy) {
    let fresh = || {
        let flash = SimFlash::<W, 1024>::new(19 * E as usize, erased);
        let p = |o: u32, n: u32| Partition::new(&flash, o * E, n * E, erased).unwrap();
        let layout =
            Layout::new::<OneFlash<SimFlash<W, 1024>>>(p(0, 2), p(2, 8), p(10, 9), strategy).unwrap();
        let boot = (BootControl::new(layout), BootLoader::new(layout).require_signature(&*KEYS, PRODUCT));
        // The images are placed directly, not through flash operations, so the sweep cuts
        // only the staging and the refusal.
        let mut storage = OneFlash(flash);
        let (a0, b0) = (2 * E as usize, 10 * E as usize);
        storage.0.contents_mut()[a0..a0 + 3000].fill(0x11);
        storage.0.contents_mut()[b0..b0 + 2500].fill(0x22);
        (storage, boot)
    };
    let name = format!("boot refusal {strategy:?} W={W} erased={erased:#04x}");
    let report = power_sweep(
        &name,
        || fresh().0.0,
        |flash, _: &mut ()| {
            let (_, boot) = fresh();
            let mut storage = OneFlash(std::mem::replace(flash, SimFlash::new(1024, erased)));
            if let Ok(mut journal) = Journal::<8>::open(&mut storage.0, boot.0.layout().state())
                && boot.0.stage(&mut storage, &mut journal, info(&[0x22; 2500]), 2).is_ok()
                && let Ok(mut journal) = Journal::<8>::open(&mut storage.0, boot.0.layout().state())
            {
                let _ = boot.1.prepare_boot(&mut storage, &mut journal, &mut |_| {});
            }
            *flash = storage.0;
        },
        |flash, _| {
            let (_, boot) = fresh();
            let mut storage = OneFlash(flash.clone());
            let mut journal =
                Journal::<8>::open(&mut storage.0, boot.0.layout().state()).map_err(|e| format!("{e:?}"))?;
            for _ in 0..3 {
                let d = boot
                    .1
                    .prepare_boot(&mut storage, &mut journal, &mut |_| {})
                    .map_err(|e| format!("{e:?}"))?;
                if d.trial || d.slot != Slot::A {
                    return Err(format!("the unsigned image was booted: {d:?}"));
                }
            }
            let a0 = boot.0.layout().slot(Slot::A).part.offset() as usize;
            if storage.0.contents()[a0..a0 + 3000] != [0x11; 3000] {
                return Err("the old image was changed".into());
            }
            if boot.0.state(&mut storage, &journal).map_err(|e| format!("{e:?}"))?.phase != Phase::Idle {
                return Err("the device did not settle".into());
            }
            Ok(())
        },
    );
    println!("{}", report.summary());
    report.assert_clean();
}

#[test]
fn refusing_an_unsigned_image_is_power_safe() {
    for erased in [0xFF, 0x00] {
        for strategy in [Strategy::Select, Strategy::Swap] {
            refusal_sweep::<1>(erased, strategy);
            refusal_sweep::<4>(erased, strategy);
            refusal_sweep::<16>(erased, strategy);
        }
    }
}

#[test]
fn one_read_gives_the_body_and_whole_image_digests() {
    let (mut storage, boot, _) = device(Strategy::Select);
    let image: Vec<u8> = (0..1000u32).map(|i| (i * 37 % 255) as u8).collect();
    write_image(&boot, &mut storage, Slot::B, &image);
    let region = boot.layout().slot(Slot::B);
    for split in [0u32, 1, 255, 256, 257, 924, 999, 1000, 2000] {
        let (prefix, whole) = region.sha256_split(&mut storage, 1000, split).unwrap();
        let cut = (split as usize).min(image.len());
        assert_eq!(prefix, <[u8; 32]>::from(Sha256::digest(&image[..cut])), "split {split}");
        assert_eq!(whole, <[u8; 32]>::from(Sha256::digest(&image)), "split {split}");
    }
    assert_eq!(region.sha256(&mut storage, 1000).unwrap(), <[u8; 32]>::from(Sha256::digest(&image)));
}
