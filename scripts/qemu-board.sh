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

# The board crate is a workspace of its own, outside the library's fmt and clippy runs.
# Its Cargo.lock is committed, so the firmware builds with the same cortex-m, cortex-m-rt,
# semihosting and digest crates on every machine. It is not enforced with --locked: the
# library is a path dependency, and when the library gains a dependency the lock lacks it;
# cargo then adds only the missing entries and keeps every pinned version. (The build below
# writes them into the lock; commit it then. With --locked, CI would fail instead.)
cargo fmt --check
cargo clippy --release --bins -- -D warnings
cargo clippy --release --bin ota-board-qemu --features drivers -- -D warnings
cargo build --release --bins
# The test firmware again with the platform drivers, for their size_of rows; the probes keep
# the build without platforms that they measure.
cargo build --release --bin ota-board-qemu --features drivers
bin_dir=target/thumbv7em-none-eabihf/release
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

# Runs one firmware image; fails unless QEMU exits 0 and the image printed `$2`. The
# firmware exits through semihosting: 0 when every check passed, 1 when one failed or it
# panicked (panic-semihosting). A fault or a hang never exits: the time limit ends it.
run() {
    local name="$1" success_line="$2" rc
    printf '\n--- %s\n' "$name"
    set +e
    timeout -k 10 "$TIMEOUT_S" "$QEMU" -machine mps2-an386 -cpu cortex-m4 -nographic -monitor none -serial none \
        -semihosting-config enable=on,target=native -kernel "$bin_dir/$name" </dev/null 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    set -e
    if [ "$rc" -eq 124 ]; then
        echo "FAIL: $name did not finish within ${TIMEOUT_S}s" >&2
        exit 1
    fi
    if [ "$rc" -ne 0 ]; then
        echo "FAIL: QEMU exited with $rc running $name (the firmware reported failure or crashed)" >&2
        exit 1
    fi
    if ! grep -qx "$success_line" "$log"; then
        echo "FAIL: $name exited 0 but never printed '$success_line'" >&2
        exit 1
    fi
}

run ota-board-qemu 'ota-board: SUCCESS'
# The size probes must work too, or the sizes they measure mean nothing.
for probe in probe-base probe-journal probe-bootloader probe-app probe-agent; do
    run "$probe" "$probe: ok"
done
echo
echo "board test passed on qemu-system-arm mps2-an386"
