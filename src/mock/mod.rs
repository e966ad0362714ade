//! Host-side test doubles (feature `mock`): a simulated NOR flash with power-loss injection,
//! fault-injecting transports and mock platform servers.

pub mod serial_link;
pub mod serial_server;
