//! The MQTT platform flows: a [`Flow`] drives an [`Agent`] from one platform's topics.
//!
//! A [`Flow`] is generic over the [`MqttClient`] and over a [`Dialect`], the part that
//! speaks one platform: [`TencentDialect`], [`HuaweiDialect`], [`EnosDialect`]. The Flow
//!
//! - subscribes to the dialect's topics, and again after a reconnect whose client did not
//!   re-subscribe by itself (the [`MqttEvent::Connected`] contract);
//! - reports the running version each time a session is ready (and when the platform asks);
//! - decodes every downlink with the platform's codec and hands offers to [`Agent::offer`]
//!   (an offer that reads but cannot be used is answered with a failure report at once,
//!   [`Inbound::Unusable`])
//!   (a repeat of the offer being downloaded is answered `Duplicate` by the Agent and so
//!   ignored; an offer of the running version is refused as already latest, and the
//!   failure report carries the platform's code);
//! - turns every [`Report`] the Agent queues into the platform's uplink and publishes it at
//!   QoS 1, one at a time: the Agent forgets a report ([`Agent::report_delivered`], which
//!   also removes a persisted success or failure from the Journal) only once the broker
//!   acknowledged it ([`MqttClient::unacknowledged`] back at 0 with no session lost); a
//!   report lost with a session is published again in the next one;
//! - pauses the download while the session is down and resumes it with `Range` from where
//!   it stopped ([`Flow::set_pause_offline`]).
//!
//! The firmware bytes come from the [`ChunkSource`] the Flow owns, pointed at each offer's
//! location ([`ChunkSource::locate`]): the platform constructors build an
//! [`HttpSource`] over your HTTP transport, which keeps
//! one HTTP answer open across chunks and resumes with `Range` after a cut (the checkpoint
//! restart). [`Flow::poll`] does one piece of work per call and answers an
//! [`Event`], the type every platform driver answers.

mod dialect;
#[cfg(feature = "enos")]
mod enos;
#[cfg(feature = "huawei")]
mod huawei;
#[cfg(feature = "tencent")]
mod tencent;

pub use dialect::{Dialect, Inbound};
#[cfg(feature = "enos")]
pub use enos::{EnosDialect, FILE_BASE_LEN, FileBaseError};
#[cfg(feature = "huawei")]
pub use huawei::HuaweiDialect;
#[cfg(feature = "tencent")]
pub use tencent::TencentDialect;

use super::Event;
use crate::agent::{Agent, Application, OfferOutcome, Report};
use crate::boot::BootError;
use crate::flash::Storage;
#[cfg(any(feature = "tencent", feature = "huawei", feature = "enos"))]
use crate::transport::http::{HttpSource, HttpTransport};
use crate::transport::mqtt::{LinkState, MqttClient, MqttError, MqttEvent, QoS};
use crate::transport::{ChunkSource, SourceError};

/// Longest topic a dialect builds.
pub const TOPIC_LEN: usize = 160;
/// Largest uplink payload a dialect encodes.
pub const PAYLOAD_LEN: usize = 512;

/// Counters of what a [`Flow`] did, for diagnostics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Sessions that came up ([`MqttEvent::Connected`]).
    pub sessions: u32,
    /// Sessions lost.
    pub disconnects: u32,
    /// Subscribe calls made (first subscription and re-subscriptions).
    pub subscribes: u32,
    /// Messages received.
    pub received: u32,
    /// Offers handed to the Agent.
    pub offers: u32,
    /// Offers the Agent answered `Duplicate` (ignored).
    pub duplicates: u32,
    /// Offers that could not be used ([`Inbound::Unusable`]), answered with a failure.
    pub unusable: u32,
    /// Messages on topics the dialect does not own, passed to the application
    /// ([`Flow::poll_with`]) or dropped ([`Flow::poll`]).
    pub passed_on: u32,
    /// Reports published.
    pub reports_sent: u32,
    /// Times a download paused because the session was lost (see [`Flow::set_pause_offline`]).
    pub pauses: u32,
}

