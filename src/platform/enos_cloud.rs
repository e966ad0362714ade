//! EnOS cloud firmware OTA over MQTT: the pure codec (no I/O).
