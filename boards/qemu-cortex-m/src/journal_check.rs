//! The Journal on target: open a blank partition, append enough records to wrap the
//! 3-sector ring several times, remove a kind, "reboot" (drop everything and reopen from
//! flash), check the newest record of each kind, and keep writing after the reopen.

use cortex_m_semihosting::hprintln;
use ota_client::flash::{Journal, Partition};

use crate::report::{Abort, Checker};
use ota_board_qemu::board::{Flash, JOURNAL_TEST, SECTOR};

const APPENDS: u32 = 600;
const KIND_A: u8 = 32;
const KIND_B: u8 = 33;
const KIND_REMOVED: u8 = 34;
const KIND_TEXT: u8 = 35;
const TEXT: &[u8] = b"hello from a Cortex-M4";

/// Record `i`'s 24-byte payload.
fn payload(i: u32) -> [u8; 24] {
    let mut p = [0u8; 24];
    for (k, chunk) in p.chunks_exact_mut(4).enumerate() {
        chunk.copy_from_slice(&(i.wrapping_mul(2_654_435_761) ^ k as u32).to_le_bytes());
    }
    p
}

/// The kind record `i` goes to.
fn kind_of(i: u32) -> u8 {
    [KIND_A, KIND_B, KIND_REMOVED][(i % 3) as usize]
}

fn read_is(c: &mut Checker, flash: &mut Flash, j: &Journal, kind: u8, want: Option<&[u8]>, what: &str) {
    let mut buf = [0u8; 64];
    match j.read(flash, kind, &mut buf) {
        Ok(got) => {
            c.equal(got, want, what);
        }
        Err(e) => {
            c.check(false, what);
            hprintln!("       error: {:?}", e);
        }
    }
}

/// Runs the scenario on a blank chip (its own stack frame, for the stack figures).
#[inline(never)]
pub fn run(flash: &mut Flash, c: &mut Checker) -> Result<(), Abort> {
    hprintln!("journal: {} appends of 24-byte records on a 3 x 4 KiB ring", APPENDS);
    flash.erase_all();
    let (first, count) = JOURNAL_TEST;
    let part = c.must(Partition::new(flash, first * SECTOR, count * SECTOR, 0xFF), "journal partition")?;
    let mut j: Journal = c.must(Journal::open(flash, part), "open a blank partition")?;
    c.check(j.is_empty(), "a blank partition opens empty");
    let erases_before = flash.stats().erases;
    for i in 0..APPENDS {
        c.quiet(j.write(flash, kind_of(i), &payload(i)), "append")?;
    }
    c.must(j.remove(flash, KIND_REMOVED), "remove a kind")?;
    c.must(j.write(flash, KIND_TEXT, TEXT), "append a text record")?;
    let erases = flash.stats().erases - erases_before;
    hprintln!("journal: {} sector erases for {} appends", erases, APPENDS + 2);
    c.check(erases >= 3, "the ring wrapped (compactions happened)");
    let last = |kind: u8| (0..APPENDS).rev().find(|&i| kind_of(i) == kind).map(payload);

    // Reboot: nothing survives but the flash contents.
    drop(j);
    let mut j: Journal = c.must(Journal::open(flash, part), "reopen after reboot")?;
    read_is(c, flash, &j, KIND_A, last(KIND_A).as_ref().map(|p| &p[..]), "kind A holds its newest record");
    read_is(c, flash, &j, KIND_B, last(KIND_B).as_ref().map(|p| &p[..]), "kind B holds its newest record");
    read_is(c, flash, &j, KIND_REMOVED, None, "the removed kind stays removed");
    read_is(c, flash, &j, KIND_TEXT, Some(TEXT), "the text record survived");

    // Still writable after the reopen, across another wrap of the ring.
    for i in APPENDS..APPENDS + 200 {
        c.quiet(j.write(flash, KIND_A, &payload(i)), "append after reopen")?;
    }
    drop(j);
    let j: Journal = c.must(Journal::open(flash, part), "reopen again")?;
    let newest = payload(APPENDS + 199);
    read_is(c, flash, &j, KIND_A, Some(&newest[..]), "appends after the reopen persisted");
    read_is(c, flash, &j, KIND_TEXT, Some(TEXT), "older kinds survived the compactions");
    Ok(())
}
