//! A mock EnOS Edge (feature `mock`) on top of [`MockHttpServer`]: answers checkversion per
//! device with the firmware it holds, serves that firmware with `Range` (and the HTTP
//! server's faults), and records every downloadresult and updateresult body in order.
//!
//! All endpoints share one port; [`EnosEdgeServer::endpoints`] gives the device a
//! configuration pointing at it. Reports are answered `204 No Content`, or with
//! [`set_report_status`](EnosEdgeServer::set_report_status) an error answer such as
//! `{"httpstatus":404,"message":"unsupported url"}`.
//!
//! ```
//! use ota_client::mock::enos_edge_server::EnosEdgeServer;
//! let edge = EnosEdgeServer::start().unwrap();
//! let path = edge.set_firmware("dev1", "2.0.0", vec![1, 2, 3]);
//! assert_eq!(path, "/version/15912345678");
//! println!("Edge at {}", edge.base_url());
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::http_server::{MockHttpServer, MockResponse, RecordedRequest};
use crate::offer::encode_hex;
use crate::platform::enos_edge::EdgeEndpoints;
use crate::platform::enos_edge::codec::{
    CheckVersionAnswerBody, decode_check_version, decode_download_result, decode_update_result,
    encode_check_version_answer, encode_status_answer,
};

/// First download id handed out, as in the seed's example path.
pub const FIRST_DOWNLOAD_ID: u64 = 15_912_345_678;

/// Which endpoint a report went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportKind {
    /// `POST /downloadresult/{id}`, with the id from the path.
    DownloadResult(String),
    /// `POST /updateresult`.
    UpdateResult,
}

/// One report as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeReport {
    /// Which endpoint.
    pub kind: ReportKind,
    /// The body exactly as sent.
    pub json: String,
    /// False when the body did not decode (it is recorded anyway, and answered 400).
    pub well_formed: bool,
}

#[derive(Debug, Clone)]
struct Firmware {
    version: String,
    md5_hex: String,
    path: String,
}

#[derive(Default)]
struct EdgeState {
    devices: HashMap<String, Firmware>,
    /// serialNum → assetId, for devices that ask with an empty `assetId`.
    serials: HashMap<String, String>,
    next_id: u64,
    reports: Vec<EdgeReport>,
    report_status: Option<u16>,
    check_override: Option<MockResponse>,
    checks: usize,
}

/// The mock Edge. Stops when dropped.
pub struct EnosEdgeServer {
    http: MockHttpServer,
    state: Arc<Mutex<EdgeState>>,
}

fn lock(state: &Mutex<EdgeState>) -> MutexGuard<'_, EdgeState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl EnosEdgeServer {
    /// Starts the Edge on `127.0.0.1` at a free port.
    pub fn start() -> std::io::Result<Self> {
        Self::start_on("127.0.0.1:0")
    }

    /// Starts the Edge on `addr` (e.g. `"0.0.0.0:5055"`).
    pub fn start_on(addr: &str) -> std::io::Result<Self> {
        let http = MockHttpServer::start_on(addr)?;
        let state = Arc::new(Mutex::new(EdgeState { next_id: FIRST_DOWNLOAD_ID, ..EdgeState::default() }));
        let st = Arc::clone(&state);
        http.set_handler(Arc::new(move |req: &RecordedRequest| handle(&st, req)));
        Ok(Self { http, state })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        self.http.url("")
    }

    /// Endpoints for a device: every base at this server.
    pub fn endpoints<const N: usize>(&self) -> EdgeEndpoints<N> {
        let base = self.base_url();
        let mut s = heapless::String::new();
        // A loopback base is about 22 bytes; a smaller N is the caller's mistake.
        let _ = s.push_str(&base);
        EdgeEndpoints {
            check_version: s.clone(),
            download: s.clone(),
            download_result: s.clone(),
            update_result: s,
        }
    }

    /// Offers `firmware` as `version` to device `asset_id` (replacing an earlier offer) and
    /// returns its download path `/version/{id}`.
    pub fn set_firmware(&self, asset_id: &str, version: &str, firmware: Vec<u8>) -> String {
        let digest = <[u8; 16]>::from(<md5::Md5 as md5::Digest>::digest(&firmware));
        let mut hex = [0u8; 32];
        let md5_hex = encode_hex(&digest, &mut hex).to_owned();
        let path = {
            let mut s = lock(&self.state);
            let path = format!("/version/{}", s.next_id);
            s.next_id += 1;
            s.devices.insert(
                asset_id.to_owned(),
                Firmware { version: version.to_owned(), md5_hex, path: path.clone() },
            );
            path
        };
        self.http.put_file(&path, firmware);
        path
    }

    /// Like [`set_firmware`](Self::set_firmware) but announces `md5_hex` instead of the
    /// real digest (to test a digest mismatch).
    pub fn set_firmware_with_md5(
        &self,
        asset_id: &str,
        version: &str,
        firmware: Vec<u8>,
        md5_hex: &str,
    ) -> String {
        let path = self.set_firmware(asset_id, version, firmware);
        if let Some(f) = lock(&self.state).devices.get_mut(asset_id) {
            f.md5_hex = md5_hex.to_owned();
        }
        path
    }

    /// Knows the device with serial number `serial` as `asset_id`: a checkversion with an
    /// empty `assetId` and this `serialNum` (seed 000's request) is answered for `asset_id`,
    /// and the answer names it.
    pub fn register_serial(&self, serial: &str, asset_id: &str) {
        lock(&self.state).serials.insert(serial.to_owned(), asset_id.to_owned());
    }

    /// Withdraws the offer to `asset_id`.
    pub fn clear_firmware(&self, asset_id: &str) {
        lock(&self.state).devices.remove(asset_id);
    }

    /// Answers reports with this `httpstatus` (and the same HTTP status) instead of 204;
    /// `None` restores 204.
    pub fn set_report_status(&self, status: Option<u16>) {
        lock(&self.state).report_status = status;
    }

    /// Answers every checkversion with `answer` (a malformed or unusual answer, an error
    /// status) instead of the offer it holds; `None` restores the normal answers.
    pub fn set_check_version_answer(&self, answer: Option<MockResponse>) {
        lock(&self.state).check_override = answer;
    }

    /// Every downloadresult and updateresult so far, in arrival order.
    pub fn reports(&self) -> Vec<EdgeReport> {
        lock(&self.state).reports.clone()
    }

    /// How many checkversion requests arrived.
    pub fn check_count(&self) -> usize {
        lock(&self.state).checks
    }

    /// The HTTP server underneath: faults, request log, connection count.
    pub fn http(&self) -> &MockHttpServer {
        &self.http
    }
}

