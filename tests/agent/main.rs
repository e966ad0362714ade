//! Integration tests of the Agent: its lifecycle, its reports, attacks against its defaults
//! and whole-lifecycle power-cut sweeps (bootloader and Agent together).

#[path = "../support"]
mod support {
    pub mod sim_device;
}

mod agent_lifecycle;
mod agent_reports;
mod attacks;
mod lifecycle_sweep;
