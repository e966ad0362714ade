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

step "feature sim: the simulators without rumqttc or ed25519-dalek"
# A device crate's own tests take `features = ["sim"]` for SimFlash: that must build alone and
# must not pull in the MQTT client or the signature crate (`mock`, the mock clouds, does).
cargo build --lib --no-default-features --features sim
sim_deps=$(cargo tree -e normal --no-default-features --features sim --prefix none)
mock_deps=$(cargo tree -e normal --no-default-features --features mock --prefix none)
for crate in rumqttc ed25519-dalek; do
    if grep -q "^$crate v" <<<"$sim_deps"; then
        echo "error: feature sim pulls in $crate:" >&2
        cargo tree -e normal,features --no-default-features --features sim -i "$crate" >&2
        exit 1
    fi
    # The check means something only while the crate's name is right: `mock` has it.
    if ! grep -q "^$crate v" <<<"$mock_deps"; then
        echo "error: $crate not found under feature mock; is the name in this check stale?" >&2
        exit 1
    fi
done
echo "feature sim: no rumqttc, no ed25519-dalek"

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
