//! The device over a scripted [`HttpTransport`] (no network): arbitrary answers to every
//! call never panic it and never stage anything.

use std::collections::VecDeque;
use std::vec::Vec;

use proptest::prelude::*;

use super::EdgeDevice;
use crate::Version;
use crate::agent::{Agent, AgentConfig, Application};
use crate::boot::{Layout, Phase, Strategy as BootStrategy};
use crate::flash::{OneFlash, Partition};
use crate::mock::SimFlash;
use crate::platform::Event;
use crate::platform::enos_edge::{EdgeConfig, EdgeEndpoints, UpgradeMode};
use crate::transport::http::{ContentRange, HttpError, HttpTransport, Response};

type Flash = SimFlash<4, 4096>;

/// One answer to a GET: status, `Content-Length`, `Content-Range`, body.
type Get = (u16, Option<u64>, Option<ContentRange>, Vec<u8>);

/// Answers calls from scripts; an exhausted script fails the call as a closed link.
#[derive(Default)]
struct Scripted {
    posts: VecDeque<(u16, Vec<u8>)>,
    gets: VecDeque<Get>,
    body: Vec<u8>,
    at: usize,
}

impl HttpTransport for Scripted {
    fn get_range(&mut self, _url: &str, _offset: u64, _bearer: Option<&str>) -> Result<Response, HttpError> {
        let (status, content_length, content_range, body) = self.gets.pop_front().ok_or(HttpError::Closed)?;
        self.body = body;
        self.at = 0;
        Ok(Response { status, content_length, content_range })
    }
    fn read_body(&mut self, out: &mut [u8]) -> Result<usize, HttpError> {
        let rest = self.body.get(self.at..).unwrap_or(&[]);
        let n = rest.len().min(out.len());
        out[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        Ok(n)
    }
    fn post_json(&mut self, _url: &str, _json: &[u8], answer: &mut [u8]) -> Result<(u16, usize), HttpError> {
        let (status, body) = self.posts.pop_front().ok_or(HttpError::Closed)?;
        let n = body.len().min(answer.len());
        answer[..n].copy_from_slice(&body[..n]);
        Ok((status, n))
    }
    fn close(&mut self) {
        self.body.clear();
    }
}

struct App;

impl Application for App {
    fn request_reboot(&mut self) {}
}

/// checkversion answers shaped like the Edge's, with arbitrary values in every field.
fn answer() -> impl Strategy<Value = Vec<u8>> {
    let code =
        prop_oneof![Just("0".to_owned()), Just("1".to_owned()), Just("\"1\"".to_owned()), "-?[0-9]{1,3}"];
    let text = prop_oneof![Just("2.0.0".to_owned()), Just("1.0.0".to_owned()), "[ -~]{0,40}"];
    let url = prop_oneof![
        Just("/version/1".to_owned()),
        Just("http://127.0.0.1:1/fw".to_owned()),
        "[ -!#-~]{0,60}".prop_map(|s| s.replace('\\', "")),
    ];
    let sign = prop_oneof![Just("0123456789abcdef0123456789abcdef".to_owned()), "[0-9a-z]{0,70}"];
    let size = prop_oneof![Just(String::new()), "[0-9]{1,12}".prop_map(|n| format!(r#","fileSize":{n}"#))];
    (code, text, url, sign, size).prop_map(|(code, version, url, sign, size)| {
        let version = version.replace(['"', '\\'], "");
        format!(
            r#"{{"assetId":"a","version":"{version}","code":{code},"signMethod":"MD5","sign":"{sign}","downloadurl":"{url}"{size}}}"#
        )
        .into_bytes()
    })
}

fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..300)
}

fn get() -> impl Strategy<Value = Get> {
    let whole = any_bytes().prop_map(|b| (200u16, Some(b.len() as u64), None, b));
    prop_oneof![whole, any_get()]
}

fn any_get() -> impl Strategy<Value = Get> {
    let range = proptest::option::of((0u64..5000, 0u64..5000, proptest::option::of(0u64..5000)))
        .prop_map(|r| r.map(|(first, last, total)| ContentRange { first, last, total }));
    (prop_oneof![Just(200u16), Just(206), 100u16..600], proptest::option::of(0u64..5000), range, any_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_answers_never_panic_and_stage_nothing(
        checks in proptest::collection::vec(
            prop_oneof![answer().prop_map(|a| (200u16, a)), (100u16..600, any_bytes())],
            1..6,
        ),
        reports in proptest::collection::vec((100u16..600, any_bytes()), 0..8),
        gets in proptest::collection::vec(get(), 0..12),
        forced in any::<bool>(),
    ) {
        let storage = OneFlash(Flash::new(20 * 4096, 0xFF));
        let part = |first: u32, n: u32| Partition::new(&storage.0, first * 4096, n * 4096, 0xFF).unwrap();
        let layout = Layout::new::<OneFlash<Flash>>(part(0, 2), part(2, 9), part(11, 9), BootStrategy::Select).unwrap();
        let agent: Agent<_> = Agent::new(storage, layout, AgentConfig::new(crate::image::SignaturePolicy::Unsigned), Version::parse("1.0.0").unwrap()).unwrap();
        let agent = agent.with_application(App);
        let mut config: EdgeConfig = EdgeConfig::new(EdgeEndpoints::all_at("http://edge:1").unwrap(), "a", "s").unwrap();
        config.poll_interval_ms = 100;
        config.refused_retry_ms = 0;
        if forced {
            config.mode = UpgradeMode::ForcedPush;
        }
        // Check answers and report answers interleave in the order the device asks.
        let mut posts: VecDeque<(u16, Vec<u8>)> = VecDeque::new();
        let mut reports = reports.into_iter();
        for check in checks {
            posts.push_back(check);
            posts.extend(reports.by_ref().take(2));
        }
        posts.extend(reports);
        let transport = Scripted { posts, gets: gets.into(), ..Scripted::default() };
        let mut device = EdgeDevice::new(agent, config, transport);
        device.start(0).unwrap();
        let mut buf = [0u8; 512];
        for step in 0..400u64 {
            let event = device.poll(&mut buf, step * 50);
            prop_assert!(!matches!(event, Event::Staged | Event::Reboot), "{event:?}");
        }
        let phase = device.agent_mut().boot_state().unwrap().phase;
        prop_assert!(matches!(phase, Phase::Idle), "{phase:?}");
    }
}
