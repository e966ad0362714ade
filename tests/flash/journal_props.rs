//! Property tests of the Journal: random workloads against a model, and arbitrary (garbage)
//! flash contents, which must open as "no state" or a valid state, never panic or loop.

use ota_client::flash::{Journal, JournalError, Partition};
use ota_client::mock::SimFlash;
use proptest::prelude::*;
use std::collections::BTreeMap;

const SECTOR: usize = 256;

#[derive(Debug, Clone)]
enum Op {
    Write(u8, Vec<u8>),
    Remove(u8),
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..5, proptest::collection::vec(any::<u8>(), 0..48)).prop_map(|(k, v)| Op::Write(k, v)),
        1 => (0u8..5).prop_map(Op::Remove),
        1 => Just(Op::Reopen),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_workload_matches_model(ops in proptest::collection::vec(op(), 1..120), sectors in 2usize..5) {
        let mut flash = SimFlash::<4, SECTOR>::new(SECTOR * sectors, 0xFF);
        let part = Partition::new(&flash, 0, (SECTOR * sectors) as u32, 0xFF).unwrap();
        let mut journal: Journal = Journal::open(&mut flash, part).unwrap();
        let mut model: BTreeMap<u8, Vec<u8>> = BTreeMap::new();
        for op in ops {
            match op {
                Op::Write(k, v) => match journal.write(&mut flash, k, &v) {
                    Ok(()) => { if v.is_empty() { model.remove(&k); } else { model.insert(k, v); } }
                    // Five kinds of up to 48 bytes may not fit one 256-byte sector: refused, nothing lost.
                    Err(JournalError::Full) => {}
                    Err(e) => prop_assert!(false, "write failed: {:?}", e),
                },
                Op::Remove(k) => { journal.remove(&mut flash, k).unwrap(); model.remove(&k); }
                Op::Reopen => journal = Journal::open(&mut flash, part).unwrap(),
            }
            let mut buf = [0u8; 64];
            for k in 0..5u8 {
                let got = journal.read(&mut flash, k, &mut buf).unwrap().map(<[u8]>::to_vec);
                prop_assert_eq!(got, model.get(&k).cloned());
            }
        }
        // Wear is spread over the ring: no sector is erased much more than the others.
        let stats = flash.stats();
        prop_assert!(stats.max_erases() <= 1 + stats.total_erases() as u32 / sectors as u32);
    }

    #[test]
    fn garbage_flash_opens_and_recovers(contents in proptest::collection::vec(any::<u8>(), SECTOR * 2), erased in prop_oneof![Just(0xFFu8), Just(0u8)]) {
        let mut flash = SimFlash::<1, SECTOR>::from_contents(&contents, erased);
        let part = Partition::new(&flash, 0, (SECTOR * 2) as u32, erased).unwrap();
        let mut journal: Journal = Journal::open(&mut flash, part).unwrap();
        let mut buf = [0u8; 300];
        for k in 0..=255u8 {
            let _ = journal.read(&mut flash, k, &mut buf);
        }
        // Whatever it held, the journal takes new records and keeps them across a reopen.
        journal.write(&mut flash, 7, b"fresh").unwrap();
        let journal: Journal = Journal::open(&mut flash, part).unwrap();
        prop_assert_eq!(journal.read(&mut flash, 7, &mut buf).unwrap(), Some(&b"fresh"[..]));
    }

    #[test]
    fn garbage_after_valid_records_keeps_them(junk in proptest::collection::vec(any::<u8>(), 1..64), at in 0usize..64) {
        let mut flash = SimFlash::<1, SECTOR>::new(SECTOR * 2, 0xFF);
        let part = Partition::new(&flash, 0, (SECTOR * 2) as u32, 0xFF).unwrap();
        let mut journal: Journal = Journal::open(&mut flash, part).unwrap();
        journal.write(&mut flash, 1, b"keep me").unwrap();
        // Plant junk somewhere after the record, as a torn write would.
        let start = 64 + at;
        let end = (start + junk.len()).min(SECTOR);
        flash.contents_mut()[start..end].copy_from_slice(&junk[..end - start]);
        let mut journal: Journal = Journal::open(&mut flash, part).unwrap();
        let mut buf = [0u8; 16];
        prop_assert_eq!(journal.read(&mut flash, 1, &mut buf).unwrap(), Some(&b"keep me"[..]));
        journal.write(&mut flash, 2, b"next").unwrap();
        let journal: Journal = Journal::open(&mut flash, part).unwrap();
        prop_assert_eq!(journal.read(&mut flash, 1, &mut buf).unwrap(), Some(&b"keep me"[..]));
        prop_assert_eq!(journal.read(&mut flash, 2, &mut buf).unwrap(), Some(&b"next"[..]));
    }
}

