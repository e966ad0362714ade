//! Pipeline throughput: in-memory chunk source → download engine (MD5 + SHA-256, write-size
//! aligned writes, checkpoints) → SimFlash, against raw MD5 + SHA-256 over the same bytes in
//! the same chunk size, measured in the same run. Also the cost of re-hashing a written
//! prefix on resume. Prints the pipeline/raw ratio (goal ≥ 0.9), and the cost of a signed
//! image (`SignaturePolicy::Required`: body digest at the boundary, one Ed25519 check).

use criterion::{BatchSize, Criterion, Throughput, criterion_group};
use ota_client::download::{Download, DownloadConfig, VerifiedImage};
use ota_client::flash::{Journal, OneFlash, Partition};
use ota_client::image::{SignaturePolicy, TrustedKey};
use ota_client::image::{Slot, SlotRegion};
use ota_client::mock::{ChunkServer, SimFlash};
use ota_client::{Digest, Offer, Version};
use sha2::Digest as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

const SECTOR: usize = 4096;
const IMAGE_LEN: usize = 256 * 1024;
const CHUNK: usize = 4096;
const STATE_LEN: u32 = 2 * SECTOR as u32;
const SLOT_LEN: u32 = IMAGE_LEN as u32;

type Flash = SimFlash<4, SECTOR>;

struct Setup {
    image: Vec<u8>,
    offer: Offer,
    blank: Flash,
    /// The same size, signed: body ‖ trailer.
    signed: Vec<u8>,
    signed_offer: Offer,
    signed_cfg: DownloadConfig,
}

const SECRET: [u8; 32] = [0x5E; 32];

fn offer_for(image: &[u8]) -> Offer {
    let digest = Digest {
        md5: Some(<[u8; 16]>::from(<md5::Md5 as md5::Digest>::digest(image))),
        sha256: Some(sha2::Sha256::digest(image).into()),
    };
    Offer::new(Version::parse("1.2.3").unwrap(), image.len() as u32, digest)
}

