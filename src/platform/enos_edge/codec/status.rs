//! The Edge's `{"httpstatus","message"}` answers to reports.

#[cfg(feature = "mock")]
use super::encode;
use super::{CodecError, int_field, parse, raw_text};

/// The Edge's answer to a report: `{"httpstatus":204|400|404|406|500,"message":…}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusAnswer<'a> {
    /// `httpstatus`, when the body has one.
    pub httpstatus: Option<u16>,
    /// `message` (empty when missing).
    pub message: &'a str,
}

impl StatusAnswer<'_> {
    /// True when the report was taken: `httpstatus` 2xx, or no `httpstatus` and a 2xx HTTP
    /// status.
    pub fn accepted(&self, http_status: u16) -> bool {
        (200..300).contains(&self.httpstatus.unwrap_or(http_status))
    }
}

/// Decodes the answer to a downloadresult or updateresult. An empty body (HTTP 204) is an
/// answer without `httpstatus`.
///
/// ```
/// use ota_client::platform::enos_edge::codec::decode_status_answer;
/// let a = decode_status_answer(br#"{"httpstatus":"404","message":"unsupported url"}"#).unwrap();
/// assert_eq!((a.httpstatus, a.message, a.accepted(200)), (Some(404), "unsupported url", false));
/// assert!(decode_status_answer(b"").unwrap().accepted(204));
/// ```
pub fn decode_status_answer(body: &[u8]) -> Result<StatusAnswer<'_>, CodecError> {
    if body.trim_ascii().is_empty() {
        return Ok(StatusAnswer { httpstatus: None, message: "" });
    }
    let obj = parse(body)?;
    let httpstatus = match int_field(&obj, "httpstatus")? {
        None => None,
        Some(s) => Some(u16::try_from(s).map_err(|_| CodecError::Malformed)?),
    };
    Ok(StatusAnswer { httpstatus, message: raw_text(&obj, "message")?.unwrap_or("") })
}

#[cfg(feature = "mock")]
#[derive(serde::Serialize)]
struct StatusAnswerOut<'a> {
    httpstatus: u16,
    message: &'a str,
}

/// Encodes `{"httpstatus":…,"message":…}` (Edge side, feature `mock`).
#[cfg(feature = "mock")]
pub fn encode_status_answer(httpstatus: u16, message: &str, out: &mut [u8]) -> Result<usize, CodecError> {
    encode(&StatusAnswerOut { httpstatus, message }, out)
}
