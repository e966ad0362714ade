//! An EnOS Edge sub-device on the host: polls an Edge for updates, downloads the firmware
//! resumably into a simulated flash, "reboots" into it, confirms it and reports, printing a
//! progress line on the way.
//!
//! ```text
//! cargo run --example enos_edge_device -- EDGE [ASSET_ID] [VERSION] [--forced]
//! ```
//!
//! `EDGE` is either a base URL (`http://127.0.0.1:40123`: every endpoint at that base, as the
//! mock Edge serves them) or a bare host (`192.168.1.10`: the seed's ports, 5055 and 5050
//! for downloadresult). Defaults: asset `dev-1`, running version `1.0.0`, upgrade mode "upon
//! device request" (the example's application accepts every offer; `--forced` selects cloud
//! forced push). Without arguments it prints this usage and starts nothing.
//!
//! Against the mock Edge, in two terminals:
//!
//! ```text
//! cargo run --example enos_edge_server                  # prints "listening at http://127.0.0.1:PORT"
//! cargo run --example enos_edge_device -- http://127.0.0.1:PORT
//! ```
//!
//! The device checks for an update every 2 s, downloads the offered firmware (stop the
//! device mid-download and start it again: the download starts over, since the simulated
//! flash lives in RAM; a link failure mid-download resumes with `Range`), stages it, reboots
//! (simulated: the bootloader runs on the same flash and a new Agent starts), confirms the new
//! image and sends the success report, then exits.

use std::io::Write as _;
use std::time::Duration;

use ota_client::Version;
use ota_client::agent::{Agent, AgentConfig, Startup};
use ota_client::boot::{BootControl, BootLoader, Layout, Strategy};
use ota_client::flash::{Journal, OneFlash, Partition};
use ota_client::mock::SimFlash;
use ota_client::platform::Event;
use ota_client::platform::enos_edge::{EdgeConfig, EdgeDevice, EdgeEndpoints, UpgradeMode};
use ota_client::time::{Clock, StdClock};
use ota_client::transport::http::{HttpClient, TcpConnector};

/// Erase sector of the simulated flash.
const SECTOR: u32 = 4096;
/// Sectors per slot: images up to 1 MiB.
const SLOT_SECTORS: u32 = 256;

type Flash = SimFlash<4, 4096>;
type Storage = OneFlash<Flash>;
type Device = EdgeDevice<HttpClient<TcpConnector, 2048, 512, StdClock>, Storage>;

const USAGE: &str = "usage: enos_edge_device EDGE [ASSET_ID] [VERSION] [--forced]
  EDGE      base URL of every endpoint (http://127.0.0.1:PORT, as printed by
            `cargo run --example enos_edge_server`), or a bare host for the seed's
            ports (5055, and 5050 for downloadresult)
  ASSET_ID  the device's assetId (default dev-1)
  VERSION   the running version (default 1.0.0)
  --forced  cloud forced push instead of upon device request";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let forced = std::env::args().any(|a| a == "--forced");
    let mut args = std::env::args().skip(1).filter(|a| a != "--forced");
    let Some(edge) = args.next() else {
        println!("{USAGE}");
        return Ok(());
    };
    let asset = args.next().unwrap_or_else(|| "dev-1".into());
    let running = args.next().unwrap_or_else(|| "1.0.0".into());
    let endpoints: EdgeEndpoints = if edge.contains("://") {
        EdgeEndpoints::all_at(&edge).map_err(|e| format!("bad Edge URL {edge}: {e:?}"))?
    } else {
        EdgeEndpoints::for_host(&edge).map_err(|e| format!("bad Edge host {edge}: {e:?}"))?
    };
    let mut config = EdgeConfig::new(endpoints, &asset, "SN-0001").map_err(debug)?;
    config.poll_interval_ms = 2_000;
    config.mode = if forced { UpgradeMode::ForcedPush } else { UpgradeMode::UponRequest };

    // The device's flash: 2 state sectors and two slots.
    let mut storage = OneFlash(Flash::new(((2 + 2 * SLOT_SECTORS) * SECTOR) as usize, 0xFF));
    let part =
        |first: u32, n: u32| Partition::new(&storage.0, first * SECTOR, n * SECTOR, 0xFF).map_err(debug);
    let layout = Layout::new::<Storage>(
        part(0, 2)?,
        part(2, SLOT_SECTORS)?,
        part(2 + SLOT_SECTORS, SLOT_SECTORS)?,
        Strategy::Select,
    )
    .map_err(debug)?;

    let clock = StdClock::new();
    let mut version = running;
    println!("device {asset} running {version}, Edge {edge}, mode {:?}", config.mode);
    loop {
        let running = Version::parse(&version).map_err(debug)?;
        let agent = Agent::new(storage, layout, AgentConfig::new(ota_client::mock::demo_policy()), running)
            .map_err(debug)?;
        let mut device: Device =
            EdgeDevice::new(agent, config.clone(), HttpClient::with_clock(TcpConnector::default(), clock));
        let startup = device.start(clock.now_ms()).map_err(debug)?;
        match &startup {
            Startup::Normal => println!("boot: normal"),
            Startup::Confirmed(v) => println!("boot: {v} passed its self-test and is confirmed"),
            Startup::RollbackRequested(v) | Startup::RolledBack(v) => println!("boot: {v} rolled back"),
            Startup::RebootPending(v) => println!("boot: {v} staged, reboot pending"),
            Startup::Requeued { reports } => println!("boot: {reports} undelivered report(s) queued again"),
        }
        let confirmed = matches!(startup, Startup::Confirmed(_));
        run(&mut device, &clock, confirmed)?;
        if !device.agent().reboot_pending() {
            return Ok(());
        }
        // Reboot: the firmware gives the flash back, the bootloader picks the staged image;
        // the new firmware reports its version.
        let (flash, _, ()) = device.into_agent().into_parts();
        storage = flash;
        let decision = BootLoader::new(layout).boot(&mut storage).map_err(debug)?;
        let journal: Journal = Journal::open(&mut storage.0, layout.state()).map_err(debug)?;
        let state = BootControl::new(layout).state(&mut storage, &journal).map_err(debug)?;
        if let ota_client::boot::Phase::Trial { image, .. } = &state.phase {
            version = image.version.as_str().to_owned();
        }
        println!("\nreboot into slot {:?}, running {version}", decision.slot);
    }
}

/// A library error as text (the library's errors are `no_std` enums with `Debug`).
fn debug(e: impl std::fmt::Debug) -> String {
    format!("{e:?}")
}

/// Polls until the update is staged (a reboot is due) or, after a confirmed update, until
/// its success report is delivered and the Edge has nothing more.
fn run(device: &mut Device, clock: &StdClock, confirmed: bool) -> Result<(), Box<dyn std::error::Error>> {
    let mut buf = [0u8; 2048];
    let size = |d: &Device| d.agent().current_offer().map_or(0, |o| o.size);
    loop {
        let event = device.poll(&mut buf, clock.now_ms());
        match event {
            // Staged and every report out: reset into the new image.
            Event::Reboot => return Ok(()),
            Event::Idle | Event::Waiting => std::thread::sleep(Duration::from_millis(50)),
            Event::Downloading { percent } => {
                let done = device.agent().download().map_or(0, |d| d.progress().bytes);
                print!("\rdownloading {percent:3}%  {done}/{} bytes", size(device));
                std::io::stdout().flush()?;
            }
            Event::NoUpdate if confirmed && !device.report_pending() => {
                println!("Edge: no update; the update is complete");
                return Ok(());
            }
            other => println!("\n{other:?}"),
        }
    }
}