/// A platform flow: an [`Agent`] driven over MQTT in one platform's dialect.
///
/// Wiring a device, here Tencent IoT Hub over the host MQTT client and TCP (on a
/// microcontroller: your own [`MqttClient`] and [`Connector`](crate::transport::http::Connector)
/// over the network stack, the real flash instead of `SimFlash`):
///
/// ```no_run
/// # #[cfg(feature = "mock")] {
/// use ota_client::agent::Agent;
/// use ota_client::boot::Layout;
/// use ota_client::flash::OneFlash;
/// use ota_client::image::SignaturePolicy;
/// use ota_client::mock::SimFlash;
/// use ota_client::platform::flow::Flow;
/// use ota_client::time::Clock;
/// use ota_client::transport::http::HttpClient;
/// use ota_client::transport::mqtt_std::StdMqttClient;
///
/// // Flash: the state partition (journal), slot A, slot B.
/// let mut flash = OneFlash(SimFlash::<4, 4096>::new(130 * 4096, 0xFF));
/// let layout = Layout::select(&mut flash, (0, 2 * 4096), (2 * 4096, 64 * 4096), (66 * 4096, 64 * 4096)).unwrap();
///
/// // After every boot: start the Agent (confirms or rolls back a new image), then the flow.
/// let mut agent = Agent::new(flash, layout, SignaturePolicy::Unsigned, "1.0.0".parse().unwrap()).unwrap();
/// agent.start().unwrap();
/// let mqtt = StdMqttClient::connect("PRODUCT1dev1", "mqtt.example", 1883);
/// let mut flow = Flow::tencent(mqtt, HttpClient::tcp(), "PRODUCT1", "dev1", agent).unwrap();
///
/// let clock = std::time::Instant::now();
/// let (mut rx, mut chunk) = ([0u8; 4096], [0u8; 1024]);
/// loop {
///     let event = flow.poll(clock.now_ms(), &mut rx, &mut chunk).unwrap();
///     if event.is_reboot() {
///         break; // staged and the reports are out: reset into the new image
///     }
///     if event.is_idle() {
///         std::thread::sleep(std::time::Duration::from_millis(20)); // or wait for an interrupt
///     }
/// }
/// # }
/// ```
///
/// Huawei IoTDA and EnOS cloud are the same with [`Flow::huawei`] or [`Flow::enos`]. With
/// another [`ChunkSource`] (a download over something else than HTTP), build the flow with
/// [`Flow::new`] and a dialect.
pub struct Flow<
    M: MqttClient,
    D: Dialect<L>,
    C: ChunkSource,
    S: Storage,
    A: Application = (),
    const K: usize = 8,
    const L: usize = 512,
> {
    mqtt: M,
    dialect: D,
    source: C,
    agent: Agent<S, A, K, L>,
    /// The source holds a download's state (an open answer) to drop once the offer is gone.
    source_busy: bool,
    /// Filters still to subscribe (from this index on), or `None` when all are.
    subscribe_from: Option<usize>,
    /// A session came up and the version is not yet reported in it.
    announce: bool,
    last_outcome: Option<OfferOutcome>,
    pause_offline: bool,
    paused: bool,
    /// The report published and not yet acknowledged by the broker.
    in_flight: Option<Report>,
    /// The last report published.
    last_sent: Option<Report>,
    stats: FlowStats,
    topic: [u8; TOPIC_LEN],
    out: [u8; PAYLOAD_LEN],
}

