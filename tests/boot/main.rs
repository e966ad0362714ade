//! Integration tests of the boot layer: `BootControl` and `BootLoader` through power cuts,
//! the A/B lifecycle, its write figures and image signatures at boot.

#[path = "../support"]
mod support {
    pub mod slots;
}

mod boot_figures;
mod boot_lifecycle;
mod boot_power_sweep;
mod boot_signature;
