//! [`run_http`]: the device loop of a [`Flow`] that downloads over HTTP.

use super::{Dialect, Flow};
use crate::agent::{AgentEvent, Application};
use crate::boot::BootError;
use crate::flash::{Journal, Storage};
use crate::time::Clock;
use crate::transport::http::{HttpSource, HttpTransport};
use crate::transport::mqtt::MqttClient;

/// What the hook of [`run_http`] wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Return from [`run_http`].
    Stop,
}

/// The buffers [`run_http`] works in.
pub struct RunBuffers<'a> {
    /// Incoming MQTT messages (topic plus payload); bounds the largest message taken.
    pub rx: &'a mut [u8],
    /// One download chunk; its size is the chunk size.
    pub chunk: &'a mut [u8],
}

/// Runs `flow`: services MQTT and downloads the current offer's image from its location
/// (`Authorization: Bearer` with the offer's token when it has one) through one
/// [`HttpSource`] per offer, so that consecutive chunks read on from one open answer and a
/// resumed download (after a cut, the same firmware offered again) asks with `Range` from
/// its last checkpoint.
///
/// After every turn `hook` gets the flow, the storage and what the download did (`None`
/// when no download is under way, [`AgentEvent::Waiting`] while it waits for its start or
/// for the session to come back: sleep or wait for an interrupt there). It returns
/// [`Control::Stop`] to end the loop: when the application reboots after
/// [`AgentEvent::Staged`], or in tests.
///
/// Fails only when the journal cannot record a delivered report.
#[allow(clippy::too_many_arguments)]
pub fn run_http<M, D, S, T, A, const L: usize, const K: usize>(
    flow: &mut Flow<M, D, L>,
    storage: &mut S,
    journal: &mut Journal<K>,
    http: &mut T,
    app: &mut A,
    clock: &impl Clock,
    bufs: RunBuffers<'_>,
    mut hook: impl FnMut(&Flow<M, D, L>, &mut S, Option<AgentEvent>) -> Control,
) -> Result<(), BootError>
where
    M: MqttClient,
    D: Dialect<L>,
    S: Storage,
    T: HttpTransport,
    A: Application,
{
    let RunBuffers { rx, chunk } = bufs;
    loop {
        let mut url: heapless::String<L> = heapless::String::new();
        let mut token: heapless::String<L> = heapless::String::new();
        let active = match flow.agent().current_offer() {
            Some(offer) => {
                url.clone_from(&offer.location);
                token.clone_from(&offer.token);
                true
            }
            None => false,
        };
        let bearer = if token.is_empty() { None } else { Some(token.as_str()) };
        let mut source = HttpSource::new(&mut *http, url.as_str(), bearer);
        loop {
            let now = clock.now_ms();
            flow.service(storage, journal, app, now, rx)?;
            let same = match flow.agent().current_offer() {
                Some(offer) => active && offer.location == url && offer.token == token,
                None => !active,
            };
            if !same {
                break;
            }
            let event = if active {
                Some(flow.poll_download(storage, journal, &mut source, chunk, now, app))
            } else {
                None
            };
            if hook(flow, storage, event) == Control::Stop {
                return Ok(());
            }
        }
    }
}
