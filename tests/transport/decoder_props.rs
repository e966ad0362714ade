//! Property tests of every decoder that reads bytes from a transport: arbitrary input never
//! panics (these run with overflow checks on, so an arithmetic overflow is a failure too) and
//! whatever is reported stays inside the input; valid input split at arbitrary points, with
//! garbage around it, decodes to exactly what was encoded.

use ota_client::Version;
use ota_client::platform::enos_edge::codec::{decode_check_version_answer, decode_status_answer};
use ota_client::platform::huawei_pcp::{self, DeviceMessage, PcpStreamDecoder, PlatformMessage};
use ota_client::transport::http::{BodyDecoder, BodyKind, ContentRange, Parsed, Url, parse_head};
use ota_client::transport::serial::{DecodeEvent, FrameDecoder, FrameEncoder, Message, max_frame_len};
use proptest::collection::vec;
use proptest::prelude::*;

/// Cuts `bytes` into pieces of the given lengths (cycled). A zero-length piece is handed
/// out once, then the next piece takes at least one byte, so the cutting always ends.
fn pieces<'a>(bytes: &'a [u8], cuts: &'a [usize]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut at = 0;
    let mut i = 0;
    let mut last_empty = false;
    std::iter::from_fn(move || {
        if at >= bytes.len() {
            return None;
        }
        let mut n = cuts.get(i % cuts.len().max(1)).copied().unwrap_or(bytes.len());
        if last_empty {
            n = n.max(1);
        }
        let n = n.min(bytes.len() - at);
        last_empty = n == 0;
        i += 1;
        let piece = &bytes[at..at + n];
        at += n;
        Some(piece)
    })
}

/// Feeds `input` in `cuts`-sized pieces to a body decoder with an output buffer of `out_len`,
/// collecting the body. Returns the body and whether the decoder finished without error.
fn run_body(kind: BodyKind, input: &[u8], cuts: &[usize], out_len: usize) -> (Vec<u8>, bool) {
    let mut dec = BodyDecoder::new(kind);
    let mut body = Vec::new();
    let mut out = vec![0u8; out_len.max(1)];
    for mut piece in pieces(input, cuts) {
        // Guard against a decoder that stops making progress: every call must consume or
        // produce something until the piece is used up or the body ends.
        let mut stalls = 0;
        while !piece.is_empty() && !dec.is_done() {
            match dec.decode(piece, &mut out) {
                Ok((used, made)) => {
                    assert!(used <= piece.len() && made <= out.len());
                    body.extend_from_slice(&out[..made]);
                    piece = &piece[used..];
                    stalls = if used == 0 && made == 0 { stalls + 1 } else { 0 };
                    assert!(stalls < 2, "the body decoder made no progress");
                }
                Err(_) => return (body, false),
            }
        }
    }
    (body, dec.is_done())
}

/// True when every frame `sent` is among those `got`, in order. Garbage may itself decode as a
/// frame when it happens to carry a valid check, so extra frames are allowed.
fn in_order(sent: &[Vec<u8>], got: &[Vec<u8>]) -> bool {
    let mut want = sent.iter().peekable();
    for frame in got {
        if want.peek() == Some(&frame) {
            want.next();
        }
    }
    want.peek().is_none()
}

