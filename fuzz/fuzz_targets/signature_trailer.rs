//! Arbitrary bytes as a signed image: the streaming `TrailerCollector` (fed in two pieces
//! split at a fuzzer-chosen point, as the engine feeds chunks) and the in-memory
//! `verify_image` must reach the same verdict, and nothing panics. Seeds that are signed by
//! the trusted key let the fuzzer mutate valid trailers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ota_client::Digest;
use ota_client::download::{TrailerCollector, TrustedKey, Verifier, verify_image};
use ota_client::mock::public_key;

fuzz_target!(|data: &[u8]| {
    let Some((&split, image)) = data.split_first() else { return };
    let keys = [TrustedKey { id: 1, public_key: public_key(&[0x5A; 32]) }];
    let whole = verify_image(&keys, 1, image);
    let Ok(size) = u32::try_from(image.len()) else { return };
    let Some(mut collector) = TrailerCollector::new(size) else {
        assert!(whole.is_err(), "an image without a body verified");
        return;
    };
    let mut verifier = Verifier::new(&Digest::default());
    let (a, b) = image.split_at(usize::from(split).min(image.len()));
    collector.feed(&mut verifier, a);
    collector.feed(&mut verifier, b);
    assert_eq!(collector.verify(&keys, 1), whole, "streaming and in-memory verdicts differ");
});
