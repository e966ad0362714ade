//! Arbitrary bytes on the serial line never panic the frame decoder, and every payload of a
//! frame that passes its CRC goes through the CBOR message decoder without a panic; a decoded
//! message re-encodes and decodes to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ota_client::transport::serial::frame::{DecodeEvent, FrameDecoder};
use ota_client::transport::serial::message::Message;

fuzz_target!(|data: &[u8]| {
    // The whole input as one message payload, so the CBOR decoder sees arbitrary bytes even
    // without a valid CRC around them.
    check_message(data);
    let mut decoder = FrameDecoder::<64>::new();
    let mut rest = data;
    while !rest.is_empty() {
        let (used, event) = decoder.feed(rest);
        assert!(used > 0 && used <= rest.len());
        if let Some(DecodeEvent::Frame(frame)) = event {
            assert!(frame.payload.len() <= 64);
            let payload: [u8; 64] = core::array::from_fn(|i| frame.payload.get(i).copied().unwrap_or(0));
            check_message(&payload[..frame.payload.len()]);
        }
        rest = &rest[used..];
    }
    let _ = decoder.stats().dropped();
});

fn check_message(payload: &[u8]) {
    if let Ok(msg) = Message::decode(payload) {
        let mut out = [0u8; 512];
        if let Ok(n) = msg.encode(&mut out) {
            assert_eq!(Message::decode(&out[..n]), Ok(msg));
        }
    }
}
