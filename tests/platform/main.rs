//! Integration tests of the platforms: the three MQTT clouds through mosquitto (codecs over
//! the std MQTT adapter, then the whole flow), the flow against a scripted client, EnOS Edge,
//! Huawei PCP, the serial sub-device, and the duplicate-key attack on every flow.

#[path = "../support"]
mod support {
    pub mod mosquitto;
    pub mod mqtt_device;
    pub mod nginx;
    pub mod sim_device;
}

mod duplicate_keys;
mod enos_edge_device;
mod mqtt_broker;
mod mqtt_devices;
mod mqtt_flow_script;
mod mqtt_platforms;
mod pcp_device;
mod serial_device;