impl<M: MqttClient, D: Dialect<L>, C: ChunkSource, S: Storage, A: Application, const K: usize, const L: usize>
    Flow<M, D, C, S, A, K, L>
{
    /// A flow over `mqtt` (connecting or connected) that downloads offers through `source`
    /// (pointed at each offer with [`ChunkSource::locate`]), for an `agent` that has been
    /// [started](Agent::start) after this boot. The platform constructors
    /// ([`Flow::tencent`], [`Flow::huawei`], [`Flow::enos`]) take an HTTP transport instead
    /// and build the source.
    pub fn new(mqtt: M, dialect: D, source: C, agent: Agent<S, A, K, L>) -> Self {
        Self {
            mqtt,
            dialect,
            source,
            agent,
            source_busy: false,
            subscribe_from: Some(0),
            announce: true,
            last_outcome: None,
            pause_offline: true,
            paused: false,
            in_flight: None,
            last_sent: None,
            stats: FlowStats::default(),
            topic: [0; TOPIC_LEN],
            out: [0; PAYLOAD_LEN],
        }
    }

    /// The Agent.
    pub fn agent(&self) -> &Agent<S, A, K, L> {
        &self.agent
    }

    /// The Agent, mutably (its flash, its application hooks).
    pub fn agent_mut(&mut self) -> &mut Agent<S, A, K, L> {
        &mut self.agent
    }

    /// The MQTT client.
    pub fn mqtt(&self) -> &M {
        &self.mqtt
    }

    /// The MQTT client, for the application's own messages on a shared connection (see
    /// [`Flow::poll_with`]). Its QoS 1 publishes count in
    /// [`MqttClient::unacknowledged`] too, which only delays the moment the flow counts a
    /// report as delivered; do not disconnect it or unsubscribe the flow's topics.
    pub fn mqtt_mut(&mut self) -> &mut M {
        &mut self.mqtt
    }

    /// The dialect.
    pub fn dialect(&self) -> &D {
        &self.dialect
    }

    /// The dialect, to change its settings while the flow runs (for instance
    /// [`EnosDialect::ask_now`]).
    pub fn dialect_mut(&mut self) -> &mut D {
        &mut self.dialect
    }

    /// What the Agent made of the last offer.
    pub fn last_outcome(&self) -> Option<OfferOutcome> {
        self.last_outcome
    }

    /// Counters.
    pub fn stats(&self) -> FlowStats {
        self.stats
    }

    /// Whether a download pauses while the MQTT session is down (default `true`).
    ///
    /// A lost session usually means a lost network, and the platform hears no progress
    /// meanwhile: the download stops, its HTTP answer is closed, and once a session is back
    /// it resumes from where it stopped with a `Range` request (the Tencent checkpoint
    /// restart; the platform offering the same firmware again meanwhile is ignored as a
    /// duplicate). With `false` the download goes on regardless of the session.
    pub fn set_pause_offline(&mut self, on: bool) {
        self.pause_offline = on;
    }

    /// Whether the download may move now: always when pausing is off, otherwise while a
    /// session is up.
    pub fn may_download(&self) -> bool {
        !self.pause_offline || matches!(self.mqtt.state(), LinkState::Connected | LinkState::Ready)
    }

    /// The chunk source the flow downloads through.
    pub fn source_mut(&mut self) -> &mut C {
        &mut self.source
    }

    /// Gives back the client, the dialect, the chunk source and the Agent.
    pub fn into_parts(self) -> (M, D, C, Agent<S, A, K, L>) {
        (self.mqtt, self.dialect, self.source, self.agent)
    }

    /// True while a report waits to be published or acknowledged.
    pub fn report_pending(&self) -> bool {
        self.in_flight.is_some() || self.agent.next_report().is_some()
    }

    /// Does the next piece of work and tells what it did (see [`Event`]): handles MQTT
    /// ((re)subscribes, takes every waiting message into `rx`, which bounds the largest
    /// message, hands offers to the Agent, publishes what is queued); when that brought
    /// nothing worth telling, answers [`Event::Reboot`] once an image is staged and every
    /// report is out, or else moves the download on by one chunk (`chunk` is its buffer).
    /// Call it in the main loop; it never blocks. Sleep when [`Event::is_idle`].
    ///
    /// Messages on topics the dialect does not [own](Dialect::owns) are dropped; a device
    /// whose application shares the MQTT connection (the platforms give a device one) calls
    /// [`Flow::poll_with`] instead.
    ///
    /// A failure to forget a delivered report ([`ReportError`](crate::agent::ReportError))
    /// arrives as the [`BootError`] it converts to, with its cause (a corrupt journal as
    /// [`BootError::JournalCorrupt`], a full one as [`BootError::StateFull`]).
    pub fn poll(&mut self, now_ms: u64, rx: &mut [u8], chunk: &mut [u8]) -> Result<Event, BootError> {
        self.poll_with(now_ms, rx, chunk, &mut |_, _| {})
    }

    /// [`Flow::poll`] on a connection the application shares: every message on a topic the
    /// dialect does not [own](Dialect::owns) goes to `other(topic, payload)`. The
    /// application publishes and subscribes through [`Flow::mqtt_mut`]; after
    /// [`Event::Connected`] from a client that does not re-subscribe by itself it subscribes
    /// to its own topics again.
    pub fn poll_with(
        &mut self,
        now_ms: u64,
        rx: &mut [u8],
        chunk: &mut [u8],
        other: &mut impl FnMut(&str, &[u8]),
    ) -> Result<Event, BootError> {
        let link = self.service(now_ms, rx, other)?;
        if link != Event::Idle {
            return Ok(link);
        }
        if self.agent.reboot_pending() && !self.report_pending() {
            return Ok(Event::Reboot);
        }
        Ok(self.download(chunk, now_ms))
    }

    /// The MQTT half of [`Flow::poll_with`]: what it did worth telling, [`Event::Idle`] if
    /// nothing.
    fn service(
        &mut self,
        now_ms: u64,
        rx: &mut [u8],
        other: &mut impl FnMut(&str, &[u8]),
    ) -> Result<Event, BootError> {
        let mut event = Event::Idle;
        self.subscribe();
        // Taken before the events: a publish lost with its session stops being counted only
        // after that session's end is queued, so a 0 here means delivered unless the events
        // below tell of a lost session.
        let acked = self.mqtt.unacknowledged() == 0;
        let mut drained = false;
        // A bounded number of messages per call, so that downloads keep moving.
        for _ in 0..16 {
            let (topic, payload) = match self.mqtt.poll(rx) {
                Ok(MqttEvent::Message { topic, payload }) => (topic, payload),
                Ok(MqttEvent::Connected { resubscribed }) => {
                    // Whatever was in flight goes again in this session.
                    self.in_flight = None;
                    self.stats.sessions = self.stats.sessions.saturating_add(1);
                    if !resubscribed {
                        self.subscribe_from = Some(0);
                        self.subscribe();
                    }
                    self.announce = true;
                    event = event.or(Event::Connected);
                    continue;
                }
                Ok(MqttEvent::Disconnected) => {
                    self.in_flight = None;
                    self.stats.disconnects = self.stats.disconnects.saturating_add(1);
                    event = event.or(Event::Disconnected);
                    continue;
                }
                // A message too large or a refusal: dropped, the next poll goes on.
                Err(nb::Error::Other(_)) => continue,
                Err(nb::Error::WouldBlock) => {
                    drained = true;
                    break;
                }
            };
            self.stats.received = self.stats.received.saturating_add(1);
            if !self.dialect.owns(topic) {
                self.stats.passed_on = self.stats.passed_on.saturating_add(1);
                other(topic, payload);
                continue;
            }
            match self.dialect.decode(topic, payload, self.agent.running()) {
                Inbound::Offer(offer) => {
                    self.stats.offers = self.stats.offers.saturating_add(1);
                    let outcome = self.agent.offer(offer, now_ms);
                    if outcome == OfferOutcome::Duplicate {
                        self.stats.duplicates = self.stats.duplicates.saturating_add(1);
                    }
                    self.last_outcome = Some(outcome);
                    self.dialect.offer_outcome(outcome);
                    event = event.or(Event::Offered(outcome));
                }
                Inbound::Unusable { version, cause } => {
                    self.stats.unusable = self.stats.unusable.saturating_add(1);
                    self.agent.report_refused(version, cause);
                    event = event.or(Event::Unusable(cause));
                }
                Inbound::ReportVersion => self.agent.report_version(),
                Inbound::Ignore => {}
            }
        }
        if self.announce && self.mqtt.state() == LinkState::Ready {
            self.announce = false;
            self.agent.report_version();
            self.dialect.session_ready();
        }
        self.publish_requests();
        if self.publish_reports(acked && drained)? {
            event = event.or(Event::Reported);
        }
        Ok(event)
    }

    /// The download half of [`Flow::poll_with`]: one step of the Agent with the source
    /// pointed at the current offer. While the download [may not move](Flow::may_download)
    /// it answers [`Event::Waiting`] and closes the source's open answer once per pause, so
    /// the resumed fetch asks anew.
    fn download(&mut self, chunk: &mut [u8], now_ms: u64) -> Event {
        let Some(offer) = self.agent.current_offer() else {
            if core::mem::take(&mut self.source_busy) {
                self.source.reset();
            }
            return Event::Idle;
        };
        if !self.may_download() {
            if !self.paused {
                self.paused = true;
                self.stats.pauses = self.stats.pauses.saturating_add(1);
                self.source.reset();
            }
            return Event::Waiting;
        }
        self.paused = false;
        self.source_busy = true;
        match self.source.locate(&offer.location, &offer.token) {
            Ok(()) => self.agent.poll(&mut self.source, chunk, now_ms).into(),
            // The location cannot be downloaded from: the engine ends the update with it.
            Err(e) => self.agent.poll(&mut Refusing(e), chunk, now_ms).into(),
        }
    }

    fn subscribe(&mut self) {
        let Some(from) = self.subscribe_from else { return };
        let mut buf = [0u8; TOPIC_LEN];
        for i in from..self.dialect.filter_count() {
            let Some(filter) = self.dialect.filter(i, &mut buf) else { continue };
            match self.mqtt.subscribe(filter, QoS::AtLeastOnce) {
                Ok(()) => self.stats.subscribes = self.stats.subscribes.saturating_add(1),
                // Try again (from this filter) at the next service.
                Err(nb::Error::WouldBlock) => {
                    self.subscribe_from = Some(i);
                    return;
                }
                // A filter the client refuses will not get better: skip it.
                Err(nb::Error::Other(_)) => {}
            }
        }
        self.subscribe_from = None;
    }

    fn ready(&self) -> bool {
        self.mqtt.state() == LinkState::Ready
    }

    fn publish_requests(&mut self) {
        while self.ready() {
            let Some((t, n)) = self.dialect.next_request(&mut self.topic, &mut self.out) else { return };
            match publish(&mut self.mqtt, &self.topic, t, &self.out, n) {
                Sent::Yes | Sent::Never => self.dialect.request_sent(),
                Sent::Later => return,
            }
        }
    }

    /// Publishes the Agent's reports, one at a time: a report is forgotten (and its
    /// persisted copy removed) only once the broker acknowledged it (`acked`: nothing
    /// unacknowledged and no session lost), or at once with a client that does not count.
    /// True when a report was acknowledged.
    fn publish_reports(&mut self, acked: bool) -> Result<bool, BootError> {
        let mut delivered = false;
        if let Some(sent) = &self.in_flight {
            if !acked {
                return Ok(false);
            }
            // Only that report: the Agent may have replaced a progress report meanwhile, and
            // then it is gone already.
            self.agent.report_delivered(sent)?;
            self.in_flight = None;
            delivered = true;
        }
        while self.ready() {
            let Some(report) = self.agent.next_report().cloned() else { return Ok(delivered) };
            let report = &report;
            // A progress report equal to the last one published tells nothing new.
            let repeat = matches!(report, Report::Progress { .. }) && self.last_sent.as_ref() == Some(report);
            if !repeat {
                let running = self.agent.running();
                let encoded = self.dialect.encode_report(report, running, &mut self.topic, &mut self.out);
                if let Some((t, n)) = encoded {
                    match publish(&mut self.mqtt, &self.topic, t, &self.out, n) {
                        Sent::Yes => {
                            self.stats.reports_sent = self.stats.reports_sent.saturating_add(1);
                            self.last_sent = Some(report.clone());
                            if self.mqtt.unacknowledged() > 0 {
                                self.in_flight = Some(report.clone());
                                return Ok(delivered);
                            }
                        }
                        Sent::Never => {}
                        Sent::Later => return Ok(delivered),
                    }
                }
            }
            self.agent.report_delivered(report)?;
            delivered = true;
        }
        Ok(delivered)
    }
}

