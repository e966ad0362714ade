//! Arbitrary bytes as the EnOS Edge `checkversion` answer never panic its decoder, nor the
//! conversion of an update into an offer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ota_client::platform::enos_edge::codec::{CheckVersionAnswer, decode_check_version_answer};

fuzz_target!(|data: &[u8]| {
    if let Ok(CheckVersionAnswer::Update(update)) = decode_check_version_answer(data) {
        let _ = update.to_offer::<256>(update.size.unwrap_or(1));
        let _ = update.to_offer::<8>(u32::MAX);
        let _ = ota_client::platform::enos_edge::codec::download_id(update.download_url);
    }
});
