//! [`PcpDevice`]: a Huawei IoTDA LwM2M device updated over PCP, driven like the other
//! platform drivers. It owns the [`Agent`] and the [`PcpSource`]; the LwM2M stack carries
//! PCP frames both ways (`handle` what arrives, send what `poll_transmit` gives).
//!
//! The glue it replaces is easy to get wrong: an offer must go to the Agent only once its
//! size is known ([`SourceEvent::OfferReady`]), a report leaves the Agent's queue only when
//! the platform acknowledged *that* report, reports PCP has no message for count as delivered
//! at once, and after a restart the source must start from the Journal's checkpoint.

use super::codec::version_field;
use super::{FlowConfig, PcpFlow, PcpSource, ReportStart, SourceEvent};
use crate::agent::{Agent, Application, Report};
use crate::boot::BootError;
use crate::flash::Storage;
use crate::platform::Event;

/// A PCP device: the Agent and the PCP source over one LwM2M object, `B` bytes per block.
///
/// ```
/// # #[cfg(feature = "mock")] {
/// use ota_client::agent::{Agent, AgentConfig};
/// use ota_client::boot::Layout;
/// use ota_client::flash::OneFlash;
/// use ota_client::image::SignaturePolicy;
/// use ota_client::mock::SimFlash;
/// use ota_client::platform::huawei_pcp::{FlowConfig, PcpDevice};
///
/// let mut flash = OneFlash(SimFlash::<4, 4096>::new(64 * 4096, 0xFF));
/// let layout = Layout::select(&mut flash, (0, 8192), (8192, 30 * 4096), (32 * 4096, 30 * 4096)).unwrap();
/// // PCP offers carry no image digest: the per-block check code guards the transfer.
/// let config = AgentConfig { accept_transport_checked: true, ..AgentConfig::new(SignaturePolicy::Unsigned) };
/// let mut agent = Agent::new(flash, layout, config, "1.0.0".parse().unwrap()).unwrap();
/// agent.start().unwrap();
/// let mut device: PcpDevice<_> = PcpDevice::new(agent, FlowConfig { timeout_ms: 5000, max_retries: 3 }).unwrap();
/// let (mut out, mut buf) = ([0u8; 600], [0u8; 256]);
/// // In the main loop: frames from the LwM2M stack into `handle`, then:
/// let _ = device.poll(&mut buf, 0).unwrap();
/// while let Some(n) = device.poll_transmit(0, &mut out) { let _ = &out[..n]; /* send */ }
/// # }
/// ```
pub struct PcpDevice<
    S: Storage,
    A: Application = (),
    const K: usize = 8,
    const L: usize = 512,
    const B: usize = 500,
> {
    agent: Agent<S, A, K, L>,
    source: PcpSource<B>,
    in_flight: Option<Report>,
    execute: bool,
}

impl<S: Storage, A: Application, const K: usize, const L: usize, const B: usize> PcpDevice<S, A, K, L, B> {
    /// A device driving `agent` (started after this boot). The PCP source starts from the
    /// Journal's download checkpoint, so a package notified again resumes at its block.
    /// `None` when the running version is longer than PCP's version field.
    pub fn new(mut agent: Agent<S, A, K, L>, config: FlowConfig) -> Option<Self> {
        let running = version_field(agent.running().as_str())?;
        let flow = PcpFlow::new(running, agent.boot().layout().max_image_size(), config);
        let source = PcpSource::new(flow, agent.checkpoint());
        Some(Self { agent, source, in_flight: None, execute: false })
    }

    /// The Agent.
    pub fn agent(&self) -> &Agent<S, A, K, L> {
        &self.agent
    }

    /// The Agent, mutably (its flash, its application hooks).
    pub fn agent_mut(&mut self) -> &mut Agent<S, A, K, L> {
        &mut self.agent
    }

    /// The PCP source (its flow's state and counters).
    pub fn source(&self) -> &PcpSource<B> {
        &self.source
    }

