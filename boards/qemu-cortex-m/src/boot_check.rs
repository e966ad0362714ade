//! The A/B lifecycle on target, for both strategies: a factory image, an update that is
//! staged, installed at the next reset, run on trial and confirmed, and a second update that
//! is rolled back. Every reset drops the Journal and the manager and rebuilds them from flash;
//! slot contents are checked by SHA-256 against the images' generator.

use cortex_m_semihosting::hprintln;
use ota_client::boot::{BootControl, BootDecision, BootError, BootEvent, BootLoader, Layout, Strategy};
use ota_client::flash::{Journal, OneFlash, Partition, PartitionError};
use ota_client::image::Slot;

use crate::image::TestImage;
use crate::report::{Abort, Checker};
use ota_board_qemu::board::{Flash, SECTOR, SLOT_A, SLOT_B, STATE};

type Storage = OneFlash<Flash>;

const FACTORY: TestImage = TestImage { seed: 1, size: 40_000, version: "1.0.0", security_counter: 1 };
const UPDATE: TestImage = TestImage { seed: 2, size: 60_000, version: "2.0.0", security_counter: 2 };
const BAD_UPDATE: TestImage = TestImage { seed: 3, size: 45_001, version: "3.0.0", security_counter: 3 };

fn part(flash: &Flash, (first, count): (u32, u32)) -> Result<Partition, PartitionError> {
    Partition::new(flash, first * SECTOR, count * SECTOR, 0xFF)
}

fn layout(c: &mut Checker, storage: &Storage, strategy: Strategy) -> Result<Layout, Abort> {
    let parts = (|| {
        Ok::<_, PartitionError>((
            part(&storage.0, STATE)?,
            part(&storage.0, SLOT_A)?,
            part(&storage.0, SLOT_B)?,
        ))
    })();
    let (state, a, b) = c.must(parts, "partitions")?;
    c.must(Layout::new::<Storage>(state, a, b, strategy), "layout")
}

/// A reset: fresh library objects over the same flash, then the bootloader's decision.
fn reset(
    c: &mut Checker,
    storage: &mut Storage,
    layout: Layout,
) -> Result<(BootControl, Journal, BootDecision), Abort> {
    let mut journal: Journal =
        c.quiet(Journal::open(&mut storage.0, layout.state()), "open the state journal")?;
    let boot = BootControl::new(layout);
    let (mut steps, mut last) = (0u32, None);
    let decision = c.quiet(
        BootLoader::new(*boot.layout()).prepare_boot(storage, &mut journal, &mut |p| {
            steps += 1;
            last = Some(p);
        }),
        "prepare_boot",
    )?;
    hprintln!("  reset -> {:?} (swap steps reported: {})", decision, steps);
    if let Some(p) = last {
        c.check(p.done == p.total && steps == p.total, "the swap ran every step");
    }
    Ok((boot, journal, decision))
}

fn expect_boot(c: &mut Checker, d: BootDecision, slot: Slot, trial: bool, event: BootEvent, what: &str) {
    c.equal((d.slot, d.trial, d.event), (slot, trial, event), what);
}

fn slot_holds(
    c: &mut Checker,
    storage: &mut Storage,
    layout: &Layout,
    slot: Slot,
    image: &TestImage,
    what: &str,
) {
    match layout.slot(slot).sha256(storage, image.size) {
        Ok(h) => {
            c.check(h == image.sha256(), what);
        }
        Err(e) => {
            c.check(false, what);
            hprintln!("       error: {:?}", e);
        }
    }
}

/// Downloads `image` into the update slot the manager hands out, checks it and stages it.
fn download_and_stage(
    c: &mut Checker,
    storage: &mut Storage,
    boot: &BootControl,
    journal: &mut Journal,
    image: &TestImage,
    expected_slot: Slot,
    attempts: u8,
) -> Result<(), Abort> {
    let region = c.must(boot.update_region(storage, journal), "update region")?;
    c.equal(region.slot, expected_slot, "the update goes to the inactive slot");
    c.must(image.write_to(storage, &region), "download the image into it")?;
    let sha = c.must(region.sha256(storage, image.size), "hash the downloaded image")?;
    c.check(sha == image.sha256(), "downloaded image matches its SHA-256");
    c.must(boot.stage(storage, journal, image.info(), attempts), "stage it")
}

/// Checks the confirmed image's version and the minimum security counter in the boot state.
fn confirmed_is(
    c: &mut Checker,
    storage: &mut Storage,
    boot: &BootControl,
    journal: &Journal,
    version: &str,
    counter: u32,
    what: &str,
) -> Result<(), Abort> {
    let state = c.quiet(boot.state(storage, journal), "read the boot state")?;
    let active = state.active_image.as_ref().map(|i| i.version.as_str());
    c.equal((active, state.min_security_counter), (Some(version), counter), what);
    Ok(())
}

