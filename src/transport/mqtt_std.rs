//! [`MqttClient`] for the host, over rumqttc's synchronous client (feature `std`).
//!
//! rumqttc's event loop runs in a thread the client owns. The thread reconnects by itself
//! after a lost session (waiting `retry_interval` between attempts), re-subscribes every
//! filter it was given as soon as the broker accepts the new session, and hands messages to
//! [`MqttClient::poll`] through a channel. Sessions are clean, so nothing survives a broker
//! restart except what this client re-sends: its subscriptions. Plain TCP only.
//!
//! ```no_run
//! use ota_client::transport::mqtt::{MqttClient, MqttEvent, QoS};
//! use ota_client::transport::mqtt_std::StdMqttClient;
//!
//! let mut mqtt = StdMqttClient::connect("device-1", "127.0.0.1", 1883);
//! mqtt.subscribe("$ota/update/PRODUCT/device-1", QoS::AtLeastOnce).unwrap();
//! let mut buf = [0u8; 2048];
//! loop {
//!     match mqtt.poll(&mut buf) {
//!         Ok(MqttEvent::Message { topic, payload }) => println!("{topic}: {} bytes", payload.len()),
//!         Ok(other) => println!("{other:?}"),
//!         Err(nb::Error::WouldBlock) => std::thread::sleep(std::time::Duration::from_millis(10)),
//!         Err(nb::Error::Other(e)) => eprintln!("{e}"),
//!     }
//! }
//! ```

use std::string::{String, ToString};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use std::vec::Vec;

use rumqttc::{Client, Connection, Event, MqttOptions, Outgoing, Packet, RecvTimeoutError, SubscribeFilter};

use super::mqtt::{
    LinkState, MqttClient, MqttError, MqttEvent, QoS, copy_message, valid_filter, valid_topic,
};

/// What the event-loop thread passes to the client.
enum Inbound {
    Message(String, Vec<u8>),
    Connected,
    Disconnected,
    Refused,
}

/// State shared between the client and its event-loop thread.
struct Shared {
    state: AtomicU8,
    stop: AtomicBool,
    reconnect: AtomicBool,
    subs: Mutex<Vec<(String, rumqttc::QoS)>>,
    /// Subscribe requests issued but not yet acknowledged (requested, then sent).
    unacked: Mutex<Unacked>,
    /// QoS 1 publishes handed over but not yet acknowledged (requested, then sent).
    publishes: Mutex<Unacked>,
}

#[derive(Default)]
struct Unacked {
    requested: usize,
    sent: Vec<u16>,
}

impl Unacked {
    fn clear(&mut self) {
        self.requested = 0;
        self.sent.clear();
    }
    fn is_empty(&self) -> bool {
        self.requested == 0 && self.sent.is_empty()
    }
}

fn encode_state(s: LinkState) -> u8 {
    match s {
        LinkState::Disconnected => 0,
        LinkState::Connecting => 1,
        LinkState::Connected => 2,
        LinkState::Ready => 3,
    }
}

fn decode_state(v: u8) -> LinkState {
    match v {
        1 => LinkState::Connecting,
        2 => LinkState::Connected,
        3 => LinkState::Ready,
        _ => LinkState::Disconnected,
    }
}

fn to_rumqttc(qos: QoS) -> rumqttc::QoS {
    match qos {
        QoS::AtMostOnce => rumqttc::QoS::AtMostOnce,
        QoS::AtLeastOnce => rumqttc::QoS::AtLeastOnce,
    }
}

impl Shared {
    fn set_state(&self, s: LinkState) {
        self.state.store(encode_state(s), Ordering::SeqCst);
    }
    fn state(&self) -> LinkState {
        decode_state(self.state.load(Ordering::SeqCst))
    }
    fn subs(&self) -> std::sync::MutexGuard<'_, Vec<(String, rumqttc::QoS)>> {
        self.subs.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    fn unacked(&self) -> std::sync::MutexGuard<'_, Unacked> {
        self.unacked.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    fn publishes(&self) -> std::sync::MutexGuard<'_, Unacked> {
        self.publishes.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    /// The session is gone: announces it (when it was up), then forgets the publishes it
    /// took with it, in that order (the [`MqttClient::unacknowledged`] contract).
    fn session_lost(&self, up: &mut bool, tx: &Sender<Inbound>) {
        if *up {
            *up = false;
            let _ = tx.send(Inbound::Disconnected);
        }
        self.publishes().clear();
    }
    /// Connected becomes Ready once nothing is left unacknowledged.
    fn settle(&self) {
        let connected = matches!(self.state(), LinkState::Connected | LinkState::Ready);
        if connected {
            let ready = self.unacked().is_empty();
            self.set_state(if ready { LinkState::Ready } else { LinkState::Connected });
        }
    }
}

