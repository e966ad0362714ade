#!/usr/bin/env bash
# Everything CI checks, in order. Run from anywhere: `bash scripts/test.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "format"
cargo fmt --all --check

step "clippy (all targets, all features)"
cargo clippy --all-targets --all-features -- -D warnings

step "tests (host, feature mock)"
# --nocapture: the sweeps and figure tests print one summary line each, read from CI output.
cargo test --features mock -- --nocapture

step "no_std builds, default features off"
for target in thumbv7em-none-eabihf thumbv6m-none-eabi; do
    cargo build --lib --no-default-features --target "$target"
done
# Each platform and transport alone: a device that speaks one platform compiles no other's code.
for target in thumbv7em-none-eabihf thumbv6m-none-eabi; do
    for feature in tencent huawei enos enos-edge pcp serial http mqtt; do
        cargo build --lib --no-default-features --features "$feature" --target "$target"
    done
done
# Image signatures (Ed25519, no alloc) on the smallest core, and with the rest of the library.
cargo build --lib --no-default-features --features ed25519 --target thumbv6m-none-eabi
cargo build --lib --no-default-features --features ed25519 --target thumbv7em-none-eabihf
# The same library with its defmt logging compiled in.
cargo build --lib --no-default-features --features defmt --target thumbv7em-none-eabihf

step "board: firmware on QEMU mps2-an386 (Cortex-M4F): Journal, A/B lifecycle and Agent on target"
bash scripts/qemu-board.sh

step "board: code size and stack (thumbv7em-none-eabihf)"
bash scripts/size-report.sh

step "docs"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --all-features

step "all checks passed"
