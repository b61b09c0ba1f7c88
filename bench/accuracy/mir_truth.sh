#!/usr/bin/env bash
# The compiler's call graph of each corpus crate (the CALLS oracle): rustc's
# MIR with spans, built fully offline against Debian's crate sources, then
# normalized by mir_calls.py into one row per resolved call.
#
#   RUSTC_BOOTSTRAP=1 cargo rustc --lib --offline -- -Zunpretty=mir \
#     -Zmir-include-spans=yes -Ztrim-diagnostic-paths=no -Zmir-opt-level=0 \
#     --cap-lints=warn
#
#   -Zunpretty=mir               MIR of every body of the crate (fns, closures,
#                                consts) on stdout; compilation stops there
#   -Zmir-include-spans=yes      a `// scope N at FILE:L:C: L:C` comment on every
#                                statement and terminator, and the span of each
#                                constant operand (the callee's path/method name)
#   -Ztrim-diagnostic-paths=no   full paths for items of other crates
#                                (std::result::Result::unwrap, not Result::unwrap)
#   -Zmir-opt-level=0            no MIR optimization: no call is inlined or
#                                dropped with a constant-false branch
#   --cap-lints=warn             as for dependencies: a crate's own #![deny(..)]
#                                (serde: unused_imports) must not stop the dump
#
# Usage: bench/accuracy/mir_truth.sh [crate-version ...]
#   With no arguments the crates listed in bench/accuracy/crates.txt are used.
#   Runs after rustdoc_truth.sh: it reuses that script's crate copies
#   ($ACC_CACHE/src/<crate>, with the same Cargo.toml tweaks), CARGO_HOME and
#   target dir, and needs the rustdoc JSON ($ACC_CACHE/json/<crate>.json) to
#   map callees to their definitions.
#
# Environment:
#   ACC_CACHE        work dir (default: <repo>/.cache/accuracy, git-ignored)
#   ACC_REUSE_TRUTH  1: a crate whose MIR is cached is not compiled again; its
#                    table is only re-made from the cached MIR (mir_calls.py)
#
# Written under $ACC_CACHE:
#   mir/<crate>.mir.gz       the MIR (gzip)
#   calls/<crate>.tsv        the normalized calls (columns and rules: mir_calls.py)
#   logs/<crate>.mir.log     cargo output
#   mir_status.tsv           crate, status (ok | failed), note
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${ACC_CACHE:-$root/.cache/accuracy}

mkdir -p "$cache/mir" "$cache/calls" "$cache/logs"

if [ $# -gt 0 ]; then
  crates=("$@")
else
  mapfile -t crates < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$here/crates.txt" | grep -v '^$')
fi

status="$cache/mir_status.tsv"
touch "$status"
new_status=$(mktemp)

# The MIR of the crate's lib target, gzipped to $cache/mir/<crate>.mir.gz.
dump_mir() {  # crate, crate dir, log
  local crate=$1 dst=$2 log=$3 librs
  # cargo does not re-run rustc for an unchanged crate (and -Zunpretty output is
  # not replayed): touch the lib root so that it does
  librs=$(cd "$dst" && CARGO_HOME="$cache/cargo_home" cargo metadata --format-version 1 --offline --no-deps 2>/dev/null |
    python3 -c '
import json, sys
m = json.load(sys.stdin)
for p in m["packages"]:
    for t in p["targets"]:
        if "lib" in t["kind"] or "rlib" in t["kind"] or "proc-macro" in t["kind"]:
            print(t["src_path"]); sys.exit()
')
  [ -n "$librs" ] && touch "$librs"
  echo "[$crate] cargo rustc -Zunpretty=mir" | tee -a "$log"
  if (cd "$dst" && CARGO_HOME="$cache/cargo_home" CARGO_TARGET_DIR="$cache/target" \
        RUSTC_BOOTSTRAP=1 nice cargo rustc --lib --offline -- -Zunpretty=mir \
        -Zmir-include-spans=yes -Ztrim-diagnostic-paths=no -Zmir-opt-level=0 --cap-lints=warn) \
        2>>"$log" | gzip -1 > "$cache/mir/$crate.mir.gz.tmp"; then
    mv "$cache/mir/$crate.mir.gz.tmp" "$cache/mir/$crate.mir.gz"
  else
    rm -f "$cache/mir/$crate.mir.gz.tmp"
    return 1
  fi
}

for crate in "${crates[@]}"; do
  dst="$cache/src/$crate"
  log="$cache/logs/$crate.mir.log"
  json="$cache/json/$crate.json"
  : > "$log"
  if [ ! -d "$dst" ] || [ ! -f "$json" ] || [ ! -f "$cache/cargo_home/config.toml" ]; then
    printf '%s\tfailed\tno crate copy or rustdoc JSON: run rustdoc_truth.sh first\n' "$crate" >> "$new_status"
    echo "[$crate] no crate copy / rustdoc JSON, skipped"
    continue
  fi
  if [ "${ACC_REUSE_TRUTH:-0}" = 1 ] && [ -s "$cache/mir/$crate.mir.gz" ]; then
    echo "[$crate] cached MIR" >> "$log"
  elif ! dump_mir "$crate" "$dst" "$log"; then
    printf '%s\tfailed\tcargo rustc failed, see logs/%s.mir.log: %s\n' "$crate" "$crate" \
      "$(grep -m1 '^error' "$log" | tr '\t' ' ')" >> "$new_status"
    echo "[$crate] failed"
    continue
  fi
  if note=$(python3 "$here/mir_calls.py" --mir "$cache/mir/$crate.mir.gz" --rustdoc "$json" \
              --src "$dst" --out "$cache/calls/$crate.tsv" 2>>"$log"); then
    printf '%s\tok\t%s\n' "$crate" "$note" >> "$new_status"
    echo "[$crate] ok: $note"
  else
    printf '%s\tfailed\tmir_calls.py failed, see logs/%s.mir.log\n' "$crate" "$crate" >> "$new_status"
    echo "[$crate] mir_calls.py failed"
  fi
done

# keep the status lines of crates not run now
{ awk -F'\t' -v list=" ${crates[*]} " 'NF && index(list, " " $1 " ") == 0' "$status"
  cat "$new_status"; } > "$status.tmp"
mv "$status.tmp" "$status"
rm -f "$new_status"
