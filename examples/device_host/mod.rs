//! The host device the three platform examples share: a simulated NOR flash, the bootloader,
//! the Agent, a platform [`Flow`] over [`StdMqttClient`], firmware over HTTP. Every message
//! the device receives and publishes is printed; reboots are simulated (the bootloader's
//! `prepare_boot` on the same flash, then the new firmware starts its Agent again).
//!
//! With `--demo` the example also plays the cloud: it starts the mock cloud of the platform
//! (which checks every report against the platform's format) and a mock HTTP server holding
//! a 128 KiB image, offers that image once the device has reported its version, and stops
//! once the new version has reported success after its reboot.

use std::time::Duration;

use ota_client::agent::{Agent, AgentConfig, Application, OfferOutcome, Report, Startup};
use ota_client::boot::{BootLoader, Layout, Strategy};
use ota_client::flash::{OneFlash, Partition};
use ota_client::mock::SimFlash;
use ota_client::mock::http_server::MockHttpServer;
use ota_client::mock::mqtt_cloud::{CloudPlatform, CloudReport, MockCloud};
use ota_client::platform::Event;
use ota_client::platform::flow::{Dialect, Flow, Inbound};
use ota_client::time::{Clock, StdClock};
use ota_client::transport::http::{HttpClient, HttpSource, TcpConnector};
use ota_client::transport::mqtt::MqttClient;
use ota_client::transport::mqtt_std::StdMqttClient;
use ota_client::{Offer, Version};

const SECTOR: u32 = 4096;
const SLOT_SECTORS: u32 = 64;
const DEMO_IMAGE_LEN: usize = 128 * 1024;
type Flash = SimFlash<4, 4096>;
type Store = OneFlash<Flash>;

/// The command line: `mqtt://host[:port] [--running VERSION] [--demo]`.
pub struct Args {
    /// Broker host.
    pub host: String,
    /// Broker port (1883 when the URL has none).
    pub port: u16,
    /// The version the device runs at start.
    pub running: String,
    /// Play the cloud as well.
    pub demo: bool,
}

impl Args {
    /// Parses the command line, or prints `usage` and exits.
    pub fn parse(usage: &str) -> Self {
        let mut url = None;
        let mut running = "1.0.0".to_string();
        let mut demo = false;
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            match a.as_str() {
                "--demo" => demo = true,
                "--running" => running = args.next().unwrap_or_else(|| exit_usage(usage)),
                _ if url.is_none() => url = Some(a),
                _ => exit_usage(usage),
            }
        }
        let url = url.unwrap_or_else(|| exit_usage(usage));
        let Some((host, port)) = broker_address(&url) else { exit_usage(usage) };
        if Version::parse(&running).is_err() {
            exit_usage(usage);
        }
        Self { host, port, running, demo }
    }
}

fn exit_usage(usage: &str) -> ! {
    eprintln!("usage: {usage}");
    std::process::exit(2)
}

/// `mqtt://host[:port]` → host and port.
fn broker_address(url: &str) -> Option<(String, u16)> {
    let rest = url.strip_prefix("mqtt://")?.trim_end_matches('/');
    match rest.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() => Some((host.to_string(), port.parse().ok()?)),
        Some(_) => None,
        None if !rest.is_empty() => Some((rest.to_string(), 1883)),
        None => None,
    }
}

/// A dialect that prints what it decodes and encodes.
struct Printing<D>(D);

