#!/usr/bin/env bash
# Single-file edit -> updated and queryable (issue 5): bench/edit_latency on
# the largest crate of the benchmark corpus (Debian's crates under
# /usr/share/cargo/registry, by bytes of .rs under src/) and on two familiar
# ones, with the hash embedder, as `ferrograph watch` runs each update.
#
#   bench/live/run_edit_bench.sh [EDITS]     (default 50 edits per crate)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin="$root/build/bench/edit_latency"
edits=${1:-50}
[ -x "$bin" ] || { echo "build first: cmake --build build --target edit_latency" >&2; exit 1; }
registry=/usr/share/cargo/registry
largest=$(for d in "$registry"/*/; do
  [ -d "$d/src" ] && echo "$(du -sb --apparent-size "$d/src" | cut -f1) $d"
done | sort -n | tail -1 | cut -d' ' -f2)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for crate in "$largest" "$registry"/tokio-1*/ "$registry"/regex-1*/; do
  crate=${crate%/}
  echo "== $(basename "$crate") =="
  "$bin" --crate "$crate" --work "$work/$(basename "$crate")" --edits "$edits"
  rm -rf "${work:?}/$(basename "$crate")"
done