fn chunked(data: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut wire = Vec::new();
    for piece in pieces(data, sizes) {
        if piece.is_empty() {
            continue;
        }
        wire.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        wire.extend_from_slice(piece);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");
    wire
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn http_head_of_any_bytes(bytes in vec(any::<u8>(), 0..600)) {
        if let Ok(Parsed::Complete(head, used)) = parse_head(&bytes) {
            prop_assert!(used <= bytes.len());
            prop_assert!((100..=999).contains(&head.status));
        }
    }

    #[test]
    fn http_head_of_a_well_formed_answer(
        status in 100u16..=599,
        len in proptest::option::of(0u64..1 << 40),
        junk_name in "[A-Za-z][A-Za-z0-9-]{0,20}",
        junk_value in "[ -~]{0,40}",
        body in vec(any::<u8>(), 0..32),
    ) {
        let mut raw = format!("HTTP/1.1 {status} Whatever\r\n{junk_name}x: {junk_value}\r\n");
        if let Some(len) = len {
            raw.push_str(&format!("Content-Length: {len}\r\n"));
        }
        raw.push_str("\r\n");
        let head_len = raw.len();
        let mut bytes = raw.into_bytes();
        bytes.extend_from_slice(&body);
        let Ok(Parsed::Complete(head, used)) = parse_head(&bytes) else {
            return Err(TestCaseError::fail("a well-formed head did not parse"));
        };
        prop_assert_eq!((head.status, head.content_length, used), (status, len, head_len));
        // Every proper prefix of the head is incomplete or already refused, never "complete".
        for cut in [head_len / 2, head_len - 1] {
            prop_assert!(!matches!(parse_head(&bytes[..cut]), Ok(Parsed::Complete(..))));
        }
    }

    #[test]
    fn content_range_of_any_text(text in "[ -~]{0,40}", first in 0u64..1 << 62, span in any::<u32>()) {
        if let Ok(r) = ContentRange::parse(&text) {
            prop_assert!(r.first <= r.last && r.total.is_none_or(|t| r.last < t));
        }
        let last = first.saturating_add(u64::from(span));
        let r = ContentRange::parse(&format!("bytes {first}-{last}/*")).unwrap();
        prop_assert_eq!((r.first, r.last, r.total), (first, last, None));
    }

    #[test]
    fn chunked_body_round_trips_through_any_split(
        data in vec(any::<u8>(), 0..2000),
        sizes in vec(1usize..300, 1..8),
        cuts in vec(0usize..64, 1..8),
        out_len in 1usize..80,
    ) {
        let wire = chunked(&data, &sizes);
        let (body, done) = run_body(BodyKind::Chunked, &wire, &cuts, out_len);
        prop_assert!(done, "the body did not end");
        prop_assert_eq!(body, data);
    }

    #[test]
    fn body_of_any_bytes(
        bytes in vec(any::<u8>(), 0..800),
        cuts in vec(0usize..64, 1..8),
        out_len in 1usize..80,
        len in any::<u64>(),
    ) {
        let (body, _) = run_body(BodyKind::Chunked, &bytes, &cuts, out_len);
        prop_assert!(body.len() <= bytes.len());
        let (body, done) = run_body(BodyKind::Length(len), &bytes, &cuts, out_len);
        prop_assert_eq!(body.len() as u64, len.min(bytes.len() as u64));
        prop_assert_eq!(done, len <= bytes.len() as u64);
    }

    #[test]
    fn serial_frames_of_any_bytes(bytes in vec(any::<u8>(), 0..800), cuts in vec(0usize..64, 1..8)) {
        let mut dec = FrameDecoder::<64>::new();
        for mut piece in pieces(&bytes, &cuts) {
            while !piece.is_empty() {
                let (used, event) = dec.feed(piece);
                prop_assert!(used <= piece.len());
                if let Some(DecodeEvent::Frame(f)) = event {
                    prop_assert!(f.payload.len() <= FrameDecoder::<64>::MAX_PAYLOAD);
                }
                prop_assert!(used > 0 || event.is_some(), "the frame decoder made no progress");
                piece = &piece[used..];
            }
        }
    }

    #[test]
    fn serial_frames_survive_garbage_and_splits(
        payloads in vec(vec(any::<u8>(), 0..59), 1..6),
        garbage in vec(vec(any::<u8>(), 0..40), 6),
        cuts in vec(0usize..64, 1..8),
    ) {
        let mut enc = FrameEncoder::new();
        let mut wire = Vec::new();
        for (payload, junk) in payloads.iter().zip(&garbage) {
            wire.extend_from_slice(junk);
            let mut out = vec![0u8; max_frame_len(payload.len())];
            let n = enc.encode(payload, &mut out).unwrap();
            wire.extend_from_slice(&out[..n]);
        }
        let mut dec = FrameDecoder::<64>::new();
        let mut got = Vec::new();
        for mut piece in pieces(&wire, &cuts) {
            while !piece.is_empty() {
                let (used, event) = dec.feed(piece);
                if let Some(DecodeEvent::Frame(f)) = event {
                    got.push(f.payload.to_vec());
                }
                piece = &piece[used..];
            }
        }
        prop_assert!(in_order(&payloads, &got), "a frame was lost: sent {:?}, got {:?}", payloads, got);
    }

    #[test]
    fn serial_messages_of_any_bytes(bytes in vec(any::<u8>(), 0..200)) {
        let _ = Message::decode(&bytes);
    }

    #[test]
    fn pcp_frames_of_any_bytes(bytes in vec(any::<u8>(), 0..800), cuts in vec(0usize..64, 1..8)) {
        let _ = PlatformMessage::parse(&bytes);
        let _ = DeviceMessage::parse(&bytes);
        let mut dec = PcpStreamDecoder::<128>::new();
        for mut piece in pieces(&bytes, &cuts) {
            while !piece.is_empty() {
                let (used, frame) = dec.feed(piece);
                prop_assert!(used <= piece.len());
                if let Some(frame) = frame {
                    prop_assert!(frame.len() <= 128);
                }
                prop_assert!(used > 0 || frame.is_some(), "the PCP decoder made no progress");
                piece = &piece[used..];
            }
        }
    }

    #[test]
    fn pcp_frames_survive_garbage_and_splits(
        frames in vec((19u8..=24, vec(any::<u8>(), 0..100)), 1..5),
        garbage in vec(vec(any::<u8>(), 0..30), 5),
        cuts in vec(0usize..64, 1..8),
    ) {
        let mut wire = Vec::new();
        let mut sent = Vec::new();
        for ((code, data), junk) in frames.iter().zip(&garbage) {
            wire.extend_from_slice(junk);
            let mut out = vec![0u8; 8 + data.len()];
            let n = huawei_pcp::codec::emit(*code, data, &mut out).unwrap();
            wire.extend_from_slice(&out[..n]);
            sent.push(out);
        }
        let mut dec = PcpStreamDecoder::<128>::new();
        let mut got = Vec::new();
        for mut piece in pieces(&wire, &cuts) {
            while !piece.is_empty() {
                let (used, frame) = dec.feed(piece);
                if let Some(frame) = frame {
                    got.push(frame.to_vec());
                }
                piece = &piece[used..];
            }
        }
        prop_assert!(in_order(&sent, &got), "a PCP frame was lost: got {} of {}", got.len(), sent.len());
    }

    #[test]
    fn text_parsers_of_any_text(text in "\\PC{0,80}", reference in "\\PC{0,40}") {
        let _ = Version::parse(&text);
        if let Ok(url) = Url::parse(&text) {
            prop_assert!(url.path.starts_with('/') || url.path.starts_with('?'));
            let _ = url.join(&reference);
        }
        let _ = decode_check_version_answer(text.as_bytes());
        let _ = decode_status_answer(text.as_bytes());
    }
}
