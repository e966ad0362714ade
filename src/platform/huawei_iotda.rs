//! Huawei IoTDA firmware and software upgrade over MQTT: the pure codec (no I/O).
