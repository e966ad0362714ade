//! A serial device driven by the Agent, end to end over the simulated 115200-baud link:
//! version report → offer → decide → download (the SerialClient is the Agent's chunk source)
//! → stage → reboot (prepare_boot and a new Agent) → confirm → result report at the host.
//! Also a power cut mid-download that resumes from the checkpoint, and five devices updated
//! at once by one host server.

use crate::support::sim_device::{App, E, SimDevice, Store, v};

use ota_client::agent::{OfferOutcome, Startup};
use ota_client::boot::Strategy;
use ota_client::mock::CutKind;
use ota_client::mock::serial_link::{DeviceEnd, HostEnd, LinkConfig, SerialLink, VirtualClock};
use ota_client::mock::serial_server::{Image, SerialServer};
use ota_client::platform::Event;
use ota_client::platform::serial::SerialUpdater;
use ota_client::time::Clock;
use ota_client::transport::serial::{ChunkClient, ClientConfig, SerialClient};

const CHUNK: usize = 1024;
type Client = SerialClient<DeviceEnd, VirtualClock, 1100, 4096>;

/// One device: the simulated device, the updater of the current boot (its Agent and its
/// end of a serial link).
struct Device {
    sim: SimDevice,
    updater: SerialUpdater<DeviceEnd, VirtualClock, Store, App, 1100, 4096>,
    link: SerialLink,
    clock: VirtualClock,
    offers: Vec<OfferOutcome>,
    fetched: u64,
}

/// The test image: not the harness's `image`, because these bytes set the frames' COBS
/// lengths and so the virtual timings the five-device test prints.
fn image(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32).map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 11) as u8).collect()
}

fn client(link: &SerialLink, clock: &VirtualClock) -> Client {
    SerialClient::new(link.device_end(), clock.clone(), ChunkClient::new(ClientConfig::default()).unwrap())
}

impl Device {
    /// A device running 1.0.0, first boot; it reports its version.
    fn new(link: SerialLink, clock: &VirtualClock) -> Self {
        let mut sim = SimDevice::with_slots(Strategy::Select, 24, 25);
        let (mut agent, startup) = sim.start("1.0.0");
        assert_eq!(startup, Startup::Normal);
        agent.report_version();
        let updater = SerialUpdater::new(agent, client(&link, clock));
        Self { sim, updater, link, clock: clock.clone(), offers: Vec::new(), fetched: 0 }
    }

    /// Reset: the bootloader runs, then a new Agent (with its version report queued) and a
    /// new client for `running`.
    fn reboot(&mut self, running: &str) -> Startup {
        let (mut agent, startup, _) = self.sim.boot(running);
        agent.report_version();
        self.updater = SerialUpdater::new(agent, client(&self.link, &self.clock));
        self.offers.clear();
        startup
    }

    /// One step of the updater; offers are recorded, image bytes counted by the client.
    fn step(&mut self) -> Event {
        let now = self.clock.now_ms();
        let mut buf = [0u8; CHUNK];
        let before = self.updater.client().stats().bytes;
        let event = self.updater.poll(&mut buf, now).unwrap();
        self.fetched += self.updater.client().stats().bytes - before;
        if let Event::Offered(outcome) = event {
            self.offers.push(outcome);
        }
        event
    }

    fn idle(&self) -> bool {
        self.updater.agent().next_report().is_none() && self.updater.agent().current_offer().is_none()
    }
}

/// Advances virtual time by 1 ms: the links carry bytes, the server answers, every device
/// steps. Returns each device's Agent event.
fn tick(clock: &VirtualClock, server: &mut SerialServer<HostEnd>, devices: &mut [Device]) -> Vec<Event> {
    clock.advance_ms(1);
    for d in devices.iter() {
        d.link.step();
    }
    server.poll();
    devices.iter_mut().map(Device::step).collect()
}

