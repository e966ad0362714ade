//! Where the Edge listens: one base URL per endpoint, all configurable.

use core::fmt::Write as _;

use crate::transport::http::Url;

/// Port of checkversion, downloads and updateresult in the seed.
pub const DEFAULT_PORT: u16 = 5055;
/// Port of downloadresult in the seed (it differs from the others there).
pub const DEFAULT_DOWNLOAD_RESULT_PORT: u16 = 5050;

/// Why a base URL was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EndpointError {
    /// Not an `http(s)://` URL.
    BadUrl,
    /// A base or built URL does not fit in its buffer.
    TooLong,
}

impl core::fmt::Display for EndpointError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::BadUrl => f.write_str("not an http(s) URL"),
            Self::TooLong => f.write_str("URL too long for its buffer"),
        }
    }
}

impl core::error::Error for EndpointError {}

/// Base URLs of the four Edge endpoints, `N` bytes each.
///
/// A base is `scheme://host:port` with an optional path prefix; the endpoint path is
/// appended (`{check_version}/checkversion`, `{download_result}/downloadresult/{id}`,
/// `{update_result}/updateresult`). `download` is the base that a relative `downloadurl`
/// resolves against.
///
/// ```
/// use ota_client::platform::enos_edge::EdgeEndpoints;
/// let e: EdgeEndpoints = EdgeEndpoints::for_host("192.168.1.10").unwrap();
/// let mut url = heapless::String::<128>::new();
/// e.download_result_url("15912345678", &mut url).unwrap();
/// assert_eq!(url, "http://192.168.1.10:5050/downloadresult/15912345678");
/// e.download_url("/version/15912345678", &mut url).unwrap();
/// assert_eq!(url, "http://192.168.1.10:5055/version/15912345678");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeEndpoints<const N: usize = 64> {
    /// Base of `POST /checkversion`.
    pub check_version: heapless::String<N>,
    /// Base that relative download paths resolve against.
    pub download: heapless::String<N>,
    /// Base of `POST /downloadresult/{id}`.
    pub download_result: heapless::String<N>,
    /// Base of `POST /updateresult`.
    pub update_result: heapless::String<N>,
}

impl<const N: usize> EdgeEndpoints<N> {
    /// The seed's layout for an Edge at `host` (name or IPv4 address): port 5055 for
    /// everything but downloadresult on 5050.
    pub fn for_host(host: &str) -> Result<Self, EndpointError> {
        Self::for_ports(host, DEFAULT_PORT, DEFAULT_DOWNLOAD_RESULT_PORT)
    }

    /// The same layout with other ports.
    pub fn for_ports(host: &str, port: u16, download_result_port: u16) -> Result<Self, EndpointError> {
        let base = |p: u16| -> Result<heapless::String<N>, EndpointError> {
            let mut s = heapless::String::new();
            write!(s, "http://{host}:{p}").map_err(|_| EndpointError::TooLong)?;
            Url::parse(&s).map_err(|_| EndpointError::BadUrl)?;
            Ok(s)
        };
        Ok(Self {
            check_version: base(port)?,
            download: base(port)?,
            download_result: base(download_result_port)?,
            update_result: base(port)?,
        })
    }

    /// Every endpoint at one base (a mock server, a proxy).
    pub fn all_at(base: &str) -> Result<Self, EndpointError> {
        let b = checked_base::<N>(base)?;
        Ok(Self {
            check_version: b.clone(),
            download: b.clone(),
            download_result: b.clone(),
            update_result: b,
        })
    }

    /// Replaces one base, checking it: `endpoints.check_version = checked_base(..)?`.
    pub fn set(slot: &mut heapless::String<N>, base: &str) -> Result<(), EndpointError> {
        *slot = checked_base(base)?;
        Ok(())
    }

    /// `{check_version}/checkversion`.
    pub fn check_version_url<const M: usize>(
        &self,
        out: &mut heapless::String<M>,
    ) -> Result<(), EndpointError> {
        join(out, &self.check_version, format_args!("/checkversion"))
    }

