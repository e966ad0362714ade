//! The MQTT client the library drives, as a small trait.
//!
//! The platforms (Tencent IoT Hub, Huawei IoTDA, EnOS cloud) exchange small JSON messages
//! over MQTT. The library needs only what [`MqttClient`] offers: publish at QoS 0 or 1,
//! subscribe, a non-blocking poll that copies one incoming message into a caller buffer,
//! the connection state, and a way to force a reconnect. It is small enough to implement
//! over minimq, rust-mqtt, or the MQTT commands of a cellular modem; on the host,
//! [`StdMqttClient`](crate::transport::mqtt_std::StdMqttClient) (feature `std`) implements
//! it over rumqttc.
//!
//! # Reconnects and subscriptions
//!
//! Every time a session comes up (first connect and every reconnect) [`MqttClient::poll`]
//! yields [`MqttEvent::Connected`] once. Its `resubscribed` flag is the contract on
//! subscriptions:
//!
//! - `true`: the client has re-sent every subscription it was given (a client that keeps
//!   its filter list does this itself). Nothing for the caller to do.
//! - `false`: the session has no subscriptions; the caller must call
//!   [`MqttClient::subscribe`] again for every filter it needs (a client with no room to
//!   remember filters, such as a modem driver, says so this way).
//!
//! [`LinkState::Ready`] means connected *and* every subscription acknowledged by the broker:
//! a platform flow waits for it before it publishes a request whose answer it must not
//! miss (a version report that triggers an offer).
//!
//! Messages published while disconnected may be queued by the client (up to its own bound)
//! or refused with `WouldBlock`; the library re-sends what matters after a reconnect, so a
//! client need not keep anything across a broken session.

/// MQTT delivery guarantee. The platforms use 0 and 1 only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum QoS {
    /// At most once (QoS 0).
    AtMostOnce,
    /// At least once (QoS 1): the broker acknowledges, the client retransmits.
    AtLeastOnce,
}

/// Where the client's link to the broker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum LinkState {
    /// No session; the client is waiting to retry (or was never started).
    Disconnected,
    /// A connection attempt is under way.
    Connecting,
    /// The session is up; some subscriptions are not yet acknowledged.
    Connected,
    /// The session is up and every subscription is acknowledged.
    Ready,
}

/// What [`MqttClient::poll`] hands back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MqttEvent<'b> {
    /// A message on a subscribed topic; both slices borrow the caller's buffer.
    Message {
        /// The topic it was published on.
        topic: &'b str,
        /// The payload.
        payload: &'b [u8],
    },
    /// A session came up (first connect or reconnect). See the module docs for
    /// `resubscribed`.
    Connected {
        /// True when the client has re-sent every known subscription itself.
        resubscribed: bool,
    },
    /// The session was lost. The client retries by itself or on [`MqttClient::reconnect`].
    Disconnected,
}

/// Why an MQTT operation failed. Operations that merely have to wait answer
/// `nb::Error::WouldBlock` instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum MqttError {
    /// An incoming message did not fit the caller's buffer (topic plus payload need
    /// `needed` bytes). The message is dropped; the next poll returns the next one.
    MessageTooLarge {
        /// Bytes the message needed.
        needed: usize,
    },
    /// The topic or filter is empty, holds a wildcard where none is allowed, or is
    /// longer than the client supports.
    InvalidTopic,
    /// The payload is larger than the client can send.
    PayloadTooLarge,
    /// The client cannot hold another subscription.
    TooManySubscriptions,
    /// The broker refused the connection or a subscription.
    Refused,
    /// The client has shut down for good (its event loop ended).
    Closed,
}

impl core::error::Error for MqttError {}

impl core::fmt::Display for MqttError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::MessageTooLarge { needed } => write!(f, "incoming message needs {needed} bytes"),
            Self::InvalidTopic => f.write_str("invalid topic"),
            Self::PayloadTooLarge => f.write_str("payload too large"),
            Self::TooManySubscriptions => f.write_str("too many subscriptions"),
            Self::Refused => f.write_str("refused by the broker"),
            Self::Closed => f.write_str("client closed"),
        }
    }
}

/// An MQTT client, as the library drives it. All calls are non-blocking.
pub trait MqttClient {
    /// The link's current state.
    fn state(&self) -> LinkState;

