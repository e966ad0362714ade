//! The duplicate-key attack against every platform flow: an offer whose JSON names a key
//! twice (`version`, the digest, the URL; plainly or through an escape) is never handed to
//! the Agent, and the platform is still told it failed, named by the message's first
//! `version` (Tencent, Huawei IoTDA) or request `id` (EnOS cloud).

use ota_client::platform::flow::{Dialect, EnosDialect, HuaweiDialect, Inbound, TencentDialect};
use ota_client::{FailureCause, Version};

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

/// Doubles the first occurrence of `find` in `doc` as `twice`; the result must differ.
fn attack(doc: &str, find: &str, twice: &str) -> String {
    let out = doc.replacen(find, twice, 1);
    assert_ne!(out, doc, "{find} not in {doc}");
    out
}

#[test]
fn tencent_answers_a_repeated_key_offer_with_a_failure() {
    const DOWN: &str = "$ota/update/P/d";
    let mut d = TencentDialect::new("P", "d").unwrap();
    let offer = r#"{"type":"update_firmware","file_size":10,"md5sum":"36eb5951179db14a63aaaaa37a9322a2","url":"https://a/fw.bin","version":"0.2"}"#;
    let decode = |d: &mut TencentDialect, m: &str| Dialect::<256>::decode(d, DOWN, m.as_bytes(), &v("0.1"));
    assert!(matches!(decode(&mut d, offer), Inbound::Offer(_)));
    let refused = Inbound::Unusable { version: v("0.2"), cause: FailureCause::InvalidOffer };
    for (find, twice) in [
        (r#""version":"0.2""#, r#""version":"0.2","version":"9.9""#),
        (r#""version":"0.2""#, r#""version":"0.2","ver\u0073ion":"9.9""#),
        (r#""md5sum":"#, r#""md5sum":"ffffffffffffffffffffffffffffffff","md5sum":"#),
        (r#""md5sum":"#, r#""md5\u0073um":"ffffffffffffffffffffffffffffffff","md5sum":"#),
        (r#""url":"#, r#""url":"https://evil/fw.bin","url":"#),
        (r#""url":"#, r#""\u0075rl":"https://evil/fw.bin","url":"#),
    ] {
        let m = attack(offer, find, twice);
        assert_eq!(decode(&mut d, &m), refused, "{m}");
    }
    // When the version itself comes first in its second spelling, that one names the failure.
    let m = attack(offer, r#""version":"0.2""#, r#""ver\u0073ion":"9.9","version":"0.2""#);
    assert_eq!(
        decode(&mut d, &m),
        Inbound::Unusable { version: v("9.9"), cause: FailureCause::InvalidOffer }
    );
}

#[test]
fn huawei_answers_a_repeated_key_upgrade_with_a_failure() {
    let down = "$oc/devices/dev-1/sys/events/down";
    let mut d = HuaweiDialect::new("dev-1").unwrap();
    let sign = "ab".repeat(32);
    let upgrade = format!(
        r#"{{"object_device_id":"dev-1","services":[{{"service_id":"$ota","event_type":"firmware_upgrade","paras":{{"version":"v2.0","url":"https://h/fw.bin","file_size":10,"access_token":"t","expires":60,"sign":"{sign}"}}}}]}}"#
    );
    let decode = |d: &mut HuaweiDialect, m: &str| Dialect::<512>::decode(d, down, m.as_bytes(), &v("1.0.0"));
    assert!(matches!(decode(&mut d, &upgrade), Inbound::Offer(_)));
    let refused = Inbound::Unusable { version: v("v2.0"), cause: FailureCause::InvalidOffer };
    let other = "cd".repeat(32);
    for (find, twice) in [
        (r#""version":"v2.0""#, r#""version":"v2.0","version":"v9""#.to_owned()),
        (r#""version":"v2.0""#, r#""version":"v2.0","versio\u006E":"v9""#.to_owned()),
        (r#""sign":"#, format!(r#""sign":"{other}","sign":"#)),
        (r#""sign":"#, format!(r#""si\u0067n":"{other}","sign":"#)),
        (r#""url":"#, r#""url":"https://evil/x","url":"#.to_owned()),
        (r#""url":"#, r#""ur\u006c":"https://evil/x","url":"#.to_owned()),
        (r#""access_token":"#, r#""access_token":"x","access_token":"#.to_owned()),
    ] {
        let m = attack(&upgrade, find, &twice);
        assert_eq!(decode(&mut d, &m), refused, "{m}");
    }
    // Another device's message stays another device's, repeated keys or not.
    let m = upgrade.replace(r#""object_device_id":"dev-1""#, r#""object_device_id":"child""#);
    let m = attack(&m, r#""sign":"#, &format!(r#""sign":"{other}","sign":"#));
    assert_eq!(decode(&mut d, &m), Inbound::Ignore);
}

#[test]
fn enos_answers_a_repeated_key_upgrade_with_400() {
    let up = "/sys/pk1/dk1/ota/device/upgrade";
    let upgrade = r#"{"id":"123","version":"1.0","method":"ota.device.upgrade","params":{"version":"1.2.0","sign":"9a0364b9e99bb480dd25e1f0284c8555","signMethod":"md5","fileUrl":"https://enos.example/fw.bin","fileSize":524288}}"#;
    {
        let mut d = EnosDialect::new("pk1", "dk1").unwrap();
        assert!(matches!(
            Dialect::<128>::decode(&mut d, up, upgrade.as_bytes(), &v("1.0")),
            Inbound::Offer(_)
        ));
    }
    for (find, twice) in [
        (r#""version":"1.2.0""#, r#""version":"1.2.0","version":"9.9.9""#),
        (r#""version":"1.2.0""#, r#""version":"1.2.0","v\u0065rsion":"9.9.9""#),
        (r#""sign":"#, r#""sign":"ffffffffffffffffffffffffffffffff","sign":"#),
        (r#""sign":"#, r#""\u0073ign":"ffffffffffffffffffffffffffffffff","sign":"#),
        (r#""fileUrl":"#, r#""fileUrl":"https://evil/x","fileUrl":"#),
        (r#""fileUrl":"#, r#""fileUr\u006c":"https://evil/x","fileUrl":"#),
    ] {
        let m = attack(upgrade, find, twice);
        let mut d = EnosDialect::new("pk1", "dk1").unwrap();
        assert_eq!(Dialect::<128>::decode(&mut d, up, m.as_bytes(), &v("1.0")), Inbound::Ignore, "{m}");
        let (mut topic, mut out) = ([0u8; 128], [0u8; 128]);
        let (t, n) = Dialect::<128>::next_request(&mut d, &mut topic, &mut out).expect("an answer");
        assert_eq!(&topic[..t], b"/sys/pk1/dk1/ota/device/upgrade_reply");
        assert_eq!(&out[..n], br#"{"id":"123","code":400,"data":{}}"#, "{m}");
    }
}
