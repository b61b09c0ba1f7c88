#!/usr/bin/env bash
# Produces the compiler's view of each corpus crate: rustdoc JSON built fully
# offline against Debian's crate sources in /usr/share/cargo/registry:
#   RUSTC_BOOTSTRAP=1 cargo rustdoc --lib --offline -- -Z unstable-options \
#     --output-format json --document-private-items --document-hidden-items
# (--document-hidden-items too: without it every #[doc(hidden)] item, e.g.
# serde::__private or bitflags' helper macros, is missing from the oracle.)
#
# Usage: bench/accuracy/rustdoc_truth.sh [crate-version ...]
#   With no arguments the crates listed in bench/accuracy/crates.txt are used.
#
# Environment:
#   ACC_CACHE     work dir (default: <repo>/.cache/accuracy, git-ignored)
#   ACC_REGISTRY  crate sources (default: /usr/share/cargo/registry)
#
# Layout written under $ACC_CACHE:
#   cargo_home/config.toml   crates-io replaced by the Debian directory source, offline
#   src/<crate>/             writable copy of the registry crate (what ferrograph indexes too)
#   target/                  CARGO_TARGET_DIR shared by all crates
#   json/<crate>.json        rustdoc JSON (the oracle)
#   cfg/<crate>.txt          the cfg set rustdoc compiled with, one per line:
#                            `rustc --print cfg`, doc, the enabled features
#                            (cargo metadata) and build-script rustc-cfg lines
#   logs/<crate>.log         cargo output
#   truth_status.tsv         crate, status (ok | ok-tweaked | failed), note
#
# What may be changed in a crate copy: nothing, first. If cargo fails on the
# untouched copy (typically: a dev-dependency that Debian does not ship, or a
# [[bench]]/[[test]]/[[example]] target whose file Debian dropped), the copy's
# Cargo.toml is rewritten with every [dev-dependencies] table (also
# target-specific ones) and every [[bench]]/[[test]]/[[example]] table removed,
# and Cargo.lock is regenerated offline. The library source is never touched,
# and default features are used. The status file says which crates needed it.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${ACC_CACHE:-$root/.cache/accuracy}
registry=${ACC_REGISTRY:-/usr/share/cargo/registry}

mkdir -p "$cache/cargo_home" "$cache/src" "$cache/json" "$cache/logs" "$cache/target" "$cache/cfg"
cat > "$cache/cargo_home/config.toml" <<EOF
[source.crates-io]
replace-with = "debian"

[source.debian]
directory = "$registry"

[net]
offline = true
EOF

if [ $# -gt 0 ]; then
  crates=("$@")
else
  mapfile -t crates < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$here/crates.txt" | grep -v '^$')
fi

status="$cache/truth_status.tsv"
: > "$status"

# Removes dev-dependency tables and bench/test/example targets from a
# Cargo.toml (line-based: a table runs until the next table header).
strip_manifest() {
  python3 - "$1" <<'PY'
import re, sys
path = sys.argv[1]
out, drop = [], False
for line in open(path, encoding="utf-8"):
    s = line.strip()
    if s.startswith("["):
        header = s.strip("[]").strip()
        drop = (bool(re.search(r"(^|\.)dev-dependencies($|\.)", header))
                or header in ("bench", "test", "example"))
    if not drop:
        out.append(line)
open(path, "w", encoding="utf-8").write("".join(out))
PY
}

run_rustdoc() {  # crate dir, log
  (cd "$1" && CARGO_HOME="$cache/cargo_home" CARGO_TARGET_DIR="$cache/target" \
     RUSTC_BOOTSTRAP=1 nice cargo rustdoc --lib --offline -- \
     -Z unstable-options --output-format json --document-private-items \
     --document-hidden-items) >>"$2" 2>&1
}

# The cfg set of the rustdoc run, so that compare.py can tell code the compiler
# did not see (cfg off) from real misses.
write_cfg() {  # crate, crate dir
  rustc --print cfg
  echo doc
  (cd "$2" && CARGO_HOME="$cache/cargo_home" cargo metadata --format-version 1 --offline 2>/dev/null) |
    python3 -c '
import json, sys
m = json.load(sys.stdin)
root = m["resolve"]["root"]
for n in m["resolve"]["nodes"]:
    if n["id"] == root:
        for f in n["features"]:
            print("feature=\"%s\"" % f)
'
  local pkg out
  pkg=$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["package"]["name"])' "$2/Cargo.toml")
  out=$(ls -t "$cache"/target/debug/build/"$pkg"-????????????????/output 2>/dev/null | head -1)
  if [ -n "$out" ]; then
    sed -n -e 's/^cargo::\{0,1\}rustc-cfg=//p' "$out"
  fi
}

for crate in "${crates[@]}"; do
  src="$registry/$crate"
  dst="$cache/src/$crate"
  log="$cache/logs/$crate.log"
  : > "$log"
  if [ ! -d "$src" ]; then
    printf '%s\tfailed\tnot in %s\n' "$crate" "$registry" >> "$status"
    echo "[$crate] missing from registry"
    continue
  fi
  rm -rf "$dst"
  cp -r "$src" "$dst"
  chmod -R u+w "$dst"
  rm -f "$dst/.cargo-checksum.json" "$dst/Cargo.lock"
  # The lib target name decides the JSON file name (e.g. regex-syntax -> regex_syntax).
  lib=$(python3 - "$dst/Cargo.toml" "$crate" <<'PY'
import sys, tomllib
m = tomllib.load(open(sys.argv[1], "rb"))
name = m.get("lib", {}).get("name") or m["package"]["name"]
print(name.replace("-", "_"))
PY
)
  json="$cache/target/doc/$lib.json"
  rm -f "$json"
  note="untouched Cargo.toml, default features"
  state=ok
  echo "[$crate] cargo rustdoc (untouched)" | tee -a "$log"
  if ! run_rustdoc "$dst" "$log"; then
    echo "[$crate] retry without dev-dependencies / bench,test,example targets" | tee -a "$log"
    cp "$dst/Cargo.toml" "$dst/Cargo.toml.untouched"
    strip_manifest "$dst/Cargo.toml"
    rm -f "$dst/Cargo.lock"
    state=ok-tweaked
    note="Cargo.toml: dev-dependencies and [[bench]]/[[test]]/[[example]] removed, default features"
    if ! run_rustdoc "$dst" "$log"; then
      state=failed
      note="cargo rustdoc failed, see logs/$crate.log: $(grep -m1 '^error' "$log" | tr '\t' ' ')"
    fi
  fi
  if [ "$state" != failed ] && [ -f "$json" ]; then
    cp "$json" "$cache/json/$crate.json"
  elif [ "$state" != failed ]; then
    state=failed; note="no $json produced"
  fi
  if [ "$state" != failed ]; then
    write_cfg "$crate" "$dst" > "$cache/cfg/$crate.txt"
  fi
  printf '%s\t%s\t%s\n' "$crate" "$state" "$note" >> "$status"
  echo "[$crate] $state: $note"
done