    /// `{download_result}/downloadresult/{id}`.
    pub fn download_result_url<const M: usize>(
        &self,
        id: &str,
        out: &mut heapless::String<M>,
    ) -> Result<(), EndpointError> {
        join(out, &self.download_result, format_args!("/downloadresult/{id}"))
    }

    /// `{update_result}/updateresult`.
    pub fn update_result_url<const M: usize>(
        &self,
        out: &mut heapless::String<M>,
    ) -> Result<(), EndpointError> {
        join(out, &self.update_result, format_args!("/updateresult"))
    }

    /// The absolute URL of a `downloadurl`: a path resolves against the `download` base's
    /// scheme, host and port (its path prefix does not apply: the seed's paths are
    /// absolute); a full URL is kept, written with an explicit port.
    pub fn download_url<const M: usize>(
        &self,
        download_url: &str,
        out: &mut heapless::String<M>,
    ) -> Result<(), EndpointError> {
        out.clear();
        let base = Url::parse(&self.download).map_err(|_| EndpointError::BadUrl)?;
        let url = base.join(download_url).map_err(|_| EndpointError::BadUrl)?;
        let (open, close) = if url.host.contains(':') { ("[", "]") } else { ("", "") };
        write!(out, "{}://{open}{}{close}:{}{}", url.scheme.as_str(), url.host, url.port, url.path)
            .map_err(|_| EndpointError::TooLong)
    }
}

/// Checks a base URL and copies it.
pub fn checked_base<const N: usize>(base: &str) -> Result<heapless::String<N>, EndpointError> {
    Url::parse(base).map_err(|_| EndpointError::BadUrl)?;
    let mut s = heapless::String::new();
    s.push_str(base.trim().trim_end_matches('/')).map_err(|_| EndpointError::TooLong)?;
    Ok(s)
}

fn join<const M: usize>(
    out: &mut heapless::String<M>,
    base: &str,
    path: core::fmt::Arguments<'_>,
) -> Result<(), EndpointError> {
    out.clear();
    write!(out, "{}{}", base.trim_end_matches('/'), path).map_err(|_| EndpointError::TooLong)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_every_url() {
        let mut e: EdgeEndpoints = EdgeEndpoints::for_host("edge.local").unwrap();
        let mut s = heapless::String::<96>::new();
        e.check_version_url(&mut s).unwrap();
        assert_eq!(s, "http://edge.local:5055/checkversion");
        e.update_result_url(&mut s).unwrap();
        assert_eq!(s, "http://edge.local:5055/updateresult");
        EdgeEndpoints::set(&mut e.update_result, "http://10.0.0.9:8000/ota/").unwrap();
        e.update_result_url(&mut s).unwrap();
        assert_eq!(s, "http://10.0.0.9:8000/ota/updateresult");
        e.download_url("http://cdn.example/fw.bin?sig=1", &mut s).unwrap();
        assert_eq!(s, "http://cdn.example:80/fw.bin?sig=1");
        EdgeEndpoints::set(&mut e.download, "http://edge.local:5055/prefix").unwrap();
        e.download_url("/version/1", &mut s).unwrap();
        assert_eq!(s, "http://edge.local:5055/version/1");
        assert_eq!(e.download_url("version/1", &mut s), Err(EndpointError::BadUrl));
        assert_eq!(EdgeEndpoints::set(&mut e.download, "edge:5055"), Err(EndpointError::BadUrl));
        let mut tiny = heapless::String::<8>::new();
        assert_eq!(e.check_version_url(&mut tiny), Err(EndpointError::TooLong));
        assert_eq!(EdgeEndpoints::<8>::for_host("edge.local"), Err(EndpointError::TooLong));
        assert_eq!(EdgeEndpoints::<64>::for_host("bad host"), Err(EndpointError::BadUrl));
        let all: EdgeEndpoints = EdgeEndpoints::all_at("http://127.0.0.1:4000/").unwrap();
        all.download_result_url("7", &mut s).unwrap();
        assert_eq!(s, "http://127.0.0.1:4000/downloadresult/7");
    }
}
