//! Arbitrary bytes from the PCP link never panic the stream decoder, and every frame it hands
//! out (and the raw input itself, also with its length and check code repaired so that the
//! parsers get past the frame checks) goes through the platform and device message parsers
//! without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ota_client::platform::huawei_pcp::check_code::frame_check_code;
use ota_client::platform::huawei_pcp::codec::{DeviceMessage, HEADER_LEN, Packet, PlatformMessage};
use ota_client::platform::huawei_pcp::stream::PcpStreamDecoder;

fuzz_target!(|data: &[u8]| {
    parse(data);
    if let Some(repaired) = repair(data) {
        let frame = &repaired[..data.len()];
        assert!(Packet::new_checked(frame).is_ok(), "a repaired frame passes the checks");
        parse(frame);
    }
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

/// The input with the start marker, data length and check code made right (when it is at
/// least a header long and short enough for the buffer).
fn repair(data: &[u8]) -> Option<[u8; 1024]> {
    if data.len() < HEADER_LEN || data.len() > 1024 {
        return None;
    }
    let mut frame = [0u8; 1024];
    frame[..data.len()].copy_from_slice(data);
    frame[..2].copy_from_slice(&[0xFF, 0xFE]);
    frame[2] = (frame[2] & 0xF0) | 0x01;
    let data_len = u16::try_from(data.len() - HEADER_LEN).ok()?;
    frame[6..8].copy_from_slice(&data_len.to_be_bytes());
    let code = frame_check_code(&frame[..data.len()]);
    frame[4..6].copy_from_slice(&code.to_be_bytes());
    Some(frame)
}
