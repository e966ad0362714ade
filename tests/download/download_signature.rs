//! Signed images (`image::signature`): the engine verifies the signed manifest while the
//! image streams in. A signed image downloads, verifies and stages; a flipped bit in the body
//! or the signature, an unknown or wrong key id, a truncated or missing trailer are refused
//! under `SignaturePolicy::Required` and nothing is staged; `SignaturePolicy::Unsigned` ignores
//! trailers; a power cut at every flash operation of a signed download (cuts inside the
//! trailer included) resumes, completes and verifies after the reboot.

use crate::download_rig;

use download_rig::*;
use ota_client::agent::{Agent, AgentConfig, AgentEvent, OfferOutcome};
use ota_client::boot::{Layout, Phase, Strategy};
use ota_client::download::{Download, DownloadConfig};
use ota_client::flash::{Journal, OneFlash, Partition};
use ota_client::image::signature::{SignatureError, TRAILER_LEN, TrailerError};
use ota_client::image::{SignaturePolicy, TrustedKey, verify_image};
use ota_client::mock::{ChunkServer, ManualClock, SimFlash, manifest, power_sweep, public_key, sign_image};
use ota_client::{FailureCause, Offer, Version};
use std::cell::Cell;
use std::sync::OnceLock;

/// Deterministic test keys: secret seeds, and the ids the device trusts them under.
const SECRET_1: [u8; 32] = [0x11; 32];
const SECRET_2: [u8; 32] = [0x22; 32];
const UNTRUSTED: [u8; 32] = [0x33; 32];

fn keys() -> &'static [TrustedKey] {
    static KEYS: OnceLock<[TrustedKey; 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        [
            TrustedKey { id: 1, public_key: public_key(&SECRET_1) },
            TrustedKey { id: 2, public_key: public_key(&SECRET_2) },
        ]
    })
}

fn cfg(signature: SignaturePolicy, interval: u32) -> DownloadConfig {
    DownloadConfig {
        checkpoint_interval: interval,
        retry_base_ms: 1,
        retry_cap_ms: 4,
        signature,
        ..DownloadConfig::new(ota_client::image::SignaturePolicy::Unsigned)
    }
}

/// The product id the test device is.
const PRODUCT: u32 = 0x0A11;

fn required() -> SignaturePolicy {
    SignaturePolicy::Required { keys: keys(), product: PRODUCT }
}

/// `body` signed for version 2.0.0 of [`PRODUCT`] with counter 1.
fn signed(body: &[u8], secret: &[u8; 32], key_id: u8) -> Vec<u8> {
    sign_image(body, &manifest("2.0.0", 1, PRODUCT), secret, key_id)
}

/// The key id that signed, when the engine verified a signature.
fn signer(done: &ota_client::download::VerifiedImage) -> Option<u8> {
    done.signed.as_ref().map(|t| t.key_id)
}

/// A body whose signed image is `5 * SECTOR + 40` bytes: a sector boundary falls inside the
/// trailer, so a resume can start inside it.
fn body() -> Vec<u8> {
    image(5 * SECTOR + 40 - TRAILER_LEN, 0x5167)
}

/// Downloads `img` (offered with its own MD5 and SHA-256) into slot B of a fresh flash.
fn download<const W: usize>(
    flash: &mut SimFlash<W, SECTOR>,
    img: &[u8],
    offer: &Offer,
    cfg: DownloadConfig,
    chunk: usize,
    high_water: u32,
) -> (Result<ota_client::download::VerifiedImage, FailureCause>, ChunkServer, Download) {
    let part = state_part(flash);
    let tgt = target(flash);
    let mut server = ChunkServer::new(img.to_vec()).with_high_water(high_water);
    let mut dl = Download::new(offer, tgt, cfg);
    let mut storage = OneFlash(&mut *flash);
    let Ok(mut journal) = Journal::<8>::open(storage.0, part) else {
        return (Err(FailureCause::UpdateFailed), server, dl);
    };
    let mut buf = vec![0u8; chunk];
    let r = drive(&mut dl, &mut storage, &mut journal, &mut server, &mut buf, &ManualClock::new(), 1);
    (r, server, dl)
}

fn has_checkpoint<const W: usize>(flash: &mut SimFlash<W, SECTOR>) -> bool {
    let part = state_part(flash);
    let journal = Journal::<8>::open(&mut *flash, part).unwrap();
    checkpoint(&journal, flash).is_some()
}

