//! checkversion: the exchange, the judgement of an update answer, the size probe and the
//! offer to the Agent.

use super::super::codec::{
    CheckVersion, CheckVersionAnswer, EdgeUpdate, decode_check_version_answer, download_id,
    encode_check_version,
};
use super::super::config::{ID_LEN, UpgradeMode};
use super::{ANSWER_LEN, BODY_LEN, EdgeDevice, EdgeError, EdgeEvent, Firmware, LocalFailure, URL_LEN};
use crate::agent::{Application, OfferOutcome};
use crate::flash::Storage;
use crate::transport::http::HttpTransport;
use crate::transport::{ChunkSource, SourceError};
use crate::{FailureCause, Offer};

impl<T: HttpTransport, S: Storage, A: Application, const K: usize, const L: usize, const N: usize>
    EdgeDevice<T, S, A, K, L, N>
{
    /// One checkversion exchange; an update goes on to [`Self::consider`].
    pub(super) fn check(&mut self, now_ms: u64) -> EdgeEvent {
        self.stats.checks = self.stats.checks.saturating_add(1);
        let mut url: heapless::String<URL_LEN> = heapless::String::new();
        if let Err(e) = self.config.endpoints.check_version_url(&mut url) {
            return EdgeEvent::CheckFailed(EdgeError::Endpoint(e));
        }
        let mut body = [0u8; BODY_LEN];
        let request = CheckVersion {
            asset_id: &self.config.asset_id,
            version: self.agent.running().as_str(),
            serial_num: &self.config.serial_num,
        };
        let n = match encode_check_version(&request, &mut body) {
            Ok(n) => n,
            Err(e) => return EdgeEvent::CheckFailed(EdgeError::Codec(e)),
        };
        let mut answer = [0u8; ANSWER_LEN];
        let (status, len) =
            match self.source.transport_mut().post_json(&url, body.get(..n).unwrap_or(&[]), &mut answer) {
                Ok(x) => x,
                Err(e) => return EdgeEvent::CheckFailed(EdgeError::Http(e)),
            };
        if !(200..300).contains(&status) {
            return EdgeEvent::CheckFailed(EdgeError::Status(status));
        }
        let answer = answer.get(..len).unwrap_or(&[]);
        if self.config.asset_id.is_empty()
            && let Some(named) = answer_asset_id(answer)
        {
            self.learned_asset_id.clear();
            // An id longer than ID_LEN is not kept: reports then wait for a usable one.
            let _ = self.learned_asset_id.push_str(named);
        }
        match decode_check_version_answer(answer) {
            Ok(CheckVersionAnswer::NoUpdate) => EdgeEvent::NoUpdate,
            Ok(CheckVersionAnswer::Update(update)) => self.consider(&update, now_ms),
            Err(e) => match answer_version(answer) {
                // An update answer the flow cannot use: tell the Edge why (once).
                Some(version) => self.bad_offer(Firmware::new(version, None), e.cause(), now_ms),
                None => EdgeEvent::CheckFailed(EdgeError::Codec(e)),
            },
        }
    }

    /// Queues a failure report for an update the Agent never saw (once per firmware).
    fn bad_offer(&mut self, firmware: Firmware, cause: FailureCause, now_ms: u64) -> EdgeEvent {
        if self.is_refused(&firmware, now_ms) {
            return EdgeEvent::Ignored;
        }
        self.local = Some(LocalFailure { version: firmware.version.clone(), cause });
        self.refuse(firmware, now_ms);
        EdgeEvent::BadOffer(cause)
    }

    /// An update answer: resolve the url, learn the size, offer it to the Agent.
    fn consider(&mut self, update: &EdgeUpdate<'_>, now_ms: u64) -> EdgeEvent {
        let firmware = Firmware::new(update.version.as_str(), Some(update.digest));
        if self.staged.as_ref().is_some_and(|v| *v == firmware.version) || self.is_refused(&firmware, now_ms)
        {
            return EdgeEvent::Ignored;
        }
        let mut offer: Offer<L> = match update.to_offer(0) {
            Ok(o) => o,
            Err(e) => return self.bad_offer(firmware, e.cause(), now_ms),
        };
        let mut url: heapless::String<L> = heapless::String::new();
        if self.config.endpoints.download_url(&offer.location, &mut url).is_err() {
            return self.bad_offer(firmware, FailureCause::InvalidUri, now_ms);
        }
        let mut id: heapless::String<ID_LEN> = heapless::String::new();
        if id.push_str(download_id(&url)).is_err() {
            id.clear();
        }
        self.held = None;
        self.source.set_url(url.clone());
        // The answer's own size first, then a checkpoint of the same firmware, then the probe.
        let size = match update.size.or_else(|| self.agent.checkpoint_of(&offer).map(|c| c.size)) {
            Some(size) => size,
            None => match self.probe() {
                Ok(size) => size,
                Err(e) if e.is_transient() => return EdgeEvent::CheckFailed(EdgeError::Probe(e)),
                Err(e) => return self.bad_offer(firmware, e.cause(), now_ms),
            },
        };
        offer.size = size;
        offer.location = url;
        // Every report of this update carries the download id, so its downloadresult reaches
        // the right URL even after a reboot.
        offer.job = id.clone();
        let outcome = match self.config.mode {
            UpgradeMode::ForcedPush => self.agent.offer_forced(offer, now_ms),
            UpgradeMode::UponRequest => self.agent.offer(offer, now_ms),
        };
        match outcome {
            OfferOutcome::Accepted => {
                self.current = Some((firmware, id));
                self.last_progress = None;
            }
            OfferOutcome::Deferred => {
                // The probe's answer would go stale while waiting.
                self.current = Some((firmware, id));
                self.last_progress = None;
                self.held = None;
                self.source.reset();
            }
            OfferOutcome::Duplicate => {}
            OfferOutcome::Refused(_) => {
                self.refuse(firmware, now_ms);
                self.held = None;
                self.source.reset();
            }
        }
        EdgeEvent::Offered(outcome)
    }

    /// Fetches the image's first byte; the answer tells the size.
    fn probe(&mut self) -> Result<u32, SourceError> {
        self.stats.probes = self.stats.probes.saturating_add(1);
        let mut first = [0u8; 1];
        // At offset 0 the source answers at once (it only blocks while skipping to an
        // offset); a few tries bound the loop anyway.
        let mut result = Err(nb::Error::WouldBlock);
        for _ in 0..4 {
            result = self.source.fetch(0, &mut first);
            if !matches!(result, Err(nb::Error::WouldBlock)) {
                break;
            }
        }
        match result {
            Ok(1) => {}
            Ok(_) | Err(nb::Error::WouldBlock) => return Err(SourceError::Protocol),
            Err(nb::Error::Other(e)) => return Err(e),
        }
        let Some(total) = self.source.total_size() else {
            // A chunked answer without a size: the offer cannot be judged.
            self.source.reset();
            return Err(SourceError::InvalidLocation);
        };
        self.held = first.first().copied();
        u32::try_from(total).map_err(|_| SourceError::InvalidLocation)
    }
}