fn status_json(status: u16, message: &str) -> MockResponse {
    let mut out = [0u8; 128];
    let n = encode_status_answer(status, message, &mut out).unwrap_or(0);
    MockResponse::json(status, out.get(..n).unwrap_or(&[]).to_vec())
}

fn handle(state: &Mutex<EdgeState>, req: &RecordedRequest) -> Option<MockResponse> {
    let path = req.path.split('?').next().unwrap_or("");
    if req.method != "POST" {
        return None;
    }
    if path == "/checkversion" {
        return Some(check_version(state, req));
    }
    let kind = if let Some(id) = path.strip_prefix("/downloadresult/") {
        ReportKind::DownloadResult(id.to_owned())
    } else if path == "/updateresult" {
        ReportKind::UpdateResult
    } else {
        return Some(status_json(404, "unsupported url"));
    };
    let well_formed = match kind {
        ReportKind::DownloadResult(_) => decode_download_result(&req.body).is_ok(),
        ReportKind::UpdateResult => decode_update_result(&req.body).is_ok(),
    };
    let mut s = lock(state);
    s.reports.push(EdgeReport { kind, json: req.body_text(), well_formed });
    Some(match (well_formed, s.report_status) {
        (false, _) => status_json(400, "bad request"),
        (true, Some(status)) => status_json(status, "injected"),
        (true, None) => MockResponse::empty(204),
    })
}

fn check_version(state: &Mutex<EdgeState>, req: &RecordedRequest) -> MockResponse {
    let Ok(ask) = decode_check_version(&req.body) else { return status_json(400, "bad request") };
    let (asset, firmware) = {
        let mut s = lock(state);
        s.checks += 1;
        if let Some(answer) = &s.check_override {
            return answer.clone();
        }
        let asset = match ask.asset_id {
            "" => s.serials.get(ask.serial_num).cloned().unwrap_or_default(),
            named => named.to_owned(),
        };
        let firmware = s.devices.get(&asset).cloned();
        (asset, firmware)
    };
    let body = match &firmware {
        Some(f) if f.version != ask.version => CheckVersionAnswerBody {
            asset_id: &asset,
            version: &f.version,
            code: 1,
            desc: "has update",
            sign_method: "MD5",
            sign: &f.md5_hex,
            downloadurl: &f.path,
        },
        _ => CheckVersionAnswerBody {
            asset_id: &asset,
            version: ask.version,
            code: 0,
            desc: "no update",
            sign_method: "",
            sign: "",
            downloadurl: "",
        },
    };
    let mut out = [0u8; 512];
    match encode_check_version_answer(&body, &mut out) {
        Ok(n) => MockResponse::json(200, out.get(..n).unwrap_or(&[]).to_vec()),
        Err(_) => status_json(500, "answer too large"),
    }
}
