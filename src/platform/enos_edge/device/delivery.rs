//! Delivery of the reports: each one as its Edge calls, acknowledged one by one.

use super::super::codec::{decode_status_answer, encode_download_result, encode_update_result};
use super::super::config::ID_LEN;
use super::super::report_map::{EdgeCall, calls_for};
use super::{BODY_LEN, EdgeCallKind, EdgeDevice, EdgeError, EdgeEvent, STATUS_LEN, Sending, URL_LEN};
use crate::Version;
use crate::agent::{Application, Report, Stage};
use crate::flash::Storage;
use crate::transport::ChunkSource;
use crate::transport::http::HttpTransport;

impl<T: HttpTransport, S: Storage, A: Application, const K: usize, const L: usize, const N: usize>
    EdgeDevice<T, S, A, K, L, N>
{
    /// Sends the next call of the report at the head of the queue (reports that need no
    /// call, such as `Version`, are dropped on the way).
    pub(super) fn send_report(&mut self, now_ms: u64) -> EdgeEvent {
        let mut asset_id: heapless::String<ID_LEN> = heapless::String::new();
        // Both candidates are ID_LEN long at most.
        let _ = asset_id.push_str(self.asset_id());
        // Local failures first, then the Agent's queue; bounded by the queue's length.
        for _ in 0..8 {
            let (sending, part) = match &self.sending {
                Some((s, part)) => (s.clone(), *part),
                None => match (&self.local, self.agent.next_report()) {
                    (Some(l), _) => (Sending::Local(l.clone()), 0),
                    (None, Some(r)) => (Sending::Agent(r.clone()), 0),
                    (None, None) => return EdgeEvent::Idle,
                },
            };
            let report = match &sending {
                Sending::Agent(r) => r.clone(),
                Sending::Local(l) => Report::Failed {
                    target: Version::parse(&l.version).unwrap_or_else(|_| self.agent.running().clone()),
                    job: crate::JobId::new(),
                    cause: l.cause,
                    stage: Stage::Offer,
                },
            };
            // The report's own job id (the download id of its update), else the current
            // update's when the report is about it.
            let id = match (&self.current, &report) {
                (_, Report::Downloaded { job, .. } | Report::Failed { job, .. }) if !job.is_empty() => {
                    Some(job.clone())
                }
                (Some((f, id)), Report::Downloaded { target, .. } | Report::Failed { target, .. })
                    if f.version.as_str() == target.as_str() && !id.is_empty() =>
                {
                    Some(id.clone())
                }
                _ => None,
            };
            if let Report::Progress { percent, .. } = report {
                // The Agent queues 100 % both for the last chunk and on staging: send it once.
                if self.last_progress == Some(percent) {
                    self.delivered(&sending, now_ms);
                    continue;
                }
            }
            let running = self.agent.running().clone();
            let calls = calls_for(&report, &asset_id, running.as_str(), id.is_some());
            let Some(call) = calls.get(part).copied() else {
                // Nothing (more) to send for this one.
                self.delivered(&sending, now_ms);
                continue;
            };
            let is_last = part.saturating_add(1) >= calls.len();
            // A download answer cannot share the connection with the report.
            if self.agent.current_offer().is_some() {
                self.source.reset();
            }
            let result = self.post_call(&call, id.as_deref().unwrap_or(""));
            let event = match result {
                Ok(kind) => {
                    if let Report::Progress { percent, .. } = report {
                        self.last_progress = Some(percent);
                    }
                    self.stats.calls_accepted = self.stats.calls_accepted.saturating_add(1);
                    EdgeEvent::Reported(kind)
                }
                // 4xx: the Edge refuses this call for good (bad request, unsupported url, not
                // acceptable); sending the same body again cannot help, and would hold up
                // every report behind it.
                Err(EdgeError::Status(status)) if (400..500).contains(&status) => {
                    self.stats.calls_rejected = self.stats.calls_rejected.saturating_add(1);
                    EdgeEvent::ReportRejected { call: call_kind(&call), status }
                }
                Err(e) => {
                    self.stats.calls_failed = self.stats.calls_failed.saturating_add(1);
                    self.sending = Some((sending, part));
                    self.report_due_ms = now_ms.saturating_add(self.config.report_retry_ms);
                    return EdgeEvent::ReportFailed(e);
                }
            };
            if is_last {
                self.delivered(&sending, now_ms);
            } else {
                self.sending = Some((sending, part.saturating_add(1)));
            }
            return event;
        }
        EdgeEvent::Idle
    }

    /// The whole report went through: forget it.
    fn delivered(&mut self, sending: &Sending, now_ms: u64) {
        self.sending = None;
        match sending {
            Sending::Local(_) => self.local = None,
            Sending::Agent(r) => {
                // Only that report (a newer progress report may have replaced it).
                if self.agent.report_delivered(r).is_err() {
                    // The journal could not drop it; it is sent again later (the Edge takes
                    // a repeated report).
                    self.report_due_ms = now_ms.saturating_add(self.config.report_retry_ms);
                }
            }
        }
    }

    /// POSTs one call and judges the Edge's answer.
    fn post_call(&mut self, call: &EdgeCall<'_>, id: &str) -> Result<EdgeCallKind, EdgeError> {
        let mut url: heapless::String<URL_LEN> = heapless::String::new();
        let mut body = [0u8; BODY_LEN];
        let kind = call_kind(call);
        let n = match call {
            EdgeCall::DownloadResult(d) => {
                self.config.endpoints.download_result_url(id, &mut url).map_err(EdgeError::Endpoint)?;
                encode_download_result(d, &mut body).map_err(EdgeError::Codec)?
            }
            EdgeCall::UpdateResult(u) => {
                self.config.endpoints.update_result_url(&mut url).map_err(EdgeError::Endpoint)?;
                encode_update_result(u, &mut body).map_err(EdgeError::Codec)?
            }
        };
        let mut answer = [0u8; STATUS_LEN];
        let (status, len) = self
            .source
            .transport_mut()
            .post_json(&url, body.get(..n).unwrap_or(&[]), &mut answer)
            .map_err(EdgeError::Http)?;
        let accepted = match decode_status_answer(answer.get(..len).unwrap_or(&[])) {
            Ok(a) if a.accepted(status) => true,
            Ok(a) => return Err(EdgeError::Status(a.httpstatus.unwrap_or(status))),
            // Not the documented JSON: the HTTP status decides.
            Err(_) => (200..300).contains(&status),
        };
        if accepted { Ok(kind) } else { Err(EdgeError::Status(status)) }
    }
}

/// What a call is, for events.
fn call_kind(call: &EdgeCall<'_>) -> EdgeCallKind {
    match call {
        EdgeCall::DownloadResult(d) => EdgeCallKind::DownloadResult { code: d.code },
        EdgeCall::UpdateResult(u) => {
            EdgeCallKind::UpdateResult { flag: u.flag.code(), process: u.process.min(100) }
        }
    }
}
