//! `http://` and `https://` URLs: scheme, host, port and request target, borrowed from the text.
//!
//! Only what an HTTP client needs: no user info, no percent-decoding (the path is sent as
//! received), the fragment dropped. [`Url::join`] resolves a server's download path such as
//! `/version/15912345678` against the server's base URL.

#![deny(clippy::arithmetic_side_effects)]

/// Why a URL text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum UrlError {
    /// The text does not start with `http://` or `https://`.
    UnsupportedScheme,
    /// The host is empty, holds user info (`user@`), or has characters a host cannot have.
    BadHost,
    /// The port is not a number in `1..=65535`.
    BadPort,
    /// The path holds a space or a control character.
    BadPath,
    /// A relative reference that is neither an absolute path (`/x`) nor a full URL.
    NotResolvable,
}

impl core::fmt::Display for UrlError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::UnsupportedScheme => f.write_str("URL scheme is not http or https"),
            Self::BadHost => f.write_str("invalid URL host"),
            Self::BadPort => f.write_str("invalid URL port"),
            Self::BadPath => f.write_str("URL path holds a space or control character"),
            Self::NotResolvable => f.write_str("relative reference cannot be resolved"),
        }
    }
}

impl core::error::Error for UrlError {}

/// Whether the connection is plain TCP or TLS. The [`Connector`](super::Connector) decides
/// what it can open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Scheme {
    /// `http://`, default port 80.
    Http,
    /// `https://`, default port 443.
    Https,
}

impl Scheme {
    /// The port used when the URL names none.
    pub const fn default_port(self) -> u16 {
        match self {
            Self::Http => 80,
            Self::Https => 443,
        }
    }

    /// `"http"` or `"https"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }
}

/// A parsed absolute URL, borrowing its parts from the text.
///
/// ```
/// use ota_client::transport::http::{Scheme, Url};
/// let base = Url::parse("http://192.168.1.10:5055/checkversion").unwrap();
/// assert_eq!((base.scheme, base.host, base.port, base.path), (Scheme::Http, "192.168.1.10", 5055, "/checkversion"));
/// let file = base.join("/version/15912345678").unwrap();
/// assert_eq!((file.host, file.port, file.path), ("192.168.1.10", 5055, "/version/15912345678"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Url<'a> {
    /// Plain or TLS.
    pub scheme: Scheme,
    /// Host name or address; an IPv6 literal without its brackets.
    pub host: &'a str,
    /// Port, the scheme's default when the text names none.
    pub port: u16,
    /// Request target: path and query, at least `/`; the fragment is dropped.
    pub path: &'a str,
}

impl<'a> Url<'a> {
    /// Parses an absolute `http://` or `https://` URL.
    pub fn parse(text: &'a str) -> Result<Self, UrlError> {
        let text = text.trim();
        let (scheme, rest) = if let Some(rest) = strip_prefix_ignore_case(text, "http://") {
            (Scheme::Http, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(text, "https://") {
            (Scheme::Https, rest)
        } else {
            return Err(UrlError::UnsupportedScheme);
        };
        let rest = rest.split('#').next().unwrap_or("");
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(authority_end);
        let (host, port) = split_authority(authority, scheme)?;
        let path = if path.is_empty() { "/" } else { path };
        check_path(path)?;
        Ok(Self { scheme, host, port, path })
    }

    /// Resolves `reference` against this URL: a full URL replaces it, an absolute path
    /// (`/version/1`) keeps this URL's scheme, host and port. Other relative forms are refused
    /// (the platforms only send these two).
    pub fn join<'c>(&self, reference: &'c str) -> Result<Url<'c>, UrlError>
    where
        'a: 'c,
    {
        let reference = reference.trim();
        if reference.starts_with('/') && !reference.starts_with("//") {
            let path = reference.split('#').next().unwrap_or("/");
            check_path(path)?;
            Ok(Url { scheme: self.scheme, host: self.host, port: self.port, path })
        } else if reference.contains("://") {
            Url::parse(reference)
        } else {
            Err(UrlError::NotResolvable)
        }
    }

    /// True when a connection opened for `self` can carry a request for `other`: same scheme,
    /// host (ASCII case ignored) and port. Credentials follow a redirect only to the same origin.
    pub fn same_origin(&self, other: &Url<'_>) -> bool {
        self.scheme == other.scheme && self.port == other.port && self.host.eq_ignore_ascii_case(other.host)
    }

    /// True when going from `self` to `next` leaves TLS: `https` to `http`. The client refuses
    /// such a redirect ([`HttpError::InsecureRedirect`](super::HttpError::InsecureRedirect)).
    pub fn downgrades_to(&self, next: &Url<'_>) -> bool {
        self.scheme == Scheme::Https && next.scheme == Scheme::Http
    }
}

fn strip_prefix_ignore_case<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let head = text.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) { text.get(prefix.len()..) } else { None }
}

