//! The board support shared by the test firmware (`src/main.rs`) and the size probes
//! (`src/bin/`): the emulated NOR flash and its partitions, stack measurement, and the probes'
//! common steps.
#![no_std]

pub mod agent_probe;
pub mod board;
pub mod probe;
pub mod ram_flash;
pub mod stack;