/// Runs until every device is staged and has no report left, or panics after `limit_ms`.
fn run_until_staged(
    clock: &VirtualClock,
    server: &mut SerialServer<HostEnd>,
    devices: &mut [Device],
    limit_ms: u64,
) {
    let mut staged = vec![false; devices.len()];
    for _ in 0..limit_ms {
        for (i, e) in tick(clock, server, devices).into_iter().enumerate() {
            assert!(!matches!(e, Event::Failed(_)), "device {i}: {e:?}");
            staged[i] |= e == Event::Staged;
        }
        if staged.iter().all(|s| *s) && devices.iter().all(Device::idle) {
            return;
        }
    }
    panic!("not staged after {limit_ms} ms of virtual time: {staged:?}");
}

/// Runs until the server holds a success result for every device at `version`.
fn run_until_reported(
    clock: &VirtualClock,
    server: &mut SerialServer<HostEnd>,
    devices: &mut [Device],
    version: &str,
    limit_ms: u64,
) {
    for _ in 0..limit_ms {
        tick(clock, server, devices);
        let all = (0..devices.len()).all(|i| {
            server.record(i).unwrap().result == Some((Ok(()), version.to_owned())) && devices[i].idle()
        });
        if all {
            return;
        }
    }
    panic!("results not received after {limit_ms} ms of virtual time");
}

/// A link worse than `LinkConfig::noisy`, so that a 60 KB transfer meets every kind of fault.
fn faulty(seed: u64) -> LinkConfig {
    LinkConfig {
        drop_rate: 2e-4,
        flip_rate: 2e-4,
        garbage_rate: 1e-4,
        garbage_max: 40,
        stall_rate: 2e-5,
        stall_ms: 1500,
        ..LinkConfig::clean(seed)
    }
}

#[test]
fn agent_updates_a_device_over_a_faulty_link() {
    let img = image(60_000, 1);
    let clock = VirtualClock::new();
    let link = SerialLink::new(faulty(7), clock.clone());
    let mut server = SerialServer::new(Some(Image::new("1.1.0", img.clone())));
    server.attach(link.host_end()).unwrap();
    let mut devices = vec![Device::new(link.clone(), &clock)];

    run_until_staged(&clock, &mut server, &mut devices, 120_000);
    let d = &devices[0];
    assert_eq!(d.offers, vec![OfferOutcome::Accepted]);
    assert!(d.sim.app.reboot_wanted());
    let record = server.record(0).unwrap().clone();
    assert_eq!(record.version.as_deref(), Some("1.0.0"));
    assert_eq!(record.progress, Some(100), "the last progress report reached the host");
    let (up, down) = (link.up_stats(), link.down_stats());
    assert!(
        down.dropped + up.dropped > 0 && down.flipped + up.flipped > 0,
        "faults happened: {up:?} {down:?}"
    );
    assert!(down.garbage + up.garbage > 0, "garbage happened: {up:?} {down:?}");
    let s = d.updater.client().stats();
    assert!(s.frames.crc_errors > 0 || s.bad_answers > 0 || s.timeouts > 0, "the client saw faults: {s:?}");

    // Reset into the new image: trial, self-test, confirm, success reported to the host.
    assert_eq!(devices[0].reboot("1.1.0"), Startup::Confirmed(v("1.1.0")));
    run_until_reported(&clock, &mut server, &mut devices, "1.1.0", 60_000);
    let slot = devices[0].sim.active_slot();
    let d = &devices[0];
    assert!(d.sim.slot_holds(slot, &img), "the running slot holds the image bit for bit");
    assert_eq!(server.record(0).unwrap().version.as_deref(), Some("1.1.0"));
    assert_eq!(d.offers, vec![], "1.1.0 reported: no offer");
}