impl<D: Dialect<512>> Dialect<512> for Printing<D> {
    fn filter_count(&self) -> usize {
        self.0.filter_count()
    }
    fn filter<'b>(&self, index: usize, buf: &'b mut [u8]) -> Option<&'b str> {
        let f = self.0.filter(index, buf)?;
        println!("device: subscribe {f}");
        Some(f)
    }
    fn decode(&mut self, topic: &str, payload: &[u8], running: &Version) -> Inbound<512> {
        println!("device ← {topic} {}", String::from_utf8_lossy(payload));
        self.0.decode(topic, payload, running)
    }
    fn session_ready(&mut self) {
        self.0.session_ready()
    }
    fn offer_outcome(&mut self, outcome: OfferOutcome) {
        println!("device: offer {outcome:?}");
        self.0.offer_outcome(outcome)
    }
    fn next_request(&mut self, topic: &mut [u8], out: &mut [u8]) -> Option<(usize, usize)> {
        let (t, n) = self.0.next_request(topic, out)?;
        print_uplink(topic, t, out, n);
        Some((t, n))
    }
    fn request_sent(&mut self) {
        self.0.request_sent()
    }
    fn encode_report(
        &mut self,
        report: &Report,
        running: &Version,
        topic: &mut [u8],
        out: &mut [u8],
    ) -> Option<(usize, usize)> {
        let (t, n) = self.0.encode_report(report, running, topic, out)?;
        print_uplink(topic, t, out, n);
        Some((t, n))
    }
}

fn print_uplink(topic: &[u8], t: usize, out: &[u8], n: usize) {
    let topic = String::from_utf8_lossy(topic.get(..t).unwrap_or_default());
    println!("device → {topic} {}", String::from_utf8_lossy(out.get(..n).unwrap_or_default()));
}

struct App;

impl Application for App {
    fn request_reboot(&mut self) {
        println!("device: update staged, rebooting");
    }
}

/// The cloud side of `--demo`.
struct Demo {
    cloud: MockCloud,
    _http: MockHttpServer,
    offer: Offer,
    offered: bool,
    printed: usize,
}