    /// Publishes `payload` on `topic`. `WouldBlock` when the client cannot take the
    /// message now (not connected and no queue room); call again later.
    fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS) -> nb::Result<(), MqttError>;

    /// Subscribes to `filter`. Returns once the request is accepted (queued or sent); the
    /// broker's acknowledgement shows as [`LinkState::Ready`]. A client that keeps its
    /// filters re-subscribes after every reconnect (see the module docs).
    fn subscribe(&mut self, filter: &str, qos: QoS) -> nb::Result<(), MqttError>;

    /// Takes the next event, copying a message's topic and payload into `buf`.
    /// `WouldBlock` when nothing has arrived.
    fn poll<'b>(&mut self, buf: &'b mut [u8]) -> nb::Result<MqttEvent<'b>, MqttError>;

    /// Drops the current session (if any) and connects again. The new session is
    /// announced by [`MqttEvent::Connected`].
    fn reconnect(&mut self) -> nb::Result<(), MqttError>;

    /// QoS 1 publishes taken by [`MqttClient::publish`] whose acknowledgement (`PUBACK`) has
    /// not arrived. A platform flow waits for 0 before it forgets a report, so a report lost
    /// with a broken session is sent again.
    ///
    /// Contract: a publish lost with a session stops being counted only after the
    /// [`MqttEvent::Disconnected`] of that session is queued for [`MqttClient::poll`]. A client
    /// that cannot tell keeps the default, 0 (a report then counts as delivered once taken).
    fn unacknowledged(&self) -> usize {
        0
    }
}

impl<T: MqttClient + ?Sized> MqttClient for &mut T {
    fn state(&self) -> LinkState {
        (**self).state()
    }
    fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS) -> nb::Result<(), MqttError> {
        (**self).publish(topic, payload, qos)
    }
    fn subscribe(&mut self, filter: &str, qos: QoS) -> nb::Result<(), MqttError> {
        (**self).subscribe(filter, qos)
    }
    fn poll<'b>(&mut self, buf: &'b mut [u8]) -> nb::Result<MqttEvent<'b>, MqttError> {
        (**self).poll(buf)
    }
    fn reconnect(&mut self) -> nb::Result<(), MqttError> {
        (**self).reconnect()
    }
    fn unacknowledged(&self) -> usize {
        (**self).unacknowledged()
    }
}

/// Copies `topic` then `payload` into `buf` and returns the borrowed message, for client
/// implementations. Fails with [`MqttError::MessageTooLarge`] when they do not fit, and
/// [`MqttError::InvalidTopic`] when the topic is not UTF-8.
pub fn copy_message<'b>(topic: &[u8], payload: &[u8], buf: &'b mut [u8]) -> Result<MqttEvent<'b>, MqttError> {
    let needed =
        topic.len().checked_add(payload.len()).ok_or(MqttError::MessageTooLarge { needed: usize::MAX })?;
    if needed > buf.len() {
        return Err(MqttError::MessageTooLarge { needed });
    }
    let (t, rest) = buf.split_at_mut(topic.len());
    t.copy_from_slice(topic);
    let p = rest.get_mut(..payload.len()).ok_or(MqttError::MessageTooLarge { needed })?;
    p.copy_from_slice(payload);
    let topic = core::str::from_utf8(t).map_err(|_| MqttError::InvalidTopic)?;
    Ok(MqttEvent::Message { topic, payload: p })
}

/// Checks a topic name for publishing: non-empty, no wildcards, no NUL, at most 65535
/// bytes (the MQTT limit).
pub fn valid_topic(topic: &str) -> bool {
    !topic.is_empty() && topic.len() <= 65535 && !topic.contains(['+', '#', '\0'])
}

/// Checks a subscription filter: non-empty, no NUL, `+` only as a whole level, `#` only as
/// the whole last level.
pub fn valid_filter(filter: &str) -> bool {
    if filter.is_empty() || filter.len() > 65535 || filter.contains('\0') {
        return false;
    }
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        let last = levels.peek().is_none();
        let ok = match level {
            "+" => true,
            "#" => last,
            l => !l.contains(['+', '#']),
        };
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_messages_into_the_buffer() {
        let mut buf = [0u8; 16];
        let ev = copy_message(b"a/b", b"{\"x\":1}", &mut buf).unwrap();
        assert_eq!(ev, MqttEvent::Message { topic: "a/b", payload: b"{\"x\":1}" });
        assert_eq!(
            copy_message(b"a/b", &[0u8; 14], &mut buf),
            Err(MqttError::MessageTooLarge { needed: 17 })
        );
        assert_eq!(copy_message(&[0xff], b"", &mut buf), Err(MqttError::InvalidTopic));
    }

    #[test]
    fn checks_topics_and_filters() {
        assert!(valid_topic("$ota/report/p/d"));
        assert!(!valid_topic("a/+/b"));
        assert!(!valid_topic(""));
        assert!(valid_filter("/sys/p/d/ota/device/+"));
        assert!(valid_filter("a/#"));
        assert!(valid_filter("#"));
        assert!(!valid_filter("a/#/b"));
        assert!(!valid_filter("a/b+"));
        assert!(!valid_filter(""));
    }
}
