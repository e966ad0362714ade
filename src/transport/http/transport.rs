//! [`HttpTransport`]: the HTTP calls the platforms and [`HttpSource`](super::HttpSource) make,
//! so that a modem with its own HTTP client (AT+HTTP commands) can stand in for the built-in
//! [`HttpClient`](super::HttpClient).

use super::{ContentRange, HttpError};

/// The parts of a response head that callers act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Response {
    /// Status code of the final answer (after redirects).
    pub status: u16,
    /// `Content-Length`, when sent (never with chunked bodies).
    pub content_length: Option<u64>,
    /// `Content-Range`, checked for shape.
    pub content_range: Option<ContentRange>,
}

/// HTTP as the platforms use it: ranged downloads and JSON posts.
///
/// One response is open at a time: [`get_range`](Self::get_range) opens it and
/// [`read_body`](Self::read_body) streams its body; the next call abandons what is left.
pub trait HttpTransport {
    /// Sends `GET url`, with `Range: bytes=<offset>-` when `offset > 0` and
    /// `Authorization: Bearer` when a token is given, follows redirects, and returns the
    /// final answer's head. The caller checks the status and `Content-Range`.
    ///
    /// Redirects follow the rules of [`HttpClient`](super::HttpClient#redirects), which an
    /// implementation with its own HTTP stack must keep too: the token is sent only while the
    /// chain stays on the origin of `url` (same scheme, host and port), and a redirect from
    /// `https` to `http` fails with [`HttpError::InsecureRedirect`].
    fn get_range(&mut self, url: &str, offset: u64, bearer: Option<&str>) -> Result<Response, HttpError>;

    /// Reads the next body bytes of the open response into `out`; `Ok(0)` at the end of the
    /// body (or when `out` is empty).
    fn read_body(&mut self, out: &mut [u8]) -> Result<usize, HttpError>;

    /// Sends `POST url` with a JSON body and reads the whole answer body into `answer`.
    /// Returns the status and the answer's length.
    fn post_json(&mut self, url: &str, json: &[u8], answer: &mut [u8]) -> Result<(u16, usize), HttpError>;

    /// Drops the open connection, if any.
    fn close(&mut self);
}

impl<T: HttpTransport + ?Sized> HttpTransport for &mut T {
    fn get_range(&mut self, url: &str, offset: u64, bearer: Option<&str>) -> Result<Response, HttpError> {
        (**self).get_range(url, offset, bearer)
    }
    fn read_body(&mut self, out: &mut [u8]) -> Result<usize, HttpError> {
        (**self).read_body(out)
    }
    fn post_json(&mut self, url: &str, json: &[u8], answer: &mut [u8]) -> Result<(u16, usize), HttpError> {
        (**self).post_json(url, json, answer)
    }
    fn close(&mut self) {
        (**self).close()
    }
}