#[cfg(feature = "tencent")]
impl<M: MqttClient, H: HttpTransport, S: Storage, A: Application, const K: usize, const L: usize>
    Flow<M, TencentDialect, HttpSource<H, heapless::String<L>>, S, A, K, L>
{
    /// A Tencent IoT Hub flow for `device_name` of `product_id` ([`TencentDialect`]), downloading over `http`; `None` when an id is too long.
    pub fn tencent(
        mqtt: M,
        http: H,
        product_id: &str,
        device_name: &str,
        agent: Agent<S, A, K, L>,
    ) -> Option<Self> {
        let source = HttpSource::for_offers(http);
        Some(Self::new(mqtt, TencentDialect::new(product_id, device_name)?, source, agent))
    }
}

#[cfg(feature = "huawei")]
impl<M: MqttClient, H: HttpTransport, S: Storage, A: Application, const K: usize, const L: usize>
    Flow<M, HuaweiDialect, HttpSource<H, heapless::String<L>>, S, A, K, L>
{
    /// A Huawei IoTDA flow for `device_id` ([`HuaweiDialect`]), downloading over `http`; `None` when an id is too long.
    pub fn huawei(mqtt: M, http: H, device_id: &str, agent: Agent<S, A, K, L>) -> Option<Self> {
        let source = HttpSource::for_offers(http);
        Some(Self::new(mqtt, HuaweiDialect::new(device_id)?, source, agent))
    }
}