#[test]
fn power_cut_mid_download_resumes_from_the_checkpoint() {
    let img = image(80_000, 2);
    let clock = VirtualClock::new();
    let link = SerialLink::new(LinkConfig::noisy(3), clock.clone());
    let mut server = SerialServer::new(Some(Image::new("1.1.0", img.clone())));
    server.attach(link.host_end()).unwrap();
    let mut devices = vec![Device::new(link.clone(), &clock)];

    // Download until ~45 %, then cut the power a few flash operations later.
    let mut cut = false;
    for _ in 0..60_000 {
        let e = tick(&clock, &mut server, &mut devices)[0];
        let d = &mut devices[0];
        if !cut && matches!(e, Event::Downloading { percent } if percent >= 45) {
            d.sim.power_cut(5, CutKind::MidWrite);
            cut = true;
        }
        if let Event::Failed(_) = e {
            assert!(cut, "failed without a power cut: {e:?}");
            break;
        }
        assert_ne!(e, Event::Staged, "the cut never struck");
    }
    let before = devices[0].fetched;
    assert!(before > 0 && before < img.len() as u64, "cut mid-download after {before} bytes");

    devices[0].fetched = 0;
    devices[0].offers.clear();
    assert_eq!(devices[0].reboot("1.0.0"), Startup::Normal);
    let mut resumed_from = None;
    for _ in 0..120_000 {
        let e = tick(&clock, &mut server, &mut devices)[0];
        if resumed_from.is_none()
            && let Some(dl) = devices[0].updater.agent().download()
            && dl.checkpoint_interval() > 0
        {
            resumed_from = Some(dl.resumed_from());
        }
        assert!(!matches!(e, Event::Failed(_)), "{e:?}");
        if e == Event::Staged {
            break;
        }
    }
    let d = &devices[0];
    assert_eq!(d.offers, vec![OfferOutcome::Accepted]);
    let resumed_from = u64::from(resumed_from.expect("download started"));
    let after = d.fetched;
    let refetched = before + after - img.len() as u64;
    println!(
        "power cut: fetched {before} before, resumed at {resumed_from}, fetched {after} after, refetched {refetched}"
    );
    assert!(resumed_from > 0, "resumed from the checkpoint");
    assert_eq!(after, img.len() as u64 - resumed_from, "only the bytes after the checkpoint fetched again");
    assert!(refetched <= u64::from(E) + CHUNK as u64, "refetched {refetched} > one interval + one chunk");

    assert_eq!(devices[0].reboot("1.1.0"), Startup::Confirmed(v("1.1.0")));
    run_until_reported(&clock, &mut server, &mut devices, "1.1.0", 60_000);
}

#[test]
fn five_devices_updated_at_once_by_one_server() {
    let img = image(30_000, 3);
    let clock = VirtualClock::new();
    let mut server = SerialServer::new(Some(Image::new("1.1.0", img.clone())));
    let mut devices: Vec<Device> = (0..5)
        .map(|i| {
            let link = SerialLink::new(LinkConfig::noisy(100 + i), clock.clone());
            server.attach(link.host_end()).unwrap();
            Device::new(link, &clock)
        })
        .collect();
    // Each device's download window (first progress to staged) in virtual time.
    let mut windows = vec![(None, None); devices.len()];
    for _ in 0..120_000 {
        let now = clock.now_ms() + 1;
        for (i, e) in tick(&clock, &mut server, &mut devices).into_iter().enumerate() {
            assert!(!matches!(e, Event::Failed(_)), "device {i}: {e:?}");
            if matches!(e, Event::Downloading { .. }) && windows[i].0.is_none() {
                windows[i].0 = Some(now);
            }
            if e == Event::Staged {
                windows[i].1 = Some(now);
            }
        }
        if windows.iter().all(|w| w.1.is_some()) && devices.iter().all(Device::idle) {
            break;
        }
    }
    let starts: Vec<u64> = windows.iter().map(|w| w.0.expect("started")).collect();
    let ends: Vec<u64> = windows.iter().map(|w| w.1.expect("staged")).collect();
    println!("five devices: downloads {starts:?} .. {ends:?} ms of virtual time");
    for d in &devices {
        println!("{:?}", d.updater.client().stats());
    }
    // At once: every download was under way before the first one finished.
    assert!(starts.iter().max() < ends.iter().min(), "downloads did not overlap");
    for d in &mut devices {
        assert_eq!(d.reboot("1.1.0"), Startup::Confirmed(v("1.1.0")));
    }
    run_until_reported(&clock, &mut server, &mut devices, "1.1.0", 60_000);
    for (i, d) in devices.iter_mut().enumerate() {
        let slot = d.sim.active_slot();
        assert!(d.sim.slot_holds(slot, &img), "device {i} runs the image");
        assert!(server.record(i).unwrap().bytes_served >= img.len() as u64);
    }
}