impl Demo {
    fn start(platform: CloudPlatform, args: &Args, make_offer: impl Fn(&[u8], &str) -> Offer) -> Self {
        let http = MockHttpServer::start().expect("start the mock HTTP server");
        let body: Vec<u8> = (0..(DEMO_IMAGE_LEN - ota_client::image::signature::TRAILER_LEN) as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        // Signed with the (public) demo key; the device requires its signature.
        let image = ota_client::mock::demo_sign(&body, "2.0.0");
        http.put_file("/firmware/2.0.0.bin", image.clone());
        let offer = make_offer(&image, &http.url("/firmware/2.0.0.bin"));
        let cloud = MockCloud::start(platform, &args.host, args.port);
        assert!(
            cloud.wait_ready(Duration::from_secs(10)),
            "the mock cloud cannot reach the broker at {}:{}",
            args.host,
            args.port
        );
        println!("cloud: connected; firmware {} served at {}", offer.version, offer.location);
        Self { cloud, _http: http, offer, offered: false, printed: 0 }
    }

    /// Prints what the cloud received since the last call; true once it saw success.
    fn print_reports(&mut self) -> bool {
        let reports = self.cloud.reports();
        for r in reports.iter().skip(self.printed) {
            match r {
                CloudReport::Invalid { topic, error, .. } => {
                    println!("cloud: INVALID report on {topic}: {error:?}")
                }
                other => println!("cloud: checked {other:?}"),
            }
        }
        self.printed = reports.len();
        reports.iter().any(|r| success(r, &self.offer.version))
    }
}

/// Whether `r` reports that `target` now runs.
fn success(r: &CloudReport, target: &Version) -> bool {
    use ota_client::platform::{enos_cloud, tencent};
    match r {
        CloudReport::Tencent(tencent::Uplink::ReportProgress {
            state: tencent::State::Done,
            version,
            ..
        })
        | CloudReport::Enos(enos_cloud::Uplink::Inform { version, .. }) => version.same_text(target),
        CloudReport::Huawei(u) => u.report.is_success_for(target),
        _ => false,
    }
}

fn layout(storage: &Store) -> Layout {
    let part =
        |first: u32, n: u32| Partition::new(&storage.0, first * SECTOR, n * SECTOR, 0xFF).expect("partition");
    Layout::new::<Store>(
        part(0, 2),
        part(2, SLOT_SECTORS),
        part(2 + SLOT_SECTORS, SLOT_SECTORS + 1),
        Strategy::Swap,
    )
    .expect("layout")
}

/// Runs the device (and the demo cloud with `--demo`). `make_offer` builds the platform's
/// offer for the demo image at a URL.
pub fn run<D: Dialect<512>>(
    name: &str,
    args: &Args,
    platform: CloudPlatform,
    make_dialect: impl Fn() -> D,
    make_offer: impl Fn(&[u8], &str) -> Offer,
) {
    let mut demo = args.demo.then(|| Demo::start(platform, args, make_offer));
    let mut storage = OneFlash(Flash::new(((3 + 2 * SLOT_SECTORS) * SECTOR) as usize, 0xFF));
    let layout = layout(&storage);
    let mut running = Version::parse(&args.running).expect("checked by Args::parse");
    let clock = StdClock::new();
    // The clock bounds each response head too (a server trickling its head is cut off).
    let mut http: HttpClient<TcpConnector, 2048, 512, StdClock> =
        HttpClient::with_clock(TcpConnector::default(), clock);
    let mut rx = vec![0u8; 8192];
    let mut chunk = [0u8; 1024];
    for boot in 1.. {
        let decision = BootLoader::new(layout).boot(&mut storage).expect("boot");
        println!(
            "bootloader: {:?}, run slot {:?}{}",
            decision.event,
            decision.slot,
            if decision.trial { " (trial)" } else { "" }
        );
        let mut agent =
            Agent::new(storage, layout, AgentConfig::new(ota_client::mock::demo_policy()), running.clone())
                .expect("agent")
                .with_application(App);
        let startup = agent.start().expect("agent start");
        println!(
            "device: firmware {running} started ({startup:?}); connecting to {}:{}",
            args.host, args.port
        );
        let confirmed = matches!(startup, Startup::Confirmed(_));
        let mqtt = StdMqttClient::connect(&format!("{name}-boot{boot}"), &args.host, args.port);
        let source = HttpSource::<_, heapless::String<512>>::for_offers(&mut http);
        let mut flow = Flow::new(mqtt, Printing(make_dialect()), source, agent);
        let mut target: Option<Version> = None;
        let mut staged = false;
        let mut finished = false;
        let mut last_tenth = None;
        let mut state = None;
        loop {
            let e = flow.poll(clock.now_ms(), &mut rx, &mut chunk).expect("journal");
            if state != Some(flow.mqtt().state()) {
                state = Some(flow.mqtt().state());
                println!("device: MQTT {:?}", flow.mqtt().state());
            }
            if let Some(offer) = flow.agent().current_offer() {
                target = Some(offer.version.clone());
            }
            match e {
                Event::Downloading { percent } if last_tenth != Some(percent / 10) => {
                    last_tenth = Some(percent / 10);
                    let bytes = flow.agent().download().map_or(0, |d| d.progress().bytes);
                    println!("device: downloading {percent:3}% ({bytes} bytes)");
                }
                Event::Staged => staged = true,
                Event::Failed(cause) => println!("device: update failed: {cause}"),
                _ => {}
            }
            if let Some(d) = demo.as_mut() {
                finished = d.print_reports();
                if !d.offered && flow.stats().reports_sent >= 1 {
                    println!("cloud: offering {}", d.offer.version);
                    d.cloud.offer(&d.offer).expect("publish the offer");
                    d.offered = true;
                }
            }
            if demo.is_some() && matches!(e, Event::Downloading { .. }) {
                // Paced like a slow link, so that the progress reports show.
                std::thread::sleep(Duration::from_millis(2));
            }
            if e.is_idle() {
                std::thread::sleep(Duration::from_millis(5));
            }
            // Staged and reported: reset into the new image. Confirmed and the cloud has
            // the success: the demo is over.
            if e.is_reboot() || (finished && confirmed && !flow.report_pending()) {
                break;
            }
        }
        // Reset: the firmware gives the flash back to the bootloader.
        let (_, _, _, agent) = flow.into_parts();
        storage = agent.into_parts().0;
        if finished {
            println!("demo: {} runs and the cloud has its success report", target.map_or(running, |v| v));
            return;
        }
        if let Some(v) = target.filter(|_| staged) {
            running = v;
        }
    }
}
