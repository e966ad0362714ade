//! Arbitrary bytes on the Huawei IoTDA downlink (and uplink, as the cloud decodes it)
//! never panic; a decoded upgrade re-encodes and decodes to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ota_client::platform::huawei_iotda::{self, Envelope, Event};

fuzz_target!(|data: &[u8]| {
    if let Ok(huawei_iotda::Downlink { event: Event::Upgrade(upgrade), .. }) =
        huawei_iotda::decode_downlink::<256>(data)
    {
        let mut out = [0u8; 2048];
        let n = huawei_iotda::encode_upgrade(&Envelope::default(), &upgrade, &mut out)
            .expect("a decoded upgrade re-encodes");
        let again = huawei_iotda::decode_downlink::<256>(&out[..n]).expect("a re-encoded upgrade decodes");
        assert_eq!(again.event, Event::Upgrade(upgrade));
    }
    let _ = huawei_iotda::decode_uplink(data);
});
