//! Arbitrary bytes on every EnOS downlink topic (and uplink, as the cloud decodes it)
//! never panic. The first byte picks the topic; the rest is the payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ota_client::platform::enos_cloud::{self, Topic};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, payload)) = data.split_first() else { return };
    let all = [Topic::DOWNLINK, Topic::UPLINK];
    let kind = all[usize::from(pick & 1)][usize::from((pick >> 1) & 3)];
    let mut buf = [0u8; 64];
    let topic = enos_cloud::topic(kind, "pk", "dk", &mut buf).expect("topic fits");
    let _ = enos_cloud::decode_downlink::<256>(topic, payload);
    let _ = enos_cloud::decode_uplink(topic, payload);
    let _ = enos_cloud::request_id(payload);
});