#[test]
fn signed_image_downloads_and_verifies_with_either_trusted_key() {
    for (secret, id) in [(SECRET_1, 1u8), (SECRET_2, 2)] {
        let img = signed(&body(), &secret, id);
        let mut flash = fresh_flash::<4>(0xFF);
        let (r, server, dl) = download(&mut flash, &img, &offer("2.0.0", &img), cfg(required(), 0), 96, 0);
        let done = r.expect("signed image accepted");
        assert_eq!(signer(&done), Some(id));
        assert_eq!(done.size as usize, img.len());
        assert_eq!(slot_b(&flash, img.len()), img.as_slice(), "the trailer is written with the image");
        assert_eq!(server.stats().served, img.len() as u64, "one pass over the network");
        assert_eq!(dl.rehashed_bytes(), 0, "no second pass over the slot");
        assert_eq!(slot_a(&flash), active_pattern().as_slice());
    }
}

/// Each tampered image, with what `verify_image` says about it (so each case is refused for
/// the reason it was built for).
fn tampered() -> Vec<(&'static str, Vec<u8>, SignatureError)> {
    let body = body();
    let good = signed(&body, &SECRET_1, 1);
    let n = good.len();
    let mut body_bit = good.clone();
    body_bit[1234] ^= 0x08;
    let mut sig_bit = good.clone();
    sig_bit[n - 1] ^= 0x01;
    let mut truncated = good.clone();
    truncated.truncate(n - 10);
    vec![
        ("flipped bit in the body", body_bit, SignatureError::BadSignature),
        ("flipped bit in the signature", sig_bit, SignatureError::BadSignature),
        ("unknown key id", signed(&body, &SECRET_1, 9), SignatureError::UnknownKey),
        ("key id of another trusted key", signed(&body, &SECRET_1, 2), SignatureError::BadSignature),
        ("signed by an untrusted key", signed(&body, &UNTRUSTED, 1), SignatureError::BadSignature),
        ("truncated trailer", truncated, SignatureError::Trailer(TrailerError::Magic)),
        (
            "signed for another product",
            sign_image(&body, &manifest("2.0.0", 1, PRODUCT + 1), &SECRET_1, 1),
            SignatureError::Product { manifest: PRODUCT + 1 },
        ),
        ("no trailer", body.clone(), SignatureError::Trailer(TrailerError::Magic)),
        (
            "trailer of a longer body",
            {
                let mut other = signed(&[&body[..], &[0u8; 8]].concat(), &SECRET_1, 1);
                other.drain(body.len()..body.len() + 8);
                other
            },
            SignatureError::BodyLength,
        ),
    ]
}

#[test]
fn tampered_images_are_refused_under_required_and_nothing_is_kept() {
    for (name, img, reason) in tampered() {
        assert_eq!(verify_image(keys(), PRODUCT, &img).map(|t| t.key_id), Err(reason), "{name}");
        for chunk in [96, 7] {
            let mut flash = fresh_flash::<4>(0xFF);
            // The offer describes the bytes served (whoever tampered with the image wrote the
            // offer too): MD5 and SHA-256 pass, only the signature can refuse it.
            let (r, _, dl) = download(&mut flash, &img, &offer("2.0.0", &img), cfg(required(), 0), chunk, 0);
            assert_eq!(r, Err(FailureCause::IntegrityCheckFailure), "{name}, chunk {chunk}");
            assert_eq!(dl.restarts(), 0, "{name}: a whole fetch is not retried");
            assert!(!has_checkpoint(&mut flash), "{name}: the checkpoint is removed");
        }
    }
}

#[test]
fn policy_none_ignores_trailers() {
    for (name, img, _) in tampered() {
        let mut flash = fresh_flash::<4>(0xFF);
        let (r, _, _) =
            download(&mut flash, &img, &offer("2.0.0", &img), cfg(SignaturePolicy::Unsigned, 0), 96, 0);
        let done = r.unwrap_or_else(|c| panic!("{name}: {c:?}"));
        assert_eq!(signer(&done), None);
        assert_eq!(slot_b(&flash, img.len()), img.as_slice());
    }
}

