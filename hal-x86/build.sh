#!/usr/bin/env bash
# Builds the bare-metal k43 image with Debian's rustc 1.96 + -Zbuild-std and prints the
# ELF's path. Extra arguments go to cargo (e.g. --features all-scenarios).
# Run it:  timeout 60 qemu-system-x86_64 -M q35 -cpu max -m 512M -display none \
#            -serial stdio -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
#            -kernel "$(hal-x86/build.sh)" </dev/null      # exit status 33 = pass
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"
lld="$(rustc +stable --print sysroot 2>/dev/null || rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld"
export CARGO_TARGET_X86_64_UNKNOWN_NONE_LINKER="$lld"
/usr/bin/cargo build --release "$@" >&2
echo "$CARGO_TARGET_DIR/x86_64-unknown-none/release/hal-x86"
