//! An HTTP response (head, then a `Content-Length`, chunked or until-close body) cut at a
//! fuzzer-chosen point never panics the head parser or the body decoder, and the decoder never
//! claims more bytes than it was given or room it did not have.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ota_client::transport::http::{BodyDecoder, BodyKind, Parsed, parse_head};

fuzz_target!(|data: &[u8]| {
    let Some((&split, raw)) = data.split_first() else { return };
    let split = usize::from(split).min(raw.len());
    // The head as it arrives: first the bytes before the cut, then all of them.
    let (head, used) = match parse_head(&raw[..split]) {
        Ok(Parsed::Complete(h, used)) => (h, used),
        Ok(Parsed::Incomplete) => match parse_head(raw) {
            Ok(Parsed::Complete(h, used)) => (h, used),
            _ => return,
        },
        Err(_) => return,
    };
    assert!(used <= raw.len());
    let kind = match (head.has_no_body(), head.chunked, head.content_length) {
        (true, _, _) => BodyKind::Length(0),
        (false, true, _) => BodyKind::Chunked,
        (false, false, Some(n)) => BodyKind::Length(n),
        (false, false, None) => BodyKind::UntilClose,
    };
    let body = &raw[used..];
    let cut = split.min(body.len());
    let mut decoder = BodyDecoder::new(kind);
    // A small output buffer makes the decoder stop and resume mid-chunk.
    let mut out = [0u8; 7];
    let mut total = 0u64;
    for piece in [&body[..cut], &body[cut..]] {
        let mut rest = piece;
        while !rest.is_empty() && !decoder.is_done() {
            match decoder.decode(rest, &mut out) {
                Ok((used, made)) => {
                    assert!(used <= rest.len() && made <= out.len());
                    if used == 0 {
                        break;
                    }
                    total += made as u64;
                    rest = &rest[used..];
                }
                Err(_) => return,
            }
        }
    }
    if let BodyKind::Length(n) = kind {
        assert!(total <= n);
    }
    let _ = decoder.remaining_hint();
    let _ = decoder.on_eof();
});