/// The `assetId` a checkversion answer names (either code), when it is a plain non-empty
/// text (no JSON escapes: an id with escapes is not taken rather than taken wrong). An answer
/// in which an object repeats a key teaches nothing: which of two ids it names is ambiguous.
fn answer_asset_id(answer: &[u8]) -> Option<&str> {
    use crate::platform::json::{Value, parse_object};
    match parse_object(answer).ok()?.get("assetId")? {
        Value::Str(id) => Some(id.trim()).filter(|a| !a.is_empty() && !a.contains('\\')),
        _ => None,
    }
}

/// The `version` of an answer that did not decode as an update, when it says `code` 1 (as
/// a number or a string) and has a version at all (a JSON string, escapes left in). An
/// answer refused for a repeated key (`CodecError::DuplicateKey`) still names its version
/// here, the first `version` (and `code`) counting: the name only marks the refused
/// firmware, and the Edge hears the failure.
fn answer_version(answer: &[u8]) -> Option<&str> {
    use crate::platform::json::{Value, parse_object_with_duplicates};
    let obj = parse_object_with_duplicates(answer).ok()?;
    if obj.get("code")?.int()? != 1 {
        return None;
    }
    match obj.get("version")? {
        Value::Str(version) => Some(version.trim()).filter(|v| !v.is_empty()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{answer_asset_id, answer_version};

    #[test]
    fn answer_asset_id_from_either_answer() {
        // Seed 000's two answers name the asset.
        let none = br#"{"assetId":"ZR3c5CfFSO","version":"1.0.0","code":0,"desc":"no update","signMethod":"","sign":"","downloadurl":""}"#;
        assert_eq!(answer_asset_id(none), Some("ZR3c5CfFSO"));
        let has = br#"{"assetId":"999999","version":"v2.0.0.1","code":1,"desc":"has update","signMethod":"MD5","sign":"zxnchksmichasncjdchjcdn","downloadurl":"/version/15912345678"}"#;
        assert_eq!(answer_asset_id(has), Some("999999"));
        assert_eq!(answer_asset_id(br#"{"assetId":"","code":0}"#), None);
        assert_eq!(answer_asset_id(br#"{"assetId":"a"b","code":0}"#), None);
        assert_eq!(answer_asset_id(br#"{"code":0}"#), None);
        assert_eq!(answer_asset_id(b"{"), None);
    }

    #[test]
    fn answer_version_only_for_code_one() {
        let bad = br#"{"assetId":"a","version":"2.0","code":1,"sign":"zz"}"#;
        assert_eq!(answer_version(bad), Some("2.0"));
        assert_eq!(answer_version(br#"{"version":" 2.0 ","code" : "1"}"#), Some("2.0"));
        assert_eq!(answer_version(br#"{"version":"2.0","code":0}"#), None);
        assert_eq!(answer_version(br#"{"version":"2.0","code":12}"#), None);
        assert_eq!(answer_version(br#"{"version":"","code":1}"#), None);
        assert_eq!(answer_version(br#"{"code":1}"#), None);
        assert_eq!(answer_version(b"not json"), None);
        // An answer refused for a repeated key still names its (first) version.
        let twice = br#"{"version":"2.0","code":1,"sign":"a","sign":"b"}"#;
        assert_eq!(answer_version(twice), Some("2.0"));
        assert_eq!(answer_version(br#"{"version":"2.0","ver\u0073ion":"3.0","code":1}"#), Some("2.0"));
        assert_eq!(answer_version(br#"{"code":1,"version":"3.0","version":"2.0"}"#), Some("3.0"));
    }

    #[test]
    fn an_ambiguous_answer_teaches_no_asset_id() {
        assert_eq!(answer_asset_id(br#"{"assetId":"a","assetId":"b","code":0}"#), None);
        assert_eq!(answer_asset_id(br#"{"assetId":"a","asset\u0049d":"b","code":0}"#), None);
        assert_eq!(answer_asset_id(br#"{"assetId":"a","x":{"k":1,"k":1},"code":0}"#), None);
        assert_eq!(answer_asset_id(br#"{"assetId":"a","code":0}"#), Some("a"));
    }

    proptest::proptest! {
        #[test]
        fn answer_version_never_panics(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = answer_version(&raw);
        }
    }
}
