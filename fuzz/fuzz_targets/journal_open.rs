//! A Journal opened over arbitrary flash contents (garbage, torn records, forged headers)
//! never panics: open, read every kind, decode the library's records, then one append, which
//! must then read back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ota_client::download::Checkpoint;
use ota_client::flash::{Journal, JournalError, Partition, kinds};
use ota_client::mock::SimFlash;

const SIZE: usize = 4 * 512;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    // The first byte picks the part: write size and erased value.
    match mode % 4 {
        0 => run::<1>(rest, 0xFF),
        1 => run::<4>(rest, 0xFF),
        2 => run::<8>(rest, 0xFF),
        _ => run::<4>(rest, 0x00),
    }
});

fn run<const W: usize>(input: &[u8], erased: u8) {
    let mut contents = [erased; SIZE];
    let n = input.len().min(SIZE);
    contents[..n].copy_from_slice(&input[..n]);
    let mut flash = SimFlash::<W, 512>::from_contents(&contents, erased);
    let part = Partition::new(&flash, 0, SIZE as u32, erased).expect("a valid partition");
    let Ok(mut journal) = Journal::<8>::open(&mut flash, part) else { return };
    let mut buf = [0u8; 512];
    for kind in 0..=255u8 {
        let len = journal.len_of(kind);
        match journal.read(&mut flash, kind, &mut buf) {
            Ok(Some(payload)) => {
                assert_eq!(Some(payload.len()), len);
                if kind == kinds::DOWNLOAD_CHECKPOINT {
                    let _ = Checkpoint::decode(payload);
                }
            }
            Ok(None) => assert_eq!(len, None),
            Err(JournalError::BufferTooSmall { needed }) => assert_eq!(Some(needed), len),
            Err(_) => {}
        }
    }
    let kind = input.last().copied().unwrap_or(kinds::FIRST_APPLICATION_KIND);
    let payload = b"after garbage";
    match journal.write(&mut flash, kind, payload) {
        Ok(()) => {
            assert_eq!(journal.read(&mut flash, kind, &mut buf), Ok(Some(&payload[..])));
            let reopened = Journal::<8>::open(&mut flash, part).expect("reopens after a write");
            assert_eq!(reopened.read(&mut flash, kind, &mut buf), Ok(Some(&payload[..])));
        }
        Err(JournalError::Flash(_)) => panic!("a fresh SimFlash refused a journal write"),
        Err(_) => {}
    }
}