    /// Gives back the Agent.
    pub fn into_agent(self) -> Agent<S, A, K, L> {
        self.agent
    }

    /// True once the platform asked to install the staged package.
    pub fn execute_requested(&self) -> bool {
        self.execute
    }

    /// True while a report waits to be sent or acknowledged.
    pub fn report_pending(&self) -> bool {
        self.in_flight.is_some() || self.agent.next_report().is_some()
    }

    /// Takes one PCP frame from the platform and tells what it led to: an offer handed to
    /// the Agent ([`Event::Offered`]), a report acknowledged ([`Event::Reported`]), the
    /// task dropped ([`Event::NoUpdate`]), the platform's request to install
    /// ([`Event::Reboot`] once the reports are out; until then [`poll`](Self::poll) answers
    /// it when they are). Send what [`poll_transmit`](Self::poll_transmit) gives right
    /// after: the flow holds one immediate answer.
    pub fn handle(&mut self, now_ms: u64, frame: &[u8]) -> Result<Event, BootError> {
        Ok(match self.source.handle(now_ms, frame) {
            Some(SourceEvent::OfferReady) => match self.source.offer::<L>() {
                Some(offer) => Event::Offered(self.agent.offer(offer, now_ms)),
                None => Event::Idle,
            },
            Some(SourceEvent::ReportAcknowledged) => match self.in_flight.take() {
                Some(sent) => {
                    self.agent.report_delivered(&sent)?;
                    Event::Reported
                }
                None => Event::Idle,
            },
            Some(SourceEvent::Execute) => {
                self.execute = true;
                if self.reboot_due() { Event::Reboot } else { Event::Idle }
            }
            Some(SourceEvent::NoTask) => Event::NoUpdate,
            None => Event::Idle,
        })
    }

    /// The platform asked to install, an image is staged and every report is out.
    fn reboot_due(&self) -> bool {
        self.execute && self.agent.reboot_pending() && !self.report_pending()
    }

    /// Starts the Agent's next report when none is on the wire, then answers
    /// [`Event::Reboot`] when it is [due](Self::handle), or else moves the download on by
    /// one step (`buf` is the chunk buffer).
    ///
    /// The LwM2M stack, not this device, owns the connection to the platform (the PCP
    /// object is one resource among the stack's objects), so the device is handed the
    /// frames that arrive ([`handle`](Self::handle)) and asked for those to send
    /// ([`poll_transmit`](Self::poll_transmit)) rather than owning a transport as the other
    /// drivers do; its events are the same [`Event`]s.
    pub fn poll(&mut self, buf: &mut [u8], now_ms: u64) -> Result<Event, BootError> {
        if self.in_flight.is_none()
            && let Some(report) = self.agent.next_report().cloned()
        {
            match self.source.start_report(&report, self.agent.running()) {
                ReportStart::Delivered => {
                    self.agent.report_delivered(&report)?;
                }
                ReportStart::Sent => self.in_flight = Some(report),
            }
        }
        if self.reboot_due() {
            return Ok(Event::Reboot);
        }
        Ok(self.agent.poll(&mut self.source, buf, now_ms).into())
    }

    /// The next device frame to send, if any.
    pub fn poll_transmit(&mut self, now_ms: u64, out: &mut [u8]) -> Option<usize> {
        self.source.poll_transmit(now_ms, out)
    }
}

#[cfg(all(test, feature = "mock"))]
mod tests {
    use super::*;
    use crate::Version;
    use crate::agent::{AgentConfig, Startup};
    use crate::boot::{BootLoader, Layout, Phase};
    use crate::flash::OneFlash;
    use crate::image::SignaturePolicy;
    use crate::mock::SimFlash;
    use crate::mock::pcp_platform::{PcpPackage, PcpPlatform};
    use crate::platform::huawei_pcp::codec::{MAX_DEVICE_FRAME, result};

    type Flash = OneFlash<SimFlash<4, 4096>>;

