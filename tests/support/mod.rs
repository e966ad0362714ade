//! Shared helpers for integration tests.

pub mod device;
pub mod mosquitto;
pub mod nginx;