#[test]
fn too_small_or_misaligned_partitions_are_errors() {
    let mut flash = SimFlash::<4, SECTOR>::new(SECTOR * 4, 0xFF);
    let one = Partition::new(&flash, 0, SECTOR as u32, 0xFF).unwrap();
    assert!(matches!(Journal::<8>::open(&mut flash, one), Err(JournalError::Partition(_))));
    assert!(Partition::new(&flash, 3, SECTOR as u32 * 2, 0xFF).is_err());
    assert!(Partition::new(&flash, 0, SECTOR as u32 * 5, 0xFF).is_err());
    assert!(Partition::new(&flash, 0, 0, 0xFF).is_err());
}

#[test]
fn oversized_record_and_full_journal_are_errors_and_lose_nothing() {
    let mut flash = SimFlash::<4, SECTOR>::new(SECTOR * 2, 0xFF);
    let part = Partition::new(&flash, 0, SECTOR as u32 * 2, 0xFF).unwrap();
    let mut journal: Journal = Journal::open(&mut flash, part).unwrap();
    assert_eq!(journal.write(&mut flash, 0, &[1; SECTOR]), Err(JournalError::RecordTooLarge));
    journal.write(&mut flash, 0, &[1; 100]).unwrap();
    journal.write(&mut flash, 1, &[2; 100]).unwrap();
    let erases = flash.stats().total_erases();
    assert_eq!(journal.write(&mut flash, 2, &[3; 100]), Err(JournalError::Full));
    assert_eq!(flash.stats().total_erases(), erases, "a full journal must not erase");
    let journal: Journal = Journal::open(&mut flash, part).unwrap();
    let mut buf = [0u8; 100];
    assert_eq!(journal.read(&mut flash, 0, &mut buf).unwrap(), Some(&[1u8; 100][..]));
    assert_eq!(journal.read(&mut flash, 1, &mut buf).unwrap(), Some(&[2u8; 100][..]));
    let mut small = [0u8; 10];
    assert_eq!(journal.read(&mut flash, 1, &mut small), Err(JournalError::BufferTooSmall { needed: 100 }));
}

#[test]
fn too_many_kinds_is_an_error() {
    let mut flash = SimFlash::<4, SECTOR>::new(SECTOR * 2, 0xFF);
    let part = Partition::new(&flash, 0, SECTOR as u32 * 2, 0xFF).unwrap();
    let mut journal: Journal<2> = Journal::open(&mut flash, part).unwrap();
    journal.write(&mut flash, 0, b"a").unwrap();
    journal.write(&mut flash, 1, b"b").unwrap();
    assert_eq!(journal.write(&mut flash, 2, b"c"), Err(JournalError::TooManyKinds));
}

#[test]
fn appends_cost_about_one_erase_per_sector_of_records() {
    let mut flash = SimFlash::<4, 4096>::new(4096 * 2, 0xFF);
    let part = Partition::new(&flash, 0, 8192, 0xFF).unwrap();
    let mut journal: Journal = Journal::open(&mut flash, part).unwrap();
    let appends = 2000u64;
    for i in 0..appends {
        journal.write(&mut flash, (i % 2) as u8, &i.to_le_bytes()).unwrap();
    }
    // A 20-byte record on a 4 KiB sector: ~200 appends per erase.
    let erases = flash.stats().total_erases();
    println!("journal: {appends} appends of 20-byte records cost {erases} erases");
    assert!(erases <= appends / 150, "{erases} erases for {appends} appends");
}

#[test]
fn read_granularity_above_one_byte_works() {
    let mut flash = SimFlash::<8, SECTOR, 4>::new(SECTOR * 2, 0x00);
    let part = Partition::new(&flash, 0, SECTOR as u32 * 2, 0x00).unwrap();
    let mut journal: Journal = Journal::open(&mut flash, part).unwrap();
    for i in 0..50u8 {
        journal.write(&mut flash, i % 3, &[i; 13]).unwrap();
    }
    let journal: Journal = Journal::open(&mut flash, part).unwrap();
    let mut buf = [0u8; 13];
    assert_eq!(journal.read(&mut flash, 2, &mut buf).unwrap(), Some(&[47u8; 13][..]));
}

#[test]
fn records_written_by_another_partition_offset_stay_inside() {
    // A journal in the middle of the flash never touches the bytes around it.
    let mut flash = SimFlash::<4, SECTOR>::new(SECTOR * 4, 0xFF);
    let part = Partition::new(&flash, SECTOR as u32, SECTOR as u32 * 2, 0xFF).unwrap();
    let mut journal: Journal = Journal::open(&mut flash, part).unwrap();
    for i in 0..100u32 {
        journal.write(&mut flash, 1, &i.to_le_bytes()).unwrap();
    }
    assert!(flash.contents()[..SECTOR].iter().all(|&b| b == 0xFF));
    assert!(flash.contents()[SECTOR * 3..].iter().all(|&b| b == 0xFF));
}