/// The host MQTT client: rumqttc in a background thread, auto-reconnect, re-subscribe.
pub struct StdMqttClient {
    client: Client,
    shared: Arc<Shared>,
    inbound: Receiver<Inbound>,
    thread: Option<JoinHandle<()>>,
}

/// Default pause between reconnection attempts.
pub const DEFAULT_RETRY_INTERVAL: Duration = Duration::from_millis(200);

impl StdMqttClient {
    /// Connects to `host:port` as `client_id` with a 5 s keep-alive, clean sessions,
    /// 16 KiB packets and [`DEFAULT_RETRY_INTERVAL`] between attempts.
    pub fn connect(client_id: &str, host: &str, port: u16) -> Self {
        let mut options = MqttOptions::new(client_id, host, port);
        options
            .set_keep_alive(Duration::from_secs(5))
            .set_clean_session(true)
            .set_max_packet_size(16 * 1024, 16 * 1024);
        Self::with_options(options, DEFAULT_RETRY_INTERVAL)
    }

    /// Connects with rumqttc options of the caller's choosing (credentials, keep-alive,
    /// packet size), waiting `retry_interval` between reconnection attempts.
    pub fn with_options(options: MqttOptions, retry_interval: Duration) -> Self {
        let (client, connection) = Client::new(options, 64);
        let shared = Arc::new(Shared {
            state: AtomicU8::new(encode_state(LinkState::Connecting)),
            stop: AtomicBool::new(false),
            reconnect: AtomicBool::new(false),
            subs: Mutex::new(Vec::new()),
            unacked: Mutex::new(Unacked::default()),
            publishes: Mutex::new(Unacked::default()),
        });
        let (tx, inbound) = mpsc::channel();
        let loop_client = client.clone();
        let loop_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("mqtt-event-loop".to_string())
            .spawn(move || run(connection, loop_client, loop_shared, tx, retry_interval))
            .ok();
        if thread.is_none() {
            shared.set_state(LinkState::Disconnected);
        }
        Self { client, shared, inbound, thread }
    }

    /// The filters this client re-subscribes after every reconnect.
    pub fn subscriptions(&self) -> Vec<String> {
        self.shared.subs().iter().map(|(f, _)| f.clone()).collect()
    }
}

/// Sleeps `total`, waking early when the client asks to stop.
fn pause(shared: &Shared, total: Duration) {
    let step = Duration::from_millis(20);
    let mut slept = Duration::ZERO;
    while slept < total && !shared.stop.load(Ordering::SeqCst) {
        std::thread::sleep(step);
        slept += step;
    }
}