#[cfg(feature = "enos")]
impl<M: MqttClient, H: HttpTransport, S: Storage, A: Application, const K: usize, const L: usize>
    Flow<M, EnosDialect, HttpSource<H, heapless::String<L>>, S, A, K, L>
{
    /// An EnOS cloud flow for `device_key` of `product_key` ([`EnosDialect`]), downloading over `http`; `None` when an id is too long.
    pub fn enos(
        mqtt: M,
        http: H,
        product_key: &str,
        device_key: &str,
        agent: Agent<S, A, K, L>,
    ) -> Option<Self> {
        let source = HttpSource::for_offers(http);
        Some(Self::new(mqtt, EnosDialect::new(product_key, device_key)?, source, agent))
    }
}

/// The source of an offer whose location the flow's source refused: every fetch fails.
struct Refusing(SourceError);

impl ChunkSource for Refusing {
    fn fetch(&mut self, _offset: u32, _buf: &mut [u8]) -> nb::Result<usize, SourceError> {
        Err(nb::Error::Other(self.0))
    }
}

enum Sent {
    Yes,
    /// The message can never be sent (bad topic, too large): give it up.
    Never,
    Later,
}

fn publish(mqtt: &mut impl MqttClient, topic: &[u8], t: usize, out: &[u8], n: usize) -> Sent {
    let (Some(topic), Some(payload)) = (topic.get(..t), out.get(..n)) else { return Sent::Never };
    let Ok(topic) = core::str::from_utf8(topic) else { return Sent::Never };
    match mqtt.publish(topic, payload, QoS::AtLeastOnce) {
        Ok(()) => Sent::Yes,
        Err(nb::Error::WouldBlock | nb::Error::Other(MqttError::Closed)) => Sent::Later,
        Err(nb::Error::Other(_)) => Sent::Never,
    }
}
