#!/usr/bin/env bash
# Code size and RAM of ota-client on a Cortex-M4F (thumbv7em-none-eabihf), measured on the
# board crate boards/qemu-cortex-m built in release (fat LTO, one codegen unit) at opt-level
# "s" (the crate's profile) and "z".
#
# The size probes (boards/qemu-cortex-m/src/bin/) link one slice of the library each, the way
# a device would, and never print library values (no Debug code):
#   probe-base        runtime, semihosting output, the RAM-backed flash driver; no ota-client
#   probe-journal     + Journal open/write/read/remove
#   probe-bootloader  + Journal + BootLoader::prepare_boot (Swap): a bootloader's share
#   probe-app         + Journal + confirm/update_region/slot writes/SHA-256/stage/state
#   probe-agent       + the Agent: start, offer, resumable verified download, staging,
#                     reports (no platform codec or transport)
#   ota-board-qemu    the test firmware scripts/qemu-board.sh runs (every scenario, with
#                     Debug printing of library values), for reference
# The delta column is each image minus probe-base: what the library adds.
# Then the size probes at "s" with sha2's compact software rounds (sha2 0.11:
# `--cfg sha2_backend_soft="compact"`, applied to SHA-256 and SHA-512) against its default
# unrolled rounds: what the flag saves per probe. Then the .text+.rodata bytes per crate of the
# bootloader and agent probes, and the peak stack each probe used on QEMU with either rounds
# (when qemu-system-arm is installed; fails if a probe fails).
#
# A firmware crate selects the compact rounds in its own .cargo/config.toml:
#   [target.thumbv7em-none-eabihf]
#   rustflags = ["--cfg", 'sha2_backend_soft="compact"']
# (RUSTFLAGS in the environment replaces config rustflags; the flag then goes there.)
#
# Needs arm-none-eabi-size and arm-none-eabi-nm (Debian: binutils-arm-none-eabi).
# Usage: bash scripts/size-report.sh
set -euo pipefail
cd "$(dirname "$0")/../boards/qemu-cortex-m"

for tool in arm-none-eabi-size arm-none-eabi-nm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "FAIL: $tool not found. Debian/Ubuntu: apt-get install -y binutils-arm-none-eabi" >&2
        exit 1
    fi
done

images=(probe-base probe-journal probe-bootloader probe-app probe-agent ota-board-qemu)
probes=(probe-base probe-journal probe-bootloader probe-app probe-agent)

# Prints "text rodata data bss" of an ELF (the vector table counted in .text).
sections() {
    arm-none-eabi-size -A "$1" | awk '
        $1 == ".vector_table" || $1 == ".text" { text += $2 }
        $1 == ".rodata" { rodata += $2 }
        $1 == ".data" { data += $2 }
        $1 == ".bss" || $1 == ".uninit" { bss += $2 }
        END { printf "%d %d %d %d\n", text, rodata, data, bss }'
}