    fn device(flash: Flash, running: &str) -> (PcpDevice<Flash>, Startup) {
        let mut flash = flash;
        let layout =
            Layout::select(&mut flash, (0, 8192), (8192, 24 * 4096), (26 * 4096, 25 * 4096)).unwrap();
        let config =
            AgentConfig { accept_transport_checked: true, ..AgentConfig::new(SignaturePolicy::Unsigned) };
        let mut agent = Agent::new(flash, layout, config, Version::parse(running).unwrap()).unwrap();
        let startup = agent.start().unwrap();
        (PcpDevice::new(agent, FlowConfig { timeout_ms: 200, max_retries: 5 }).unwrap(), startup)
    }

    /// One millisecond of the device's main loop against the platform.
    fn step(dev: &mut PcpDevice<Flash>, platform: &mut PcpPlatform, now: u64) -> Vec<Event> {
        let mut out = [0u8; MAX_DEVICE_FRAME];
        let mut events = Vec::new();
        for frame in platform.take_frames() {
            events.push(dev.handle(now, &frame).unwrap());
            while let Some(n) = dev.poll_transmit(now, &mut out) {
                platform.receive(&out[..n]);
            }
        }
        let mut buf = [0u8; 256];
        events.push(dev.poll(&mut buf, now).unwrap());
        events.retain(|e| *e != Event::Idle);
        while let Some(n) = dev.poll_transmit(now, &mut out) {
            platform.receive(&out[..n]);
        }
        events
    }

    #[test]
    fn a_whole_pcp_update_with_lost_and_corrupted_blocks_through_the_driver() {
        let img: Vec<u8> = (0..23_456u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 9) as u8).collect();
        let package =
            PcpPackage { version: "2.0".into(), block_size: 500, data: img.clone(), check_code: 0x1234 };
        let mut platform = PcpPlatform::new(Some(package)).execute_after_status().with_faults(7, 11);
        let (mut dev, startup) = device(OneFlash(SimFlash::new(51 * 4096, 0xFF)), "1.0");
        assert_eq!(startup, Startup::Normal);
        platform.query_version();
        platform.notify();
        let mut events = Vec::new();
        let mut now = 0;
        while !events.contains(&Event::Reboot) {
            now += 1;
            assert!(now < 200_000, "no execute; platform heard {:?}", platform.record());
            events.extend(step(&mut dev, &mut platform, now));
        }
        assert!(dev.execute_requested() && !dev.report_pending());
        assert_eq!(events.first(), Some(&Event::Offered(crate::agent::OfferOutcome::Accepted)));
        assert!(events.contains(&Event::Staged) && events.contains(&Event::Reported));
        let rec = platform.record().clone();
        assert_eq!((rec.notify_answers, rec.statuses), (vec![result::OK], vec![result::OK]));
        assert!(dev.source().flow().stats().check_code_errors > 0, "the faults were exercised");
        let Phase::Staged { image, .. } = dev.agent_mut().boot_state().unwrap().phase else {
            panic!("not staged")
        };
        assert_eq!(image.size, 23_456);

        // Execute: reboot into 2.0, which confirms itself and reports upgrade result 0.
        let (mut flash, _, ()) = dev.into_agent().into_parts();
        let layout =
            Layout::select(&mut flash, (0, 8192), (8192, 24 * 4096), (26 * 4096, 25 * 4096)).unwrap();
        BootLoader::new(layout).boot(&mut flash).unwrap();
        let (mut dev, startup) = device(flash, "2.0");
        assert_eq!(startup, Startup::Confirmed(Version::parse("2.0").unwrap()));
        while platform.record().results.is_empty() || dev.report_pending() {
            now += 1;
            assert!(now < 400_000, "no result; platform heard {:?}", platform.record());
            step(&mut dev, &mut platform, now);
        }
        assert_eq!(platform.record().results, vec![(result::OK, "2.0".to_owned())]);
    }
}
