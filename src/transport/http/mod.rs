//! HTTP/1.1 transport: a `no_std`, allocation-free client over any `embedded-io` stream, and
//! the [`HttpSource`] that feeds the download engine with resumable `Range` requests.
//!
//! The parts, from the wire up, each usable alone:
//!
//! | file | job |
//! |---|---|
//! | [`url`] | parse `http(s)://` URLs, resolve a server's relative download path |
//! | [`request`] | encode a request head (Host, Range, Authorization, Content-Type/Length, Connection) |
//! | [`response`] | sans-I/O parse of a response head: status, framing, `Content-Range`, `Location` |
//! | [`body`] | sans-I/O `Content-Length` and chunked body decoders |
//! | [`connector`] | the [`Connector`] trait: the user's TCP/TLS stack opens streams |
//! | [`client`] | [`HttpClient`]: keep-alive, redirects, JSON posts, body streaming |
//! | [`transport`] | [`HttpTransport`]: the calls platforms make, for modems with their own HTTP |
//! | [`source`] | [`HttpSource`]: a [`ChunkSource`](crate::transport::ChunkSource) for one URL |
//! | `tcp` (feature `std`) | [`TcpConnector`] over `std::net::TcpStream` |
//!
//! Time limits: each read is the connection's (a stream whose read waits too long fails with
//! `ErrorKind::TimedOut`, reported as [`HttpError::Timeout`] and
//! [`SourceError::Timeout`](crate::transport::SourceError::Timeout)); the whole response head
//! of a request has a deadline of its own when the client has a clock
//! ([`HttpClient::with_clock`], [`HttpError::HeadTimeout`]), and at most
//! [`MAX_INTERIM_HEADS`](client::MAX_INTERIM_HEADS) interim heads are taken. The overall
//! download deadline belongs to the download engine.
//!
//! Redirects ([`HttpClient`]): a redirect to another origin drops the bearer token, and one
//! from `https` to `http` is refused ([`HttpError::InsecureRedirect`]).

pub mod body;
pub mod client;
pub mod connector;
pub mod error;
pub mod request;
pub mod response;
pub mod source;
#[cfg(feature = "std")]
mod tcp;
pub mod transport;
pub mod url;

pub use body::{BodyDecoder, BodyError, BodyKind};
pub use client::HttpClient;
pub use connector::{ConnectError, Connector};
pub use error::{HttpError, status_error};
pub use request::{Method, RequestError, RequestHead, encode_request};
pub use response::{ContentRange, HeadError, Parsed, ResponseHead, parse_head};
pub use source::{HttpSource, UrlBuf};
#[cfg(feature = "std")]
pub use tcp::{TcpConnection, TcpConnector};
pub use transport::{HttpTransport, Response};
pub use url::{Scheme, Url, UrlError};
