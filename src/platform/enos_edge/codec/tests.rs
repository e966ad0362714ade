//! Codec tests: exact encodings, lenient decodings, every malformed answer.

use super::*;
use crate::offer::Offer;

const MD5: &str = "0123456789abcdef0123456789ABCDEF";

fn enc<F: FnOnce(&mut [u8]) -> Result<usize, CodecError>>(f: F) -> String {
    let mut out = [0u8; 256];
    let n = f(&mut out).unwrap();
    String::from_utf8(out[..n].to_vec()).unwrap()
}

#[test]
fn checkversion_request_exact() {
    let req = CheckVersion { asset_id: "a\"b", version: "1.0.0", serial_num: "1234-5678-90aa" };
    let text = enc(|o| encode_check_version(&req, o));
    assert_eq!(text, r#"{"assetId":"a\"b","version":"1.0.0","serialNum":"1234-5678-90aa"}"#);
    let back = decode_check_version(br#"{"serialNum":"s","assetId":"x","extra":[1,{"y":2}]}"#).unwrap();
    assert_eq!((back.asset_id, back.version, back.serial_num), ("x", "", "s"));
    let mut small = [0u8; 10];
    assert_eq!(encode_check_version(&req, &mut small), Err(CodecError::BufferTooSmall));
}

#[test]
fn answers_from_the_seed() {
    let no = br#"{"assetId":"ZR3c5CfFSO","version":"1.0.0","code":0,"desc":"no update","signMethod":"","sign":"","downloadurl":""}"#;
    assert_eq!(decode_check_version_answer(no), Ok(CheckVersionAnswer::NoUpdate));
    assert_eq!(decode_check_version_answer(br#"{"code":"0"}"#), Ok(CheckVersionAnswer::NoUpdate));
    let yes = format!(
        r#"{{"assetId":"999999","version":"v2.0.0.1","code":1,"desc":"has update","signMethod":"MD5","sign":"{MD5}","downloadurl":"\/version\/15912345678","new":true}}"#
    );
    let CheckVersionAnswer::Update(u) = decode_check_version_answer(yes.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(u.asset_id, "999999");
    assert_eq!(u.version.as_str(), "v2.0.0.1");
    assert_eq!(u.digest.md5, Some(crate::offer::decode_hex(MD5).unwrap()));
    let offer: Offer<64> = u.to_offer(1000).unwrap();
    assert_eq!((offer.location.as_str(), offer.size), ("/version/15912345678", 1000));
    assert_eq!(download_id(&offer.location), "15912345678");
    assert_eq!(download_id("http://h/a/b/77?x=1"), "77");
    let sha = format!(
        r#"{{"code":1,"version":"2","signMethod":"sha256","sign":"{MD5}{MD5}","downloadurl":"http://cdn/x"}}"#
    );
    let CheckVersionAnswer::Update(u) = decode_check_version_answer(sha.as_bytes()).unwrap() else {
        panic!()
    };
    assert!(u.digest.sha256.is_some());
}

#[test]
fn optional_file_size() {
    let with = |size: &str| {
        format!(
            r#"{{"assetId":"a","version":"2.0","code":1,"signMethod":"MD5","sign":"0123456789abcdef0123456789abcdef","downloadurl":"/version/1","fileSize":{size}}}"#
        )
    };
    let size_of = |body: &str| match decode_check_version_answer(body.as_bytes()).unwrap() {
        CheckVersionAnswer::Update(u) => u.size,
        CheckVersionAnswer::NoUpdate => panic!("no update"),
    };
    assert_eq!(size_of(&with("1234")), Some(1234));
    assert_eq!(size_of(&with(r#""1234""#)), Some(1234));
    // Not a usable size: ignored, the answer still decodes.
    for bad in ["0", "-5", "4294967296", r#""big""#, "1.5", "null"] {
        assert_eq!(size_of(&with(bad)), None, "{bad}");
    }
    let seed = r#"{"assetId":"a","version":"2.0","code":1,"signMethod":"MD5","sign":"0123456789abcdef0123456789abcdef","downloadurl":"/version/1"}"#;
    assert_eq!(size_of(seed), None);
}

#[test]
fn bad_answers() {
    let bad = |s: &str| decode_check_version_answer(s.as_bytes()).unwrap_err();
    let full = |method: &str, sign: &str, url: &str, version: &str| {
        format!(
            r#"{{"code":1,"version":"{version}","signMethod":"{method}","sign":"{sign}","downloadurl":"{url}"}}"#
        )
    };
    assert_eq!(bad("not json"), CodecError::Malformed);
    assert_eq!(bad(""), CodecError::Malformed);
    assert_eq!(bad(r#"{"code":1.5}"#), CodecError::Malformed);
    assert_eq!(bad(r#"{"desc":"no code"}"#), CodecError::MissingField);
    assert_eq!(bad(r#"{"code":7}"#), CodecError::UnknownCode);
    assert_eq!(bad(r#"{"code":"x"}"#), CodecError::Malformed);
    assert_eq!(bad(r#"{"code":1,"version":"2.0"}"#), CodecError::MissingField);
    assert_eq!(bad(&full("MD5", "zxnchksmichasncjdchjcdn", "/v/1", "2.0")), CodecError::BadDigest);
    assert_eq!(bad(&full("CRC32", MD5, "/v/1", "2.0")), CodecError::UnsupportedSignMethod);
    assert_eq!(bad(&full("MD5", MD5, "version/1", "2.0")), CodecError::BadUrl);
    assert_eq!(bad(&full("MD5", MD5, "", "2.0")), CodecError::MissingField);
    assert_eq!(bad(&full("MD5", MD5, "/v/1", &"9".repeat(33))), CodecError::BadVersion);
    assert_eq!(CodecError::BadUrl.cause(), FailureCause::InvalidUri);
    // An invalid JSON escape makes the whole answer malformed (the body is checked as one
    // JSON document before it is read).
    assert_eq!(bad(&full("MD5", MD5, "/v/\\q", "2.0")), CodecError::Malformed);
    let body = full("MD5", MD5, &format!("/{}", "x".repeat(80)), "2.0");
    let CheckVersionAnswer::Update(u) = decode_check_version_answer(body.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(u.to_offer::<64>(0).unwrap_err(), CodecError::BadUrl);
    // Regression (found by the `edge_check_version` fuzz target): the four characters after
    // `\u` were collected into a 4-byte string, which panics on multi-byte characters. Such
    // answers are now refused as malformed JSON; `to_offer` still takes them without a panic.
    for url in [r"/:\uў\\\79", r"/\u𐍈𐍈𐍈𐍈", r"/\u00e9ѐ", r"/v/\q"] {
        let body = full("MD5", MD5, url, "2.0");
        let decoded = decode_check_version_answer(body.as_bytes());
        if url.ends_with('ѐ') {
            assert!(matches!(decoded, Ok(CheckVersionAnswer::Update(_))), "{url}");
        } else {
            assert_eq!(decoded, Err(CodecError::Malformed), "{url}");
        }
        let u = EdgeUpdate {
            asset_id: "",
            version: crate::Version::parse("2.0").unwrap(),
            digest: crate::Digest::md5_hex(MD5).unwrap(),
            download_url: url,
            size: None,
        };
        let offer = u.to_offer::<64>(0);
        if url.ends_with('ѐ') {
            assert_eq!(offer.unwrap().location.as_str(), "/éѐ");
        } else {
            assert_eq!(offer.unwrap_err(), CodecError::BadUrl, "{url}");
        }
    }
}

#[test]
fn reports_exact() {
    assert_eq!(
        enc(|o| encode_download_result(
            &DownloadResult::failure("ZR3c5CfFSO", FailureCause::IntegrityCheckFailure),
            o
        )),
        r#"{"assetId":"ZR3c5CfFSO","code":0,"message":"integrity check failure"}"#
    );
    assert_eq!(
        enc(|o| encode_update_result(&UpdateResult::in_progress("999999", 60), o)),
        r#"{"assetId":"999999","version":"","desc":"updating","flag":1,"process":60,"errcode":0}"#
    );
    let failed = UpdateResult::failed("999999", "v1.0.0.3", FailureCause::IntegrityCheckFailure);
    let text = enc(|o| encode_update_result(&failed, o));
    assert_eq!(
        text,
        r#"{"assetId":"999999","version":"v1.0.0.3","desc":"integrity check failure","flag":0,"process":0,"errcode":-3}"#
    );
    assert_eq!(decode_update_result(text.as_bytes()), Ok(failed));
    let over = UpdateResult { process: 250, ..UpdateResult::in_progress("a", 0) };
    assert!(enc(|o| encode_update_result(&over, o)).contains(r#""process":100"#));
}

#[test]
fn lenient_report_decoding() {
    let r = decode_update_result(br#"{"assetId":"a","flag":0,"process":0,"errcode":"-7","x":1}"#).unwrap();
    assert_eq!((r.flag, r.errcode, r.version), (UpdateFlag::Failed, -7, ""));
    let r = decode_update_result(br#"{"flag":2,"process":100}"#).unwrap();
    assert_eq!((r.flag, r.errcode), (UpdateFlag::Done, 0));
    assert_eq!(decode_update_result(br#"{"flag":9,"process":0}"#), Err(CodecError::UnknownCode));
    assert_eq!(decode_update_result(br#"{"flag":1}"#), Err(CodecError::MissingField));
    assert_eq!(decode_update_result(br#"{"flag":1,"process":300}"#), Err(CodecError::Malformed));
    let d = decode_download_result(br#"{"assetId":"a","code":"1","message":"download success"}"#).unwrap();
    assert_eq!((d.code, d.message), (1, "download success"));
}

#[test]
fn status_answers() {
    let a = decode_status_answer(br#"{"httpstatus":204,"message":"ok","extra":"x"}"#).unwrap();
    assert!(a.accepted(200));
    let a = decode_status_answer(br#"{"message":"only"}"#).unwrap();
    assert_eq!(a.httpstatus, None);
    assert!(!a.accepted(500));
    for status in [400, 404, 406, 500] {
        let body = enc(|o| encode_status_answer(status, "unsupported url", o));
        let a = decode_status_answer(body.as_bytes()).unwrap();
        assert_eq!((a.httpstatus, a.accepted(200)), (Some(status), false));
    }
    assert_eq!(decode_status_answer(br#"{"httpstatus":70000}"#), Err(CodecError::Malformed));
    assert_eq!(decode_status_answer(b"<html>"), Err(CodecError::Malformed));
}

proptest::proptest! {
    #[test]
    fn arbitrary_answers_never_panic(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
        let _ = decode_check_version_answer(&raw);
        let _ = decode_status_answer(&raw);
        let _ = decode_update_result(&raw);
        let _ = decode_download_result(&raw);
        let _ = decode_check_version(&raw);
    }
}

/// The attack: a checkversion answer that names `version`, `sign`, `signMethod` or
/// `downloadurl` twice, plainly or through an escape (`serde-json-core` alone keeps the
/// first of two fields it does not know, and reads `"s\u0069gn"` as another field). Refused.
#[test]
fn an_answer_with_a_repeated_key_is_refused() {
    let answer = format!(
        r#"{{"assetId":"a","version":"2.0","code":1,"signMethod":"MD5","sign":"{MD5}","downloadurl":"/version/1"}}"#
    );
    assert!(matches!(decode_check_version_answer(answer.as_bytes()), Ok(CheckVersionAnswer::Update(_))));
    let other = "f".repeat(32);
    for (find, twice) in [
        (r#""version":"#, r#""version":"9.9","version":"#.to_owned()),
        (r#""version":"#, r#""versio\u006E":"9.9","version":"#.to_owned()),
        (r#""sign":"#, format!(r#""sign":"{other}","sign":"#)),
        (r#""sign":"#, format!(r#""s\u0069gn":"{other}","sign":"#)),
        (r#""signMethod":"#, r#""signMethod":"SHA256","signMethod":"#.to_owned()),
        (r#""downloadurl":"#, r#""downloadurl":"http://evil/x","downloadurl":"#.to_owned()),
        (r#""downloadurl":"#, r#""download\u0075rl":"http://evil/x","downloadurl":"#.to_owned()),
        (r#""code":"#, r#""code":0,"code":"#.to_owned()),
        (r#""assetId":"#, r#""assetId":"b","assetId":"#.to_owned()),
    ] {
        let attack = answer.replacen(find, &twice, 1);
        assert_ne!(attack, answer);
        assert_eq!(decode_check_version_answer(attack.as_bytes()), Err(CodecError::DuplicateKey), "{attack}");
    }
    let nested = answer.replace(r#""code":1"#, r#""code":1,"x":{"y":1,"y":2}"#);
    assert_eq!(decode_check_version_answer(nested.as_bytes()), Err(CodecError::DuplicateKey));
    assert_eq!(CodecError::DuplicateKey.cause(), FailureCause::InvalidOffer);
    // The other decoders refuse them too.
    assert_eq!(
        decode_status_answer(br#"{"httpstatus":204,"httpstatus":500}"#),
        Err(CodecError::DuplicateKey)
    );
    assert_eq!(
        decode_check_version(br#"{"assetId":"a","version":"1","\u0076ersion":"2"}"#).map(|_| ()),
        Err(CodecError::DuplicateKey)
    );
}
