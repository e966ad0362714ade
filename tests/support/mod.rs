//! Shared helpers for integration tests.

pub mod mosquitto;
pub mod nginx;
