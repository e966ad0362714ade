//! Host-side test doubles (feature `mock`): a simulated NOR flash with power-loss injection,
//! fault-injecting transports and mock platform servers.

pub mod enos_edge_server;
pub mod http_server;
