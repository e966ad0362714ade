//! The chunk client against a scripted host.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a panic is a test failure"
)]

use super::frame::{DecodeEvent, FrameDecoder, FrameEncoder, max_frame_len};
use super::message::Message;
use super::{ChunkClient, ClientConfig, Reply, TX_FRAME_LEN};
use crate::Version;
use crate::transport::SourceError;

type Client = ChunkClient<300, 1024>;

const CFG: ClientConfig = ClientConfig { chunk_len: 256, window: 4, timeout_ms: 100, max_retries: 2 };

/// Chunk requests the client sends at `now`, as (offset, len).
fn requests(c: &mut Client, now: u64) -> Vec<(u32, u16)> {
    let mut out = [0u8; TX_FRAME_LEN];
    let mut dec = FrameDecoder::<64>::new();
    let mut got = Vec::new();
    while let Some(n) = c.poll_transmit(now, &mut out) {
        let (_, ev) = dec.feed(&out[..n]);
        let Some(DecodeEvent::Frame(f)) = ev else { panic!("client sent a bad frame") };
        match Message::decode(f.payload).unwrap() {
            Message::ChunkRequest { offset, len } => got.push((offset, len)),
            other => panic!("unexpected {other:?}"),
        }
    }
    got
}

fn host_frame(enc: &mut FrameEncoder, msg: &Message<'_>) -> Vec<u8> {
    let mut p = vec![0u8; 400];
    let n = msg.encode(&mut p).unwrap();
    let mut out = vec![0u8; max_frame_len(n)];
    let m = enc.encode(&p[..n], &mut out).unwrap();
    out.truncate(m);
    out
}

fn image() -> Vec<u8> {
    (0..1000u32).map(|i| (i % 253) as u8).collect()
}

fn answer(c: &mut Client, enc: &mut FrameEncoder, img: &[u8], offset: u32, len: u16) {
    let data = &img[offset as usize..offset as usize + len as usize];
    c.feed(&host_frame(enc, &Message::Chunk { offset, data }));
}

#[test]
fn windowed_requests_in_order_and_exact_tail() {
    let img = image();
    let mut c = Client::new(CFG).unwrap();
    c.set_image_size(1000);
    let mut buf = [0u8; 100];
    assert_eq!(c.take(0, &mut buf), Err(nb::Error::WouldBlock));
    assert_eq!(requests(&mut c, 0), vec![(0, 256), (256, 256), (512, 256), (768, 232)]);
    let mut enc = FrameEncoder::new();
    for (o, l) in [(0, 256), (256, 256), (512, 256), (768, 232)] {
        answer(&mut c, &mut enc, &img, o, l);
    }
    let mut got = Vec::new();
    while got.len() < 1000 {
        let n = c.take(got.len() as u32, &mut buf).unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, img);
    assert!(requests(&mut c, 1).is_empty(), "nothing asked twice once all is handed out");
    assert_eq!(c.stats().requests, 4);
}

#[test]
fn unasked_duplicate_and_wrong_length_answers_are_dropped() {
    let img = image();
    let mut c = Client::new(CFG).unwrap();
    c.set_image_size(1000);
    let mut buf = [0u8; 256];
    let _ = c.take(0, &mut buf);
    requests(&mut c, 0);
    let mut enc = FrameEncoder::new();
    answer(&mut c, &mut enc, &img, 100, 256); // offset never asked for
    answer(&mut c, &mut enc, &img, 0, 10); // wrong length
    answer(&mut c, &mut enc, &img, 0, 256);
    answer(&mut c, &mut enc, &img, 0, 256); // duplicate
    c.feed(&[0x00, 0x55, 0x66, 0x00]); // garbage
    let s = c.stats();
    assert_eq!((s.unrequested, s.bad_answers, s.duplicates, s.answers), (1, 1, 1, 1));
    assert_eq!(s.frames.dropped(), 1);
    assert_eq!(c.take(0, &mut buf), Ok(256));
    assert_eq!(&buf[..], &img[..256]);
}

#[test]
fn lost_answer_is_asked_again_at_once_when_a_later_one_arrives() {
    let img = image();
    let mut c = Client::new(CFG).unwrap();
    c.set_image_size(1000);
    let mut buf = [0u8; 256];
    let _ = c.take(0, &mut buf);
    requests(&mut c, 0);
    let mut enc = FrameEncoder::new();
    answer(&mut c, &mut enc, &img, 256, 256); // the answer at 0 was lost
    assert_eq!(requests(&mut c, 1), vec![(0, 256)]);
    assert_eq!(c.stats().fast_retransmits, 1);
    answer(&mut c, &mut enc, &img, 0, 256);
    assert_eq!(c.take(0, &mut buf), Ok(256));
    assert_eq!(c.take(256, &mut buf), Ok(256), "the later answer was kept");
}

