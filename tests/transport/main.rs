//! Integration tests of the transports: HTTP (mock server, nginx, embedded-io interop), the
//! serial protocol, and property tests of every decoder that reads bytes from a transport.

#[path = "../support"]
mod support {
    pub mod nginx;
}

mod decoder_props;
mod http_nginx;
mod http_transport;
mod io_interop;
mod serial_transport;