#[test]
fn required_refuses_an_image_too_short_for_a_trailer_before_fetching() {
    let img = image(TRAILER_LEN, 1);
    let mut flash = fresh_flash::<4>(0xFF);
    let (r, server, _) = download(&mut flash, &img, &offer("2.0.0", &img), cfg(required(), 0), 96, 0);
    assert_eq!(r, Err(FailureCause::IntegrityCheckFailure));
    assert_eq!(server.stats().fetches, 0);
    assert_eq!(flash.stats().erases.iter().sum::<u32>(), 0, "nothing erased");
}

/// A transport-checked offer (no digest, Huawei PCP) has only its size checked: the
/// signature is then the one content check, and it catches a flipped bit.
#[test]
fn signature_is_the_content_check_of_a_transport_checked_offer() {
    let good = signed(&body(), &SECRET_2, 2);
    let mut bad = good.clone();
    bad[77] ^= 0x80;
    for (img, ok) in [(good, true), (bad, false)] {
        let offer = Offer::transport_checked(Version::parse("2.0.0").unwrap(), img.len() as u32, 42);
        let mut flash = fresh_flash::<8>(0x00);
        let (r, _, _) = download(&mut flash, &img, &offer, cfg(required(), 0), 64, 0);
        assert_eq!(
            r.map(|d| signer(&d)),
            if ok { Ok(Some(2)) } else { Err(FailureCause::IntegrityCheckFailure) }
        );
    }
}

/// After a completed download and a reboot before staging, the engine re-reads the slot and
/// verifies the signature again from flash, fetching nothing.
#[test]
fn reboot_after_download_verifies_again_from_flash() {
    let img = signed(&body(), &SECRET_1, 1);
    let mut flash = fresh_flash::<4>(0xFF);
    let (r, _, _) = download(&mut flash, &img, &offer("2.0.0", &img), cfg(required(), 0), 96, 0);
    r.unwrap();
    let (r, server, dl) = download(&mut flash, &img, &offer("2.0.0", &img), cfg(required(), 0), 96, 0);
    assert_eq!(signer(&r.unwrap()), Some(1));
    assert_eq!(server.stats().fetches, 0);
    assert_eq!(dl.rehashed_bytes(), img.len() as u64);
    assert_eq!(dl.restarts(), 0);
    // A trailer damaged on flash since then is caught.
    let at = B_AT as usize + img.len() - 5;
    flash.contents_mut()[at] ^= 0x10;
    let (r, _, _) = download(&mut flash, &img, &offer("2.0.0", &img), cfg(required(), 0), 96, 0);
    // The damaged bytes fail the offer's digests first; the engine restarts once from a
    // fresh fetch, which is good.
    assert_eq!(signer(&r.unwrap()), Some(1));
}

#[derive(Default)]
struct Model {
    high_water: u32,
}

/// A power cut at every flash operation (before, torn, after) of a signed download; after the
/// reboot a fresh engine resumes, completes and verifies the signature.
fn sweep<const W: usize>(erased: u8, chunk: usize, interval: u32) -> (u64, u64) {
    let img = signed(&body(), &SECRET_1, 1);
    let trailer_at = (img.len() - TRAILER_LEN) as u32;
    let offer = offer("3.0.0", &img);
    let resumed = Cell::new(0u64);
    let in_trailer = Cell::new(0u64);
    let report = power_sweep(
        &format!("signed download W={W} erased={erased:#04x} chunk={chunk} interval={interval}"),
        || fresh_flash::<W>(erased),
        |flash, model: &mut Model| {
            let (_, server, _) = download(flash, &img, &offer, cfg(required(), interval), chunk, 0);
            model.high_water = server.stats().high_water;
        },
        |flash, model| {
            let (r, _, dl) =
                download(flash, &img, &offer, cfg(required(), interval), chunk, model.high_water);
            let done = r.map_err(|c| format!("resumed signed download failed: {c:?}"))?;
            if signer(&done) != Some(1) {
                return Err("signature not verified".into());
            }
            if slot_b(flash, img.len()) != img.as_slice() {
                return Err("slot is not bit-exact".into());
            }
            if slot_a(flash) != active_pattern().as_slice() {
                return Err("active slot changed".into());
            }
            if dl.restarts() != 0 {
                return Err("the resumed download started over: resume lost the trailer".into());
            }
            let from = dl.resumed_from();
            if from > 0 {
                resumed.set(resumed.get() + 1);
            }
            if from > trailer_at && from < img.len() as u32 {
                in_trailer.set(in_trailer.get() + 1);
            }
            Ok(())
        },
    );
    println!(
        "{}; {} resumed from a checkpoint, {} of them inside the trailer",
        report.summary(),
        resumed.get(),
        in_trailer.get()
    );
    report.assert_clean();
    assert!(resumed.get() > 0, "no scenario resumed");
    assert!(in_trailer.get() > 0, "no scenario resumed inside the trailer");
    (report.scenarios as u64, in_trailer.get())
}