#[test]
fn timeouts_retry_then_fail_and_recover() {
    let mut c = Client::new(CFG).unwrap();
    c.set_image_size(300);
    let mut buf = [0u8; 64];
    let _ = c.take(0, &mut buf);
    assert_eq!(requests(&mut c, 0), vec![(0, 256), (256, 44)]);
    assert!(requests(&mut c, 99).is_empty());
    // One request again per timeout (the oldest); the other's timer restarts.
    assert_eq!(requests(&mut c, 100), vec![(0, 256)]);
    assert_eq!(requests(&mut c, 200), vec![(0, 256)]);
    assert!(requests(&mut c, 300).is_empty(), "retries spent");
    assert_eq!(c.take(0, &mut buf), Err(nb::Error::Other(SourceError::Timeout)));
    // The next fetch starts over.
    assert_eq!(c.take(0, &mut buf), Err(nb::Error::WouldBlock));
    assert_eq!(requests(&mut c, 400).len(), 2);
    assert_eq!(c.stats().timeouts, 2);
}

#[test]
fn version_report_gets_offer_and_sets_size() {
    let mut c = Client::new(CFG).unwrap();
    c.start_version_report(&Version::parse("1.0").unwrap());
    let mut out = [0u8; TX_FRAME_LEN];
    assert!(c.poll_transmit(0, &mut out).is_some());
    assert_eq!(c.poll_reply(), Err(nb::Error::WouldBlock));
    let mut enc = FrameEncoder::new();
    c.feed(&host_frame(
        &mut enc,
        &Message::Offer { version: "2.0", size: 300, md5: None, sha256: Some([1; 32]) },
    ));
    let Ok(Reply::Offer(o)) = c.poll_reply() else { panic!("no offer") };
    assert_eq!(o.size, 300);
    let offer: crate::Offer<8> = o.to_offer().unwrap();
    assert_eq!(offer.version.as_str(), "2.0");
    let mut buf = [0u8; 8];
    let _ = c.take(0, &mut buf);
    assert_eq!(requests(&mut c, 0), vec![(0, 256), (256, 44)]);
}

#[test]
fn host_errors_fail_the_fetch_or_answer_the_report() {
    let mut c = Client::new(CFG).unwrap();
    c.set_image_size(1000);
    let mut buf = [0u8; 16];
    let _ = c.take(0, &mut buf);
    requests(&mut c, 0);
    let mut enc = FrameEncoder::new();
    c.start_progress(50);
    c.feed(&host_frame(
        &mut enc,
        &Message::Error { code: super::message::error_code::OUT_OF_RANGE, offset: 256 },
    ));
    assert_eq!(c.poll_reply(), Err(nb::Error::WouldBlock), "a chunk error is not the report's answer");
    assert_eq!(c.take(0, &mut buf), Err(nb::Error::Other(SourceError::Protocol)));
    c.feed(&host_frame(&mut enc, &Message::Error { code: super::message::error_code::BUSY, offset: 0 }));
    assert_eq!(c.poll_reply(), Ok(Reply::Refused(super::message::error_code::BUSY)));
    assert_eq!(c.stats().host_errors, 2);
}

proptest::proptest! {
    #[test]
    fn arbitrary_input_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2000), offset in 0u32..2000) {
        let mut c = Client::new(CFG).unwrap();
        c.set_image_size(1000);
        let mut buf = [0u8; 100];
        let _ = c.take(offset, &mut buf);
        let _ = requests(&mut c, 0);
        c.feed(&bytes);
        let _ = c.take(offset, &mut buf);
    }
}

/// The default frame length fits the default configuration exactly: one byte less does not.
#[test]
fn the_default_buffers_fit_the_default_configuration_and_no_less() {
    assert!(ChunkClient::<{ super::DEFAULT_FRAME_LEN }, 4096>::new(ClientConfig::default()).is_ok());
    assert!(ChunkClient::<{ super::DEFAULT_FRAME_LEN - 1 }, 4096>::new(ClientConfig::default()).is_err());
    assert!(ChunkClient::<{ super::DEFAULT_FRAME_LEN }, 4095>::new(ClientConfig::default()).is_err());
}
