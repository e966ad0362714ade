//! [`Flow::run_http`]: the device loop of a [`Flow`] that downloads over HTTP.

use core::ops::ControlFlow;

use super::{Dialect, Flow};
use crate::agent::{AgentEvent, Application};
use crate::boot::BootError;
use crate::flash::Storage;
use crate::transport::http::{HttpSource, HttpTransport};
use crate::transport::mqtt::MqttClient;

impl<M: MqttClient, D: Dialect<L>, S: Storage, A: Application, const K: usize, const L: usize>
    Flow<M, D, S, A, K, L>
{
    /// Runs the flow, reading the time (milliseconds, monotonic) from `now_ms`: services MQTT (incoming messages into `rx`, which bounds the largest
    /// message taken) and downloads the current offer's image from its location
    /// (`Authorization: Bearer` with the offer's token when it has one) through one
    /// [`HttpSource`] per offer, `chunk` bytes at a time, so that consecutive chunks read on
    /// from one open answer and a resumed download (after a cut, the same firmware offered
    /// again) asks with `Range` from its last checkpoint.
    ///
    /// After every turn `hook` gets the flow and what the download did (`None` when no
    /// download is under way, [`AgentEvent::Waiting`] while it waits for its start or for the
    /// session to come back: sleep or wait for an interrupt there). It returns
    /// [`ControlFlow::Break`] to end the loop: when the application reboots after
    /// [`AgentEvent::Staged`] (see [`Agent::reboot_pending`](crate::agent::Agent::reboot_pending)),
    /// or in tests.
    ///
    /// Fails only when the journal cannot record a delivered report.
    pub fn run_http(
        &mut self,
        http: &mut impl HttpTransport,
        mut now_ms: impl FnMut() -> u64,
        rx: &mut [u8],
        chunk: &mut [u8],
        mut hook: impl FnMut(&mut Self, Option<AgentEvent>) -> ControlFlow<()>,
    ) -> Result<(), BootError> {
        loop {
            let mut url: heapless::String<L> = heapless::String::new();
            let mut token: heapless::String<L> = heapless::String::new();
            let active = match self.agent().current_offer() {
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
                let now = now_ms();
                self.service(now, rx)?;
                let same = match self.agent().current_offer() {
                    Some(offer) => active && offer.location == url && offer.token == token,
                    None => !active,
                };
                if !same {
                    break;
                }
                let event = if active { Some(self.poll_download(&mut source, chunk, now)) } else { None };
                if hook(self, event).is_break() {
                    return Ok(());
                }
            }
        }
    }
}