# Prints "| crate | bytes |" rows: .text+.rodata symbol sizes of an ELF grouped by crate.
by_crate() {
    arm-none-eabi-nm -C -S --size-sort -t d "$1" | awk '
        NF >= 4 && $3 ~ /^[tTrR]$/ {
            size = $2 + 0
            name = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", name)
            sub(/^<+/, "", name)
            crate = name; sub(/::.*/, "", crate); sub(/[ <>(,].*/, "", crate)
            if (crate ~ /^(__aeabi|__u?div|__u?mod|mem|compiler_builtins)/) crate = "compiler_builtins (mem*, division)"
            else if (crate ~ /^(__INTERRUPTS|__EXCEPTIONS|__RESET_VECTOR)$/) crate = "vector table"
            else if (crate ~ /^([ui](8|16|32|64|128|size)|bool|char|str|f32|f64)$/) crate = "core"
            else if (crate ~ /^(main|__rustc|Reset|HardFault_|DefaultHandler_|DefaultPreInit)$/) crate = "runtime (cortex-m-rt, panic)"
            else if (crate !~ /^[a-z_][a-z0-9_]*$/) crate = "(other: constants, core impls)"
            sum[crate] += size
        }
        END { for (c in sum) printf "| %s | %d |\n", c, sum[c] }' | sort -t'|' -k3 -n -r
}

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# "s" is the crate's own release profile: the same build as scripts/qemu-board.sh's, so after
# it this is a no-op. "z" builds in a target directory of its own so that neither evicts the
# other.
# "c" is "s" with sha2's compact rounds, in a target directory of its own too. `--config` adds
# the flag to the board's own target rustflags (arrays of config layers join).
compact_cfg='target.thumbv7em-none-eabihf.rustflags=["--cfg", "sha2_backend_soft=\"compact\""]'
compact_dir=target/size-sha2-compact
for opt in s z c; do
    if [ "$opt" = s ]; then
        target_dir=target
        cargo build --release --quiet --bins
    elif [ "$opt" = c ]; then
        # The probes only: the test firmware's saving is the same sha2 code.
        target_dir="$compact_dir"
        cargo build --release --quiet $(printf -- '--bin %s ' "${probes[@]}") --target-dir "$target_dir" \
            --config "$compact_cfg"
    else
        target_dir="target/size-opt-$opt"
        CARGO_PROFILE_RELEASE_OPT_LEVEL="$opt" cargo build --release --quiet --bins --target-dir "$target_dir"
    fi
    if [ "$opt" = c ]; then built=("${probes[@]}"); else built=("${images[@]}"); fi
    for img in "${built[@]}"; do
        cp "$target_dir/thumbv7em-none-eabihf/release/$img" "$out/$opt-$img.elf"
    done
done

printf '\nota-client on thumbv7em-none-eabihf (release, fat LTO, codegen-units=1), bytes\n\n'
printf '| opt | image | .text | .rodata | .data | .bss | flash (text+rodata+data) | static RAM (data+bss) | ota-client adds (flash) |\n'
printf '|---|---|---:|---:|---:|---:|---:|---:|---:|\n'
for opt in s z; do
    base=""
    for img in "${images[@]}"; do
        read -r text rodata data bss < <(sections "$out/$opt-$img.elf")
        flash=$((text + rodata + data))
        ram=$((data + bss))
        if [ -z "$base" ]; then base=$flash; delta="-"; else delta="+$((flash - base))"; fi
        printf '| %s | %s | %d | %d | %d | %d | %d | %d | %s |\n' \
            "$opt" "$img" "$text" "$rodata" "$data" "$bss" "$flash" "$ram" "$delta"
    done
done

# sha2's row of by_crate: .text+.rodata of its named symbols in an ELF (0 if none).
sha2_bytes() {
    by_crate "$1" | awk -F'|' '$2 == " sha2 " { n = $3 + 0 } END { print n + 0 }'
}

printf '\nsha2 rounds, opt-level "s": flash with the default unrolled rounds against the compact rounds\n'
printf '(--cfg sha2_backend_soft="compact"; a firmware sets it in .cargo/config.toml:\n'
printf ' [target.thumbv7em-none-eabihf] rustflags = ["--cfg", '"'"'sha2_backend_soft="compact"'"'"'])\n\n'
printf '| image | flash, unrolled | flash, compact | compact saves | sha2 bytes, unrolled | sha2 bytes, compact | ota-client adds (flash), compact |\n'
printf '|---|---:|---:|---:|---:|---:|---:|\n'
base=""
for img in "${probes[@]}"; do
    read -r text rodata data _ < <(sections "$out/s-$img.elf")
    unrolled=$((text + rodata + data))
    read -r text rodata data _ < <(sections "$out/c-$img.elf")
    compact=$((text + rodata + data))
    if [ -z "$base" ]; then base=$compact; delta="-"; else delta="+$((compact - base))"; fi
    printf '| %s | %d | %d | %d | %d | %d | %s |\n' "$img" "$unrolled" "$compact" "$((unrolled - compact))" \
        "$(sha2_bytes "$out/s-$img.elf")" "$(sha2_bytes "$out/c-$img.elf")" "$delta"
done

for img in probe-bootloader probe-agent; do
    printf '\n%s, opt-level "s": .text+.rodata of named symbols per crate (after LTO inlining)\n\n' "$img"
    printf '| crate | bytes |\n|---|---:|\n'
    by_crate "$out/s-$img.elf"
done

if command -v qemu-system-arm >/dev/null 2>&1; then
    printf '\nPeak stack on QEMU mps2-an386, opt-level "s" (whole program, from reset)\n\n'
    printf '| image | peak stack, sha2 unrolled | peak stack, sha2 compact |\n|---|---:|---:|\n'
    for img in "${probes[@]}"; do
        peaks=()
        for opt in s c; do
            if ! run_log=$(timeout -k 10 60 qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -nographic -monitor none \
                -serial none -semihosting-config enable=on,target=native -kernel "$out/$opt-$img.elf" </dev/null 2>&1); then
                printf '%s\nFAIL: %s (%s) failed on QEMU; no stack figure\n' "$run_log" "$img" "$opt" >&2
                exit 1
            fi
            peak=$(sed -n "s/^$img: peak stack \([0-9]*\) B$/\1/p" <<<"$run_log")
            if [ -z "$peak" ]; then
                printf '%s\nFAIL: %s (%s) printed no peak stack line\n' "$run_log" "$img" "$opt" >&2
                exit 1
            fi
            peaks+=("$peak B")
        done
        printf '| %s | %s | %s |\n' "$img" "${peaks[0]}" "${peaks[1]}"
    done
else
    printf '\n(qemu-system-arm not installed: peak stack not measured; apt-get install -y qemu-system-arm)\n'
fi

# Image signatures: probe-agent-signed (SignaturePolicy::Required, Ed25519 over the body's
# SHA-256) against probe-agent, each in a target directory of its own because the board's
# feature `signed` turns on ota-client's `ed25519` for every binary it builds. Once as is, once
# with sha2's compact software rounds (0.10's feature `force-soft-compact` is gone in 0.11):
# Ed25519 needs SHA-512, whose unrolled rounds are most of the default figure. The unsigned
# probe-agent of either is the one built above. The signed probe also runs on QEMU: the
# Ed25519 check passing on the Cortex-M4, and its peak stack.
printf '\nImage signatures (opt-level "s"): flash of probe-agent-signed against probe-agent\n\n'
printf '| sha2 rounds | probe-agent | probe-agent-signed | signatures add (flash) | peak stack unsigned | peak stack signed |\n'
printf '|---|---:|---:|---:|---:|---:|\n'
for variant in unrolled compact; do
    if [ "$variant" = unrolled ]; then
        extra=()
        plain_elf="$out/s-probe-agent.elf"
    else
        extra=(--config "$compact_cfg")
        plain_elf="$out/c-probe-agent.elf"
    fi
    signed_dir="target/size-sig-$variant-signed"
    cargo build --release --quiet --bin probe-agent-signed --features signed --target-dir "$signed_dir" ${extra[@]+"${extra[@]}"}
    signed_elf="$signed_dir/thumbv7em-none-eabihf/release/probe-agent-signed"
    read -r pt pr pd _ < <(sections "$plain_elf")
    read -r st sr sd _ < <(sections "$signed_elf")
    plain=$((pt + pr + pd))
    signed=$((st + sr + sd))
    stacks=()
    for pair in "probe-agent:$plain_elf" "probe-agent-signed:$signed_elf"; do
        name=${pair%%:*}
        elf=${pair#*:}
        if ! command -v qemu-system-arm >/dev/null 2>&1; then
            stacks+=("-")
            continue
        fi
        if ! run_log=$(timeout -k 10 120 qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -nographic -monitor none \
            -serial none -semihosting-config enable=on,target=native -kernel "$elf" </dev/null 2>&1); then
            printf '%s\nFAIL: %s (%s) failed on QEMU\n' "$run_log" "$name" "$variant" >&2
            exit 1
        fi
        peak=$(sed -n "s/^$name: peak stack \([0-9]*\) B$/\1/p" <<<"$run_log")
        if [ -z "$peak" ] || ! grep -qx "$name: ok" <<<"$run_log"; then
            printf '%s\nFAIL: %s (%s) did not pass on QEMU\n' "$run_log" "$name" "$variant" >&2
            exit 1
        fi
        stacks+=("$peak B")
    done
    printf '| %s | %d | %d | +%d | %s | %s |\n' "$variant" "$plain" "$signed" "$((signed - plain))" "${stacks[0]}" "${stacks[1]}"
done
