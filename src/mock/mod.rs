//! Host-side test doubles, in two sizes.
//!
//! **Feature `sim`: the simulators.** What a device crate's own host tests need, and nothing
//! that pulls in a platform, an MQTT client or crypto (the feature adds `std` and no
//! dependency):
//!
//! - [`SimFlash`], a simulated NOR flash with power-loss injection, and [`SharedFlash`] to
//!   look at it while an Agent owns it;
//! - the power-cut sweeps ([`power_sweep`], [`lifecycle_sweep`]) over one or
//!   [`two_chips`];
//! - fault-injecting chunk sources ([`ChunkServer`], [`CountingSource`]) and a
//!   [`ManualClock`];
//! - [`serial_link`], a virtual serial line with drops, bit flips and stalls;
//! - [`http_server`], a loopback HTTP/1.1 file server with `Range` and injected faults
//!   (platform-neutral: it serves bytes, it speaks no cloud's protocol).
//!
//! With `ed25519` on as well, the signing helpers ([`sign_image`], [`demo_keys`]…) are here
//! too.
//!
//! **Feature `mock`: the mock clouds**, on top of `sim`. What this crate's own tests and
//! examples use: [`mqtt_cloud`] (Tencent, Huawei IoTDA and EnOS cloud over a real broker,
//! through rumqttc), [`enos_edge_server`], [`serial_server`] and [`pcp_platform`]. They
//! need the cloud side of the platform codecs (offer encoders, report decoders), which are
//! compiled only with `mock`, so `mock` turns on every platform, `rumqttc` and `ed25519`.
//!
//! Why two features and why these names: `mock` was the only one and kept its meaning (all
//! of it), so every `features = ["mock"]` keeps working; a device crate that only wants
//! `SimFlash` for its tests depends on `sim` and gets neither rumqttc nor ed25519-dalek
//! (`scripts/test.sh` checks that with `cargo tree`).

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

pub mod http_server;
mod manual_clock;
pub mod serial_link;

pub use manual_clock::ManualClock;

mod chunk_server;

pub use chunk_server::{ChunkServer, Fault, ServerStats};

mod counting_source;

pub use counting_source::CountingSource;

#[cfg(feature = "ed25519")]
mod signing;

#[cfg(feature = "ed25519")]
pub use signing::{
    DEMO_PRODUCT, DEMO_SECRET, demo_keys, demo_policy, demo_sign, manifest, public_key, sign_image,
};

// The mock clouds: they use the cloud side of the codecs, compiled only with `mock`.
#[cfg(feature = "mock")]
pub mod enos_edge_server;
#[cfg(feature = "mock")]
pub mod mqtt_cloud;
#[cfg(feature = "mock")]
pub mod pcp_platform;
#[cfg(feature = "mock")]
pub mod serial_server;
