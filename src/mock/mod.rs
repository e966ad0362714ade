//! Host-side test doubles (feature `mock`): a simulated NOR flash with power-loss injection,
//! fault-injecting transports and mock platform servers.

pub mod mqtt_cloud;