/// `Swap`: one execution address; the bootloader exchanges the slots.
#[inline(never)]
pub fn run_swap(storage: &mut Storage, c: &mut Checker) -> Result<(), Abort> {
    hprintln!("boot (Swap): factory 1.0.0 -> 2.0.0 confirmed -> 3.0.0 rolled back");
    storage.0.erase_all();
    let layout = layout(c, storage, Strategy::Swap)?;
    c.must(FACTORY.write_to(storage, &layout.slot(Slot::A)), "factory image programmed into slot A")?;

    let (boot, mut journal, d) = reset(c, storage, layout)?;
    expect_boot(c, d, Slot::A, false, BootEvent::Normal, "first boot runs the factory image");
    download_and_stage(c, storage, &boot, &mut journal, &UPDATE, Slot::B, 2)?;

    let stats = storage.0.stats();
    let (boot, mut journal, d) = reset(c, storage, layout)?;
    let swap = storage.0.stats();
    hprintln!(
        "  swap: {} sector erases, {} bytes programmed",
        swap.erases - stats.erases,
        swap.bytes_written - stats.bytes_written
    );
    expect_boot(c, d, Slot::A, true, BootEvent::TrialStarted, "the update boots on trial");
    slot_holds(c, storage, &layout, Slot::A, &UPDATE, "slot A holds 2.0.0 after the swap");
    slot_holds(c, storage, &layout, Slot::B, &FACTORY, "slot B holds 1.0.0 (the rollback image)");
    c.equal(boot.confirm(storage, &mut journal), Ok(true), "the application confirms 2.0.0");
    confirmed_is(c, storage, &boot, &journal, "2.0.0", 2, "confirmed 2.0.0, minimum counter 2")?;

    let (boot, mut journal, d) = reset(c, storage, layout)?;
    expect_boot(c, d, Slot::A, false, BootEvent::Normal, "2.0.0 boots as the confirmed image");
    slot_holds(c, storage, &layout, Slot::A, &UPDATE, "slot A still holds 2.0.0");
    c.equal(
        boot.stage(storage, &mut journal, FACTORY.info(), 1),
        Err(BootError::SecurityCounter { minimum: 2, image: 1 }),
        "anti-rollback refuses the older counter",
    );

    download_and_stage(c, storage, &boot, &mut journal, &BAD_UPDATE, Slot::B, 1)?;
    let (_, _, d) = reset(c, storage, layout)?;
    expect_boot(c, d, Slot::A, true, BootEvent::TrialStarted, "3.0.0 boots on trial");
    slot_holds(c, storage, &layout, Slot::A, &BAD_UPDATE, "slot A holds 3.0.0");

    // 3.0.0 fails its self-test and never confirms: its one attempt is spent.
    let (boot, journal, d) = reset(c, storage, layout)?;
    expect_boot(c, d, Slot::A, false, BootEvent::RolledBack, "the next reset rolls back");
    slot_holds(c, storage, &layout, Slot::A, &UPDATE, "slot A holds 2.0.0 again");
    confirmed_is(c, storage, &boot, &journal, "2.0.0", 2, "2.0.0 is the confirmed image")?;
    let state = c.quiet(boot.state(storage, &journal), "read the boot state")?;
    c.check(
        state.last_rollback.as_ref().map(|v| v.as_str()) == Some("3.0.0"),
        "the state remembers 3.0.0 was rolled back",
    );

    let (_, _, d) = reset(c, storage, layout)?;
    expect_boot(c, d, Slot::A, false, BootEvent::Normal, "later resets boot 2.0.0 normally");
    Ok(())
}

/// `Select`: A/B execute-in-place; the bootloader picks the slot, nothing is copied.
#[inline(never)]
pub fn run_select(storage: &mut Storage, c: &mut Checker) -> Result<(), Abort> {
    hprintln!("boot (Select): factory 1.0.0 in A -> 2.0.0 in B confirmed -> 3.0.0 in A rolled back");
    storage.0.erase_all();
    let layout = layout(c, storage, Strategy::Select)?;
    c.must(FACTORY.write_to(storage, &layout.slot(Slot::A)), "factory image programmed into slot A")?;

    let (boot, mut journal, d) = reset(c, storage, layout)?;
    expect_boot(c, d, Slot::A, false, BootEvent::Normal, "first boot runs slot A");
    download_and_stage(c, storage, &boot, &mut journal, &UPDATE, Slot::B, 1)?;

    let (boot, mut journal, d) = reset(c, storage, layout)?;
    expect_boot(c, d, Slot::B, true, BootEvent::TrialStarted, "slot B boots on trial");
    slot_holds(c, storage, &layout, Slot::B, &UPDATE, "slot B holds 2.0.0");
    slot_holds(c, storage, &layout, Slot::A, &FACTORY, "slot A still holds 1.0.0");
    c.equal(boot.confirm(storage, &mut journal), Ok(true), "the application confirms 2.0.0");

    let (boot, mut journal, d) = reset(c, storage, layout)?;
    expect_boot(c, d, Slot::B, false, BootEvent::Normal, "slot B is the confirmed slot");
    download_and_stage(c, storage, &boot, &mut journal, &BAD_UPDATE, Slot::A, 3)?;

    let (boot, mut journal, d) = reset(c, storage, layout)?;
    expect_boot(c, d, Slot::A, true, BootEvent::TrialStarted, "3.0.0 in slot A boots on trial");
    c.equal(boot.request_rollback(storage, &mut journal), Ok(true), "the application asks for a rollback");
    c.equal(
        boot.confirm(storage, &mut journal),
        Err(BootError::RollbackPending),
        "and can no longer confirm",
    );

    let (boot, journal, d) = reset(c, storage, layout)?;
    expect_boot(c, d, Slot::B, false, BootEvent::RolledBack, "the next reset runs slot B again");
    slot_holds(c, storage, &layout, Slot::B, &UPDATE, "slot B still holds 2.0.0");
    confirmed_is(c, storage, &boot, &journal, "2.0.0", 2, "2.0.0 is the confirmed image")?;
    Ok(())
}
