//! Integration tests of the download engine: faults of the chunk source, power cuts,
//! random fault scripts and signed images.

mod download_rig;

mod download_faults;
mod download_power_sweep;
mod download_props;
mod download_signature;
