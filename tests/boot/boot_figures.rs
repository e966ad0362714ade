//! Write amplification of an update, per strategy and image size, on a realistic geometry
//! (4 KiB sectors, 4-byte writes, 256 KiB slots): erases per slot sector, bytes programmed
//! against the image size, and erases of the state partition. Counted over ten updates after
//! a first one (which, with no recorded size for the factory image, swaps the whole slot).
//! Run with `--nocapture` to see the table that docs/boot.md quotes.

use ota_client::Version;
use ota_client::boot::{BootControl, BootLoader, Layout, Strategy};
use ota_client::flash::{Journal, OneFlash, Partition};
use ota_client::image::ImageInfo;
use ota_client::mock::SimFlash;
use sha2::{Digest, Sha256};

const E: u32 = 4096;
const SLOT: u32 = 64; // sectors
type Flash = SimFlash<4, 4096>;

struct Figures {
    slot_erases_max: u32,
    slot_erases_per_update: f64,
    programmed_per_byte: f64,
    state_erases_per_update: f64,
}

fn measure(strategy: Strategy, image_len: u32) -> Figures {
    let sectors = 2 + SLOT + SLOT + 1;
    let mut storage = OneFlash(Flash::new((sectors * E) as usize, 0xFF));
    let p = |o: u32, n: u32| Partition::new(&storage.0, o * E, n * E, 0xFF).unwrap();
    let (state, a, b) = (p(0, 2), p(2, SLOT), p(2 + SLOT, SLOT + 1));
    let layout = Layout::new::<OneFlash<Flash>>(state, a, b, strategy).unwrap();
    let boot = BootControl::new(layout);
    let mut journal: Journal = Journal::open(&mut storage.0, state).unwrap();
    let updates = 11;
    for u in 0..updates {
        if u == 1 {
            storage.0.reset_stats();
        }
        let image: Vec<u8> =
            (0..image_len).map(|i| (i ^ (u * 77)).wrapping_mul(2_654_435_761).to_le_bytes()[3]).collect();
        // The download: erase each sector on first touch, program the image.
        let region = boot.update_region(&mut storage, &mut journal).unwrap();
        for s in 0..image_len.div_ceil(E) {
            region.erase_sector(&mut storage, s).unwrap();
        }
        region.write(&mut storage, 0, &image).unwrap();
        let info = ImageInfo {
            size: image_len,
            sha256: Sha256::digest(&image).into(),
            version: Version::parse(&format!("1.{u}")).unwrap(),
            security_counter: 0,
        };
        boot.stage(&mut storage, &mut journal, info, 1).unwrap();
        let d =
            BootLoader::new(*boot.layout()).prepare_boot(&mut storage, &mut journal, &mut |_| {}).unwrap();
        assert!(d.trial);
        let base = layout.slot(d.slot).part.offset() as usize;
        assert_eq!(&storage.0.contents()[base..base + image_len as usize], &image[..]);
        assert!(boot.confirm(&mut storage, &mut journal).unwrap());
    }
    let n = f64::from(updates - 1);
    let stats = storage.0.stats();
    let slot_sectors = &stats.erases[2..];
    let state_erases = stats.erases_in(0, 2 * E, E) as f64;
    Figures {
        slot_erases_max: *slot_sectors.iter().max().unwrap(),
        slot_erases_per_update: slot_sectors.iter().map(|&x| f64::from(x)).sum::<f64>() / n,
        programmed_per_byte: stats.bytes_programmed as f64 / n / f64::from(image_len),
        state_erases_per_update: state_erases / n,
    }
}

#[test]
fn write_amplification_per_update() {
    println!(
        "| strategy | image | slot erases / update | max erases of one sector (10 updates) | bytes programmed / image byte | state erases / update |"
    );
    println!("|---|---|---|---|---|---|");
    for strategy in [Strategy::Select, Strategy::Swap] {
        for kib in [64u32, 256] {
            let len = kib * 1024;
            let f = measure(strategy, len);
            println!(
                "| {strategy:?} | {kib} KiB | {:.1} | {} | {:.2} | {:.2} |",
                f.slot_erases_per_update, f.slot_erases_max, f.programmed_per_byte, f.state_erases_per_update
            );
            let pages = f64::from(len.div_ceil(E));
            match strategy {
                // Select writes the image once: one erase per image sector.
                Strategy::Select => {
                    assert!((f.slot_erases_per_update - pages).abs() < 0.01);
                    assert!(f.programmed_per_byte < 1.01);
                }
                // Swap: the download (1 erase per page) plus 3 copies per page.
                Strategy::Swap => {
                    assert!(f.slot_erases_per_update <= 4.0 * pages + 1.0);
                    assert!(f.programmed_per_byte < 4.05);
                }
            }
            assert!(f.state_erases_per_update <= 2.0, "state partition wears too fast");
        }
    }
}
