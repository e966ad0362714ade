//! Encoding of an HTTP/1.1 request head into a caller buffer.

use super::url::Url;

/// The methods the client sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Method {
    /// `GET`: downloads.
    Get,
    /// `POST`: JSON reports and queries.
    Post,
}

impl Method {
    /// The method token.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// Why a request head could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RequestError {
    /// The head does not fit in the buffer.
    TooLarge,
    /// A header value (the bearer token) holds a control character, which would let it
    /// inject headers.
    BadHeaderValue,
}

impl core::fmt::Display for RequestError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::TooLarge => f.write_str("request head too large"),
            Self::BadHeaderValue => f.write_str("header value holds a control character"),
        }
    }
}

impl core::error::Error for RequestError {}

/// What a request carries besides its method and URL.
///
/// ```
/// use ota_client::transport::http::{encode_request, Method, RequestHead, Url};
/// let url = Url::parse("http://edge:5055/version/7").unwrap();
/// let head = RequestHead { range_from: Some(1024), ..RequestHead::new(Method::Get, url) };
/// let mut buf = [0u8; 256];
/// let n = encode_request(&head, &mut buf).unwrap();
/// let text = core::str::from_utf8(&buf[..n]).unwrap();
/// assert!(text.starts_with("GET /version/7 HTTP/1.1\r\nHost: edge:5055\r\n"));
/// assert!(text.contains("Range: bytes=1024-\r\n"));
/// assert!(text.ends_with("\r\n\r\n"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestHead<'a> {
    /// GET or POST.
    pub method: Method,
    /// Where to.
    pub url: Url<'a>,
    /// Asks for the bytes from this offset on (`Range: bytes=N-`); `None` or `Some(0)` asks
    /// for the whole file.
    pub range_from: Option<u64>,
    /// Sends `Authorization: Bearer <token>`.
    pub bearer: Option<&'a str>,
    /// Length of a JSON body that follows the head (`Content-Type: application/json`).
    pub json_len: Option<usize>,
    /// Asks the server to keep the connection open (`Connection: keep-alive`) or to close it.
    pub keep_alive: bool,
}

impl<'a> RequestHead<'a> {
    /// A keep-alive request without range, token or body.
    pub const fn new(method: Method, url: Url<'a>) -> Self {
        Self { method, url, range_from: None, bearer: None, json_len: None, keep_alive: true }
    }
}

/// Writes the request head (request line, headers, blank line) into `out` and returns its
/// length.
pub fn encode_request(head: &RequestHead<'_>, out: &mut [u8]) -> Result<usize, RequestError> {
    let mut w = Writer { out, len: 0 };
    w.put(head.method.as_str())?;
    w.put(" ")?;
    w.put(head.url.path)?;
    w.put(" HTTP/1.1\r\nHost: ")?;
    let v6 = head.url.host.contains(':');
    if v6 {
        w.put("[")?;
    }
    w.put(head.url.host)?;
    if v6 {
        w.put("]")?;
    }
    if head.url.port != head.url.scheme.default_port() {
        w.put(":")?;
        w.num(u64::from(head.url.port))?;
    }
    w.put("\r\nUser-Agent: ota-client\r\nAccept-Encoding: identity\r\n")?;
    if let Some(from) = head.range_from.filter(|&n| n > 0) {
        w.put("Range: bytes=")?;
        w.num(from)?;
        w.put("-\r\n")?;
    }
    if let Some(token) = head.bearer {
        if token.bytes().any(|b| b < b' ' || b == 0x7F) {
            return Err(RequestError::BadHeaderValue);
        }
        w.put("Authorization: Bearer ")?;
        w.put(token)?;
        w.put("\r\n")?;
    }
    if let Some(len) = head.json_len {
        w.put("Content-Type: application/json\r\nContent-Length: ")?;
        w.num(u64::try_from(len).unwrap_or(u64::MAX))?;
        w.put("\r\n")?;
    } else if head.method == Method::Post {
        w.put("Content-Length: 0\r\n")?;
    }
    w.put(if head.keep_alive { "Connection: keep-alive\r\n\r\n" } else { "Connection: close\r\n\r\n" })?;
    Ok(w.len)
}

struct Writer<'o> {
    out: &'o mut [u8],
    len: usize,
}

impl Writer<'_> {
    fn put(&mut self, text: &str) -> Result<(), RequestError> {
        let end = self.len.checked_add(text.len()).ok_or(RequestError::TooLarge)?;
        self.out.get_mut(self.len..end).ok_or(RequestError::TooLarge)?.copy_from_slice(text.as_bytes());
        self.len = end;
        Ok(())
    }

    fn num(&mut self, mut n: u64) -> Result<(), RequestError> {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            if let Some(d) = digits.get_mut(i) {
                *d = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 || i == 0 {
                break;
            }
        }
        let text = core::str::from_utf8(digits.get(i..).unwrap_or(&[])).unwrap_or("0");
        self.put(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(head: &RequestHead<'_>) -> String {
        let mut buf = [0u8; 512];
        let n = encode_request(head, &mut buf).unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn get_with_range_and_token() {
        let url = Url::parse("https://cdn.example/fw.bin?sig=abc").unwrap();
        let head = RequestHead {
            range_from: Some(18_446_744_073_709_551_615),
            bearer: Some("tok"),
            ..RequestHead::new(Method::Get, url)
        };
        assert_eq!(
            encode(&head),
            "GET /fw.bin?sig=abc HTTP/1.1\r\nHost: cdn.example\r\nUser-Agent: ota-client\r\n\
             Accept-Encoding: identity\r\nRange: bytes=18446744073709551615-\r\n\
             Authorization: Bearer tok\r\nConnection: keep-alive\r\n\r\n"
        );
    }

    #[test]
    fn post_json_and_ipv6_host() {
        let url = Url::parse("http://[::1]:5055/checkversion").unwrap();
        let head =
            RequestHead { json_len: Some(42), keep_alive: false, ..RequestHead::new(Method::Post, url) };
        assert_eq!(
            encode(&head),
            "POST /checkversion HTTP/1.1\r\nHost: [::1]:5055\r\nUser-Agent: ota-client\r\n\
             Accept-Encoding: identity\r\nContent-Type: application/json\r\nContent-Length: 42\r\n\
             Connection: close\r\n\r\n"
        );
        let bare = RequestHead::new(Method::Post, url);
        assert!(encode(&bare).contains("Content-Length: 0\r\n"));
        let zero = RequestHead { range_from: Some(0), ..RequestHead::new(Method::Get, url) };
        assert!(!encode(&zero).contains("Range"));
    }

    #[test]
    fn refuses_injection_and_small_buffers() {
        let url = Url::parse("http://h/x").unwrap();
        let head = RequestHead { bearer: Some("a\r\nX-Evil: 1"), ..RequestHead::new(Method::Get, url) };
        assert_eq!(encode_request(&head, &mut [0u8; 512]), Err(RequestError::BadHeaderValue));
        let plain = RequestHead::new(Method::Get, url);
        let full = encode(&plain).len();
        assert_eq!(encode_request(&plain, &mut vec![0u8; full - 1]), Err(RequestError::TooLarge));
        assert_eq!(encode_request(&plain, &mut vec![0u8; full]), Ok(full));
    }
}
