#!/usr/bin/env bash
# Builds the board firmware (boards/qemu-cortex-m, release) and runs it on QEMU's emulated
# Arm MPS2 AN386 (Cortex-M4F) with semihosting. Passes only when the firmware reports success
# and exits 0 through semihosting. Usage: bash scripts/qemu-board.sh
set -euo pipefail
cd "$(dirname "$0")/../boards/qemu-cortex-m"

QEMU="${QEMU:-qemu-system-arm}"
TIMEOUT_S="${QEMU_TIMEOUT_S:-120}"

if ! command -v "$QEMU" >/dev/null 2>&1; then
    echo "FAIL: $QEMU not found; the board test needs QEMU's Arm system emulator." >&2
    echo "      Debian/Ubuntu: apt-get install -y qemu-system-arm   (or set QEMU=/path/to/qemu-system-arm)" >&2
    exit 1
fi
if ! rustup target list --installed 2>/dev/null | grep -qx thumbv7em-none-eabihf; then
    echo "FAIL: the thumbv7em-none-eabihf target is missing: rustup target add thumbv7em-none-eabihf" >&2
    exit 1
fi

cargo build --release --locked
elf=target/thumbv7em-none-eabihf/release/ota-board-qemu
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

set +e
timeout "$TIMEOUT_S" "$QEMU" -machine mps2-an386 -cpu cortex-m4 -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -kernel "$elf" </dev/null 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e

if [ "$rc" -eq 124 ]; then
    echo "FAIL: the firmware did not finish within ${TIMEOUT_S}s" >&2
    exit 1
fi
if [ "$rc" -ne 0 ]; then
    echo "FAIL: QEMU exited with $rc (the firmware reported failure or crashed)" >&2
    exit 1
fi
if ! grep -qx 'ota-board: SUCCESS' "$log"; then
    echo "FAIL: the firmware exited 0 but never reported success" >&2
    exit 1
fi
echo "board test passed on qemu-system-arm mps2-an386"
