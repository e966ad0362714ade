//! Random fault scripts, buffer sizes and chunk sizes: whatever happens, a download that
//! reports done has the exact image in the slot; any failure leaves the active slot and the
//! journal intact; and a later attempt against a healthy server completes.

use crate::download_rig;

use download_rig::*;
use ota_client::FailureCause;
use ota_client::download::{Download, DownloadConfig};
use ota_client::flash::{Journal, OneFlash};
use ota_client::mock::{ChunkServer, Fault, ManualClock};
use ota_client::transport::SourceError;
use proptest::prelude::*;

const W: usize = 8;

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        Just(Fault::Drop),
        Just(Fault::Delay),
        (1u64..3000).prop_map(Fault::DelayMs),
        (1usize..50).prop_map(Fault::Truncate),
        (1u8..=255).prop_map(Fault::Corrupt),
        Just(Fault::DisconnectMidChunk),
        (1u32..4000).prop_map(Fault::WrongRange),
        Just(Fault::IgnoreRange),
        Just(Fault::Fail(SourceError::Server)),
        Just(Fault::Fail(SourceError::NotFound)),
        Just(Fault::Oversize),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]
    #[test]
    fn never_done_with_a_wrong_image(
        len in 1usize..(3 * SECTOR + 200),
        buf_len in 1usize..300,
        max_chunk in 1usize..400,
        script in proptest::collection::vec((0u32..2000, fault(), 1u32..4), 0..4),
    ) {
        let img = image(len, len as u32);
        let offer = offer("1.0.0", &img);
        let mut storage = OneFlash(fresh_flash::<W>(0xFF));
        let state = state_part(&storage.0);
        let mut journal: Journal = Journal::open(&mut storage.0, state).unwrap();
        let clock = ManualClock::new();
        let mut server = ChunkServer::new(img.clone()).with_max_chunk(max_chunk).with_clock(clock.clone());
        for (at, f, times) in script {
            server = server.fault_at(at, f, times);
        }
        let cfg = DownloadConfig { retry_base_ms: 5, retry_cap_ms: 50, max_attempts: 4, chunk_timeout_ms: 1000, ..DownloadConfig::new(ota_client::image::SignaturePolicy::Unsigned) };
        let mut buf = vec![0u8; buf_len];
        let mut dl = Download::new(&offer, target(&storage.0), cfg);
        let r = drive(&mut dl, &mut storage, &mut journal, &mut server, &mut buf, &clock, 7);
        let active = active_pattern();
        prop_assert_eq!(slot_a(&storage.0), active.as_slice());
        match r {
            Ok(done) => {
                prop_assert_eq!(slot_b(&storage.0, len), img.as_slice());
                prop_assert_eq!(Some(done.sha256), offer.digest.sha256);
            }
            Err(FailureCause::IntegrityCheckFailure) => {
                prop_assert!(checkpoint(&journal, &mut storage.0).is_none());
            }
            Err(cause) => prop_assert!(matches!(
                cause,
                FailureCause::ConnectionLost | FailureCause::DownloadTimeout | FailureCause::FileNotFound | FailureCause::UpdateFailed
            ), "unexpected cause {:?}", cause),
        }
        // Reboot: the journal reopens, and a healthy server completes the download.
        let mut journal: Journal = Journal::open(&mut storage.0, state).unwrap();
        let mut dl = Download::new(&offer, target(&storage.0), cfg);
        let r = drive(&mut dl, &mut storage, &mut journal, &mut ChunkServer::new(img.clone()), &mut buf, &clock, 7);
        prop_assert!(r.is_ok(), "healthy retry failed: {:?}", r);
        prop_assert_eq!(slot_b(&storage.0, len), img.as_slice());
    }
}