fn setup() -> Setup {
    let image: Vec<u8> = (0..IMAGE_LEN as u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let offer = offer_for(&image);
    let blank = Flash::new((STATE_LEN + 2 * SLOT_LEN) as usize, 0xFF);
    let signed = ota_client::mock::sign_image(
        &image[..IMAGE_LEN - ota_client::image::signature::TRAILER_LEN],
        &ota_client::mock::manifest("1.2.3", 0, 1),
        &SECRET,
        1,
    );
    let signed_offer = offer_for(&signed);
    let keys: &'static [TrustedKey] =
        Box::leak(Box::new([TrustedKey { id: 1, public_key: ota_client::mock::public_key(&SECRET) }]));
    let signed_cfg = DownloadConfig::new(SignaturePolicy::Required { keys, product: 1 });
    Setup { image, offer, blank, signed, signed_offer, signed_cfg }
}

fn raw_hash(image: &[u8]) -> ([u8; 16], [u8; 32]) {
    let mut m = md5::Md5::new();
    let mut s = sha2::Sha256::new();
    for c in image.chunks(CHUNK) {
        m.update(c);
        s.update(c);
    }
    (m.finalize().into(), s.finalize().into())
}

fn download(flash: Flash, mut server: ChunkServer, s: &Setup) -> (VerifiedImage, Flash) {
    let state = Partition::new(&flash, 0, STATE_LEN, 0xFF).unwrap();
    let target = SlotRegion {
        slot: Slot::B,
        part: Partition::new(&flash, STATE_LEN + SLOT_LEN, SLOT_LEN, 0xFF).unwrap(),
    };
    let mut storage = OneFlash(flash);
    let mut journal: Journal = Journal::open(&mut storage.0, state).unwrap();
    let mut dl =
        Download::new(&s.offer, target, DownloadConfig::new(ota_client::image::SignaturePolicy::Unsigned));
    let mut buf = [0u8; CHUNK];
    loop {
        match dl.poll(&mut storage, &mut journal, &mut server, &mut buf, 0) {
            Ok(done) => return (done, storage.0),
            Err(nb::Error::WouldBlock) => {}
            Err(nb::Error::Other(c)) => panic!("{c:?}"),
        }
    }
}

/// Just the engine's work, the source's copy and the flash copy: the server clone and the
/// blank flash are made outside the timed part.
fn download_timed(flash: Flash, server: ChunkServer, s: &Setup) -> Duration {
    download_timed_with(
        flash,
        server,
        &s.offer,
        DownloadConfig::new(ota_client::image::SignaturePolicy::Unsigned),
    )
}

/// [`download_timed`] of any flash, offer and configuration (the RAM flash and signed
/// variants).
fn download_timed_with<F: embedded_storage::nor_flash::NorFlash>(
    flash: F,
    server: ChunkServer,
    offer: &Offer,
    cfg: DownloadConfig,
) -> Duration {
    let state = Partition::new(&flash, 0, STATE_LEN, 0xFF).unwrap();
    let target = SlotRegion {
        slot: Slot::B,
        part: Partition::new(&flash, STATE_LEN + SLOT_LEN, SLOT_LEN, 0xFF).unwrap(),
    };
    let mut storage = OneFlash(flash);
    let mut journal: Journal = Journal::open(&mut storage.0, state).unwrap();
    let mut server = server;
    let mut buf = [0u8; CHUNK];
    let t = Instant::now();
    let mut dl = Download::new(offer, target, cfg);
    loop {
        match dl.poll(&mut storage, &mut journal, &mut server, &mut buf, 0) {
            Ok(done) => {
                let d = t.elapsed();
                black_box(done);
                return d;
            }
            Err(nb::Error::WouldBlock) => {}
            Err(nb::Error::Other(c)) => panic!("{c:?}"),
        }
    }
}

fn bench(c: &mut Criterion) {
    let s = setup();
    let mut g = c.benchmark_group("pipeline");
    g.throughput(Throughput::Bytes(IMAGE_LEN as u64));
    g.bench_function("raw_md5_sha256", |b| b.iter(|| black_box(raw_hash(black_box(&s.image)))));
    g.bench_function("engine_to_simflash", |b| {
        b.iter_batched(
            || (s.blank.clone(), ChunkServer::new(s.image.clone())),
            |(flash, server)| download(flash, server, &s),
            BatchSize::LargeInput,
        )
    });
    // Resume at the very end: the whole image is read back and re-hashed, nothing fetched.
    let (_, written) = download(s.blank.clone(), ChunkServer::new(s.image.clone()), &s);
    g.bench_function("resume_rehash_256k", |b| {
        b.iter_batched(
            || (written.clone(), ChunkServer::new(Vec::new())),
            |(flash, server)| download(flash, server, &s),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("engine_to_simflash_signed", |b| {
        b.iter_batched(
            || (s.blank.clone(), ChunkServer::new(s.signed.clone())),
            |(flash, server)| download_timed_with(flash, server, &s.signed_offer, s.signed_cfg),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

/// A plain RAM flash: erase is a fill, write a copy, no checks and no counters. It shows the
/// engine's cost apart from SimFlash's simulation work.
struct RamFlash(Vec<u8>);

impl embedded_storage::nor_flash::ErrorType for RamFlash {
    type Error = embedded_storage::nor_flash::NorFlashErrorKind;
}

impl embedded_storage::nor_flash::ReadNorFlash for RamFlash {
    const READ_SIZE: usize = 1;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        let at = offset as usize;
        bytes.copy_from_slice(&self.0[at..at + bytes.len()]);
        Ok(())
    }
    fn capacity(&self) -> usize {
        self.0.len()
    }
}

impl embedded_storage::nor_flash::NorFlash for RamFlash {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = SECTOR;
    fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        self.0[from as usize..to as usize].fill(0xFF);
        Ok(())
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        let at = offset as usize;
        self.0[at..at + bytes.len()].copy_from_slice(bytes);
        Ok(())
    }
}

/// The same flash and source work without the engine or any hashing: erase each sector,
/// copy each chunk out of the source, write it.
fn flash_only(mut flash: Flash, s: &Setup) -> Duration {
    use embedded_storage::nor_flash::NorFlash;
    use ota_client::transport::ChunkSource;
    let mut server = ChunkServer::new(s.image.clone());
    let mut buf = [0u8; CHUNK];
    let base = STATE_LEN + SLOT_LEN;
    let t = Instant::now();
    let mut at = 0u32;
    while (at as usize) < IMAGE_LEN {
        let n = server.fetch(at, &mut buf).unwrap();
        if (at as usize).is_multiple_of(SECTOR) {
            flash.erase(base + at, base + at + SECTOR as u32).unwrap();
        }
        flash.write(base + at, &buf[..n]).unwrap();
        at += n as u32;
    }
    let d = t.elapsed();
    black_box(flash);
    d
}

/// Interleaved timing of both, so that both see the same machine state; medians compared.
fn ratio() {
    let s = setup();
    let mut raw = Vec::new();
    let mut pipe = Vec::new();
    let mut bare = Vec::new();
    let mut ram = Vec::new();
    let mut signed = Vec::new();
    let ram_len = (STATE_LEN + 2 * SLOT_LEN) as usize;
    for _ in 0..60 {
        ram.push(download_timed_with(
            RamFlash(vec![0xFF; ram_len]),
            ChunkServer::new(s.image.clone()),
            &s.offer,
            DownloadConfig::new(ota_client::image::SignaturePolicy::Unsigned),
        ));
        bare.push(flash_only(s.blank.clone(), &s));
        let t = Instant::now();
        black_box(raw_hash(black_box(&s.image)));
        raw.push(t.elapsed());
        pipe.push(download_timed(s.blank.clone(), ChunkServer::new(s.image.clone()), &s));
        signed.push(download_timed_with(
            s.blank.clone(),
            ChunkServer::new(s.signed.clone()),
            &s.signed_offer,
            s.signed_cfg,
        ));
    }
    signed.sort();
    raw.sort();
    pipe.sort();
    bare.sort();
    ram.sort();
    let m = ram[ram.len() / 2];
    let (r, p, f) = (raw[raw.len() / 2], pipe[pipe.len() / 2], bare[bare.len() / 2]);
    let mbps = |d: Duration| IMAGE_LEN as f64 / d.as_secs_f64() / 1e6;
    println!(
        "pipeline ratio: raw MD5+SHA-256 {:.0} MB/s, engine→SimFlash {:.0} MB/s, ratio {:.3} (goal ≥ 0.9)",
        mbps(r),
        mbps(p),
        r.as_secs_f64() / p.as_secs_f64()
    );
    let sg = signed[signed.len() / 2];
    println!(
        "signed image (Required, Ed25519): engine→SimFlash {:.0} MB/s, {:.0} µs per image against {:.0} µs unsigned, unsigned/signed ratio {:.3}",
        mbps(sg),
        sg.as_secs_f64() * 1e6,
        p.as_secs_f64() * 1e6,
        p.as_secs_f64() / sg.as_secs_f64()
    );
    println!("engine→plain RAM flash {:.0} MB/s, ratio {:.3}", mbps(m), r.as_secs_f64() / m.as_secs_f64());
    println!(
        "breakdown per image: hashing {:.0} µs, SimFlash erase+write and source copy alone {:.0} µs, engine total {:.0} µs (engine's own overhead {:.0} µs)",
        r.as_secs_f64() * 1e6,
        f.as_secs_f64() * 1e6,
        p.as_secs_f64() * 1e6,
        (p.as_secs_f64() - r.as_secs_f64() - f.as_secs_f64()) * 1e6
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    ratio();
    Criterion::default().configure_from_args().final_summary();
}
