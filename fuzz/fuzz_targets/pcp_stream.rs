//! Arbitrary bytes from the PCP link never panic the stream decoder, and every frame it hands
//! out (and the raw input itself) goes through the platform and device message parsers
//! without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ota_client::platform::huawei_pcp::codec::{DeviceMessage, Packet, PlatformMessage};
use ota_client::platform::huawei_pcp::stream::PcpStreamDecoder;

fuzz_target!(|data: &[u8]| {
    parse(data);
    let mut decoder = PcpStreamDecoder::<128>::new();
    let mut rest = data;
    while !rest.is_empty() {
        let (used, frame) = decoder.feed(rest);
        assert!(used > 0 && used <= rest.len());
        if let Some(frame) = frame {
            assert!(Packet::new_checked(frame).is_ok(), "the stream hands out only checked frames");
            parse(frame);
        }
        rest = &rest[used..];
    }
    let _ = decoder.stats();
});

fn parse(frame: &[u8]) {
    if let Ok(msg) = PlatformMessage::parse(frame) {
        let mut out = [0u8; 1024];
        if let Ok(n) = msg.emit(&mut out) {
            assert_eq!(PlatformMessage::parse(&out[..n]), Ok(msg));
        }
        if let PlatformMessage::NewVersion(task) = msg {
            let _ = task.max_len();
        }
    }
    if let Ok(msg) = DeviceMessage::parse(frame) {
        let mut out = [0u8; 1024];
        if let Ok(n) = msg.emit(&mut out) {
            assert_eq!(DeviceMessage::parse(&out[..n]), Ok(msg));
        }
    }
}
