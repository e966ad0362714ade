//! Host-side test doubles (feature `mock`): a simulated NOR flash with power-loss injection,
//! fault-injecting transports and mock platform servers.

// Test doubles may index freely: a bad index there is a bug in a test set-up, and the
// simulator's own bounds are checked before any access.
mod shared_flash;
#[allow(clippy::indexing_slicing, clippy::panic)]
mod sim_flash;

pub use shared_flash::SharedFlash;
pub use sim_flash::{CutKind, FlashStats, OpKind, PowerCut, PowerSupply, SimFlash, SimFlashError};

#[allow(clippy::indexing_slicing, clippy::panic)]
mod power_sweep;

pub use power_sweep::{
    Boot, LifecycleSweep, PowerDomain, Run, SweepReport, lifecycle_sweep, power_sweep, two_chips,
};

pub mod enos_edge_server;
pub mod http_server;
mod manual_clock;
pub mod mqtt_cloud;
pub mod pcp_platform;
pub mod serial_link;
pub mod serial_server;

pub use manual_clock::ManualClock;

mod chunk_server;

pub use chunk_server::{ChunkServer, Fault, ServerStats};

mod counting_source;

pub use counting_source::CountingSource;

mod signing;

pub use signing::{
    DEMO_PRODUCT, DEMO_SECRET, demo_keys, demo_policy, demo_sign, manifest, public_key, sign_image,
};
