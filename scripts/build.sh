#!/usr/bin/env bash
# Configures and builds ferrograph into build/ (binary: build/ferrograph).
# Assumes scripts/install_deps.sh has run. Idempotent and incremental.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_type=${FERROGRAPH_BUILD_TYPE:-RelWithDebInfo}
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
if [ ! -f "$root/build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$root/build" "${generator[@]}" -DCMAKE_BUILD_TYPE="$build_type"
fi
cmake --build "$root/build" -j "$(nproc)"
