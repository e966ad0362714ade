//! Arbitrary bytes on the Tencent downlink (and uplink, as the cloud decodes it) never
//! panic; a decoded offer re-encodes and decodes to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ota_client::platform::tencent::{self, Downlink};

fuzz_target!(|data: &[u8]| {
    if let Ok(Downlink::Offer(offer)) = tencent::decode_downlink::<256>(data) {
        let mut out = [0u8; 1024];
        let n = tencent::encode_offer(&offer, &mut out).expect("a decoded offer re-encodes");
        let again = tencent::decode_downlink::<256>(&out[..n]).expect("a re-encoded offer decodes");
        assert_eq!(again, Downlink::Offer(offer));
    }
    let _ = tencent::decode_uplink(data);
});