#[test]
fn power_cut_at_every_flash_operation_of_a_signed_download() {
    let mut scenarios = 0;
    let mut in_trailer = 0;
    // Checkpoints every 32 bytes: several inside the 128-byte trailer.
    for (s, t) in [sweep::<4>(0xFF, 24, 32), sweep::<1>(0x00, 50, 16)] {
        scenarios += s;
        in_trailer += t;
    }
    // Default interval (one sector): the sector boundary inside the trailer is a checkpoint.
    for (s, t) in [sweep::<8>(0xFF, 96, 0), sweep::<16>(0x00, 13, 0)] {
        scenarios += s;
        in_trailer += t;
    }
    println!(
        "signed download power sweeps: {scenarios} scenarios, 0 failures, {in_trailer} resumed inside the trailer"
    );
}

// ---- The Agent: a signature policy in AgentConfig decides what is staged. ----

const E: u32 = 4096;
type AgentFlash = SimFlash<4, 4096>;

/// Runs one offer through a fresh Agent with the signature policy required; returns the
/// event that ended it and the boot phase afterwards.
fn agent_update(img: &[u8]) -> (AgentEvent, Phase) {
    agent_update_as("1.1.0", img)
}

/// [`agent_update`] with the offer naming `version`.
fn agent_update_as(version: &str, img: &[u8]) -> (AgentEvent, Phase) {
    let storage = OneFlash(AgentFlash::new(20 * E as usize, 0xFF));
    let p = |o: u32, n: u32| Partition::new(&storage.0, o * E, n * E, 0xFF).unwrap();
    let layout = Layout::new::<OneFlash<AgentFlash>>(p(0, 2), p(2, 9), p(11, 9), Strategy::Select).unwrap();
    let config = AgentConfig { download: cfg(required(), 0), ..AgentConfig::new(required()) };
    let mut agent = Agent::new(storage, layout, config, Version::parse("1.0.0").unwrap()).unwrap();
    agent.start().unwrap();
    let offer = offer(version, img).with_location("/fw.bin").unwrap();
    assert_eq!(agent.offer(offer, 0), OfferOutcome::Accepted);
    let mut src = ChunkServer::new(img.to_vec());
    let mut buf = [0u8; 512];
    let mut event = AgentEvent::Idle;
    for now in 0..10_000u64 {
        event = agent.poll(&mut src, &mut buf, now);
        if !matches!(event, AgentEvent::Downloading { .. } | AgentEvent::Waiting) {
            break;
        }
    }
    let phase = agent.boot_state().unwrap().phase;
    (event, phase)
}

#[test]
fn agent_stages_signed_images_only() {
    let body = image(20_000, 77);
    let (event, phase) = agent_update(&sign_image(&body, &manifest("1.1.0", 7, PRODUCT), &SECRET_1, 1));
    assert_eq!(event, AgentEvent::Staged);
    // Staged under the signed version and counter.
    let Phase::Staged { image, .. } = phase else { panic!("{phase:?}") };
    assert_eq!((image.version.as_str(), image.security_counter), ("1.1.0", 7));
    for (name, img, _) in tampered() {
        let (event, phase) = agent_update(&img);
        assert_eq!(event, AgentEvent::Failed(FailureCause::IntegrityCheckFailure), "{name}");
        assert_eq!(phase, Phase::Idle, "{name}: nothing staged");
    }
}

/// An old signed release offered under a newer label is refused: the offer must name the
/// signed version. Nothing is staged, and the cause says why.
#[test]
fn agent_refuses_an_old_signed_image_offered_as_a_newer_version() {
    let old = sign_image(&image(20_000, 5), &manifest("1.0.5", 1, PRODUCT), &SECRET_1, 1);
    for label in ["1.1.0", "99.0.0"] {
        let (event, phase) = agent_update_as(label, &old);
        assert_eq!(event, AgentEvent::Failed(FailureCause::VersionMismatch), "{label}");
        assert_eq!(phase, Phase::Idle, "{label}");
    }
}