/// The event-loop thread.
fn run(
    mut connection: Connection,
    client: Client,
    shared: Arc<Shared>,
    tx: Sender<Inbound>,
    retry: Duration,
) {
    let mut up = false;
    while !shared.stop.load(Ordering::SeqCst) {
        if shared.reconnect.swap(false, Ordering::SeqCst) {
            connection.eventloop.clean();
            shared.session_lost(&mut up, &tx);
            shared.set_state(LinkState::Connecting);
        }
        let event = match connection.recv_timeout(Duration::from_millis(50)) {
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
            Ok(event) => event,
        };
        match event {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                up = true;
                let filters: Vec<SubscribeFilter> =
                    shared.subs().iter().map(|(f, q)| SubscribeFilter::new(f.clone(), *q)).collect();
                {
                    let mut unacked = shared.unacked();
                    unacked.clear();
                    if !filters.is_empty() {
                        unacked.requested = 1;
                    }
                }
                // Announce the session before the state can read Ready, so that a caller
                // who sees Ready finds the Connected event already queued.
                let _ = tx.send(Inbound::Connected);
                shared.set_state(LinkState::Connected);
                if !filters.is_empty() && client.try_subscribe_many(filters).is_err() {
                    // The request queue is full: drop the session and try again.
                    shared.reconnect.store(true, Ordering::SeqCst);
                }
                shared.settle();
            }
            Ok(Event::Outgoing(Outgoing::Subscribe(pkid))) => {
                let mut unacked = shared.unacked();
                unacked.requested = unacked.requested.saturating_sub(1);
                unacked.sent.push(pkid);
            }
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                shared.unacked().sent.retain(|p| *p != ack.pkid);
                if ack.return_codes.iter().any(|c| matches!(c, rumqttc::SubscribeReasonCode::Failure)) {
                    let _ = tx.send(Inbound::Refused);
                }
                shared.settle();
            }
            Ok(Event::Outgoing(Outgoing::Publish(pkid))) if pkid != 0 => {
                let mut publishes = shared.publishes();
                publishes.requested = publishes.requested.saturating_sub(1);
                publishes.sent.push(pkid);
            }
            Ok(Event::Incoming(Packet::PubAck(ack))) => {
                shared.publishes().sent.retain(|p| *p != ack.pkid);
            }
            Ok(Event::Incoming(Packet::Publish(p))) => {
                let _ = tx.send(Inbound::Message(p.topic, p.payload.to_vec()));
            }
            Ok(_) => {}
            Err(_) => {
                shared.session_lost(&mut up, &tx);
                shared.set_state(LinkState::Disconnected);
                pause(&shared, retry);
                shared.set_state(LinkState::Connecting);
            }
        }
    }
    shared.set_state(LinkState::Disconnected);
}

impl MqttClient for StdMqttClient {
    fn state(&self) -> LinkState {
        self.shared.state()
    }

    fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS) -> nb::Result<(), MqttError> {
        if !valid_topic(topic) {
            return Err(nb::Error::Other(MqttError::InvalidTopic));
        }
        if self.thread.as_ref().is_none_or(|t| t.is_finished()) {
            return Err(nb::Error::Other(MqttError::Closed));
        }
        let counted = qos == QoS::AtLeastOnce;
        if counted {
            self.shared.publishes().requested += 1;
        }
        self.client.try_publish(topic, to_rumqttc(qos), false, payload.to_vec()).map_err(|_| {
            if counted {
                let mut publishes = self.shared.publishes();
                publishes.requested = publishes.requested.saturating_sub(1);
            }
            nb::Error::WouldBlock
        })
    }

    fn unacknowledged(&self) -> usize {
        let publishes = self.shared.publishes();
        publishes.requested.saturating_add(publishes.sent.len())
    }

    fn subscribe(&mut self, filter: &str, qos: QoS) -> nb::Result<(), MqttError> {
        if !valid_filter(filter) {
            return Err(nb::Error::Other(MqttError::InvalidTopic));
        }
        if self.thread.as_ref().is_none_or(|t| t.is_finished()) {
            return Err(nb::Error::Other(MqttError::Closed));
        }
        let q = to_rumqttc(qos);
        {
            let mut subs = self.shared.subs();
            match subs.iter_mut().find(|(f, _)| f == filter) {
                Some(entry) => entry.1 = q,
                None => subs.push((filter.to_string(), q)),
            }
        }
        self.shared.unacked().requested += 1;
        self.shared.settle();
        self.client.try_subscribe(filter, q).map_err(|_| {
            let mut unacked = self.shared.unacked();
            unacked.requested = unacked.requested.saturating_sub(1);
            nb::Error::WouldBlock
        })
    }

    fn poll<'b>(&mut self, buf: &'b mut [u8]) -> nb::Result<MqttEvent<'b>, MqttError> {
        match self.inbound.try_recv() {
            Ok(Inbound::Message(topic, payload)) => {
                copy_message(topic.as_bytes(), &payload, buf).map_err(nb::Error::Other)
            }
            Ok(Inbound::Connected) => Ok(MqttEvent::Connected { resubscribed: true }),
            Ok(Inbound::Disconnected) => Ok(MqttEvent::Disconnected),
            Ok(Inbound::Refused) => Err(nb::Error::Other(MqttError::Refused)),
            Err(TryRecvError::Empty) => Err(nb::Error::WouldBlock),
            Err(TryRecvError::Disconnected) => Err(nb::Error::Other(MqttError::Closed)),
        }
    }

    fn reconnect(&mut self) -> nb::Result<(), MqttError> {
        self.shared.reconnect.store(true, Ordering::SeqCst);
        Ok(())
    }
}

impl Drop for StdMqttClient {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = self.client.try_disconnect();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