fn split_authority(authority: &str, scheme: Scheme) -> Result<(&str, u16), UrlError> {
    if authority.contains('@') {
        return Err(UrlError::BadHost);
    }
    let (host, port_text) = if let Some(v6) = authority.strip_prefix('[') {
        let close = v6.find(']').ok_or(UrlError::BadHost)?;
        let (host, after) = v6.split_at(close);
        let after = after.get(1..).unwrap_or("");
        match after.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if after.is_empty() => (host, None),
            None => return Err(UrlError::BadHost),
        }
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let host_ok = !host.is_empty()
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'%'));
    if !host_ok {
        return Err(UrlError::BadHost);
    }
    let port = match port_text {
        None => scheme.default_port(),
        Some(p) => parse_port(p)?,
    };
    Ok((host, port))
}

fn parse_port(text: &str) -> Result<u16, UrlError> {
    if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UrlError::BadPort);
    }
    match text.parse::<u16>() {
        Ok(0) | Err(_) => Err(UrlError::BadPort),
        Ok(port) => Ok(port),
    }
}

fn check_path(path: &str) -> Result<(), UrlError> {
    if path.bytes().any(|b| b <= b' ' || b == 0x7F) { Err(UrlError::BadPath) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forms() {
        let u = Url::parse("http://example.com").unwrap();
        assert_eq!((u.host, u.port, u.path), ("example.com", 80, "/"));
        let u = Url::parse("HTTPS://Example.com/a/b?x=1&y=2#frag").unwrap();
        assert_eq!((u.scheme, u.host, u.port, u.path), (Scheme::Https, "Example.com", 443, "/a/b?x=1&y=2"));
        let u = Url::parse("http://h:8080?q").unwrap();
        assert_eq!((u.port, u.path), (8080, "?q"));
        let u = Url::parse("http://[::1]:5055/x").unwrap();
        assert_eq!((u.host, u.port, u.path), ("::1", 5055, "/x"));
        let u = Url::parse("http://[fe80::1]").unwrap();
        assert_eq!((u.host, u.port), ("fe80::1", 80));
    }

    #[test]
    fn refuses_malformed() {
        assert_eq!(Url::parse("ftp://h/x"), Err(UrlError::UnsupportedScheme));
        assert_eq!(Url::parse("/version/1"), Err(UrlError::UnsupportedScheme));
        assert_eq!(Url::parse("not a url"), Err(UrlError::UnsupportedScheme));
        assert_eq!(Url::parse("http://"), Err(UrlError::BadHost));
        assert_eq!(Url::parse("http://:80/"), Err(UrlError::BadHost));
        assert_eq!(Url::parse("http://user:pw@h/"), Err(UrlError::BadHost));
        assert_eq!(Url::parse("http://h st/"), Err(UrlError::BadHost));
        assert_eq!(Url::parse("http://h:0/"), Err(UrlError::BadPort));
        assert_eq!(Url::parse("http://h:65536/"), Err(UrlError::BadPort));
        assert_eq!(Url::parse("http://h:/"), Err(UrlError::BadPort));
        assert_eq!(Url::parse("http://h:8o/"), Err(UrlError::BadPort));
        assert_eq!(Url::parse("http://h/a b"), Err(UrlError::BadPath));
        assert_eq!(Url::parse("http://h/a\r\nX: y"), Err(UrlError::BadPath));
        assert_eq!(Url::parse("http://[::1/"), Err(UrlError::BadHost));
    }

    #[test]
    fn joins_relative_download_paths() {
        let base = Url::parse("http://10.0.0.2:5055/checkversion").unwrap();
        let u = base.join("/version/15912345678").unwrap();
        assert_eq!((u.host, u.port, u.path), ("10.0.0.2", 5055, "/version/15912345678"));
        let u = base.join("http://cdn.example/fw.bin").unwrap();
        assert_eq!((u.host, u.port, u.path), ("cdn.example", 80, "/fw.bin"));
        assert_eq!(base.join("version/1"), Err(UrlError::NotResolvable));
        assert_eq!(base.join("//other/x"), Err(UrlError::NotResolvable));
        assert_eq!(base.join(""), Err(UrlError::NotResolvable));
        assert_eq!(base.join("/a b"), Err(UrlError::BadPath));
        assert!(base.same_origin(&base.join("/x").unwrap()));
        assert!(!base.same_origin(&Url::parse("http://10.0.0.2:5050/").unwrap()));
        let tls = Url::parse("https://h/x").unwrap();
        assert!(tls.downgrades_to(&Url::parse("http://h:443/x").unwrap()));
        assert!(!tls.downgrades_to(&tls.join("/y").unwrap()));
        assert!(!Url::parse("http://h/").unwrap().downgrades_to(&tls), "an upgrade");
        assert!(!tls.same_origin(&Url::parse("http://h:443/x").unwrap()), "scheme is part of the origin");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in ".{0,80}") {
            if let Ok(u) = Url::parse(&text) {
                proptest::prop_assert!(!u.host.is_empty());
                proptest::prop_assert!(u.port > 0);
                let _ = u.join(&text);
            }
        }
    }
}
