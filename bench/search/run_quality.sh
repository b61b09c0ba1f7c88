#!/usr/bin/env bash
# Retrieval quality of `ferrograph search` (CodeSearchNet style): the first
# sentence of each documented item's docs is the query, the item itself the
# target, searched for in a copy of the crate without any doc comments.
#
#   bash bench/search/run_quality.sh [quality.py options]
#
#   --crates a,b        crate names (newest version in /usr/share/cargo/registry),
#                       NAME-VERSION, or directories (default: regex-syntax,
#                       regex-automata, serde, syn, clap_builder|clap, tokio,
#                       rayon-core, memchr, aho-corasick, itertools; missing
#                       ones are skipped)
#   --max-queries N     per crate (default 400; 0: all)
#   --scratch DIR       scratch space (default /tmp/fg-quality, or
#                       $FG_QUALITY_SCRATCH)
#   --reuse             reuse the indexed copies and queries of an earlier run
#   --jobs N            concurrent searches (default 2)
#   --tests T           how search ranks test code: demote (ferrograph's
#                       default), include, exclude
#   --write             put the tables into bench/RESULTS.md between
#                       <!-- search-quality:begin --> and <!-- search-quality:end -->
#   --examples N        print N example queries per crate (to stderr)
#
# The binary: $FERROGRAPH_BUILD_DIR/ferrograph (default build/). When it has
# no `search` command it is rebuilt once with
# `cmake --build $FERROGRAPH_BUILD_DIR --target ferrograph` (set FG_NO_BUILD=1
# to skip that). The tables go to stdout, progress to stderr. Config and the
# key that signs the trained models: $FG_QUALITY_CONFIG (default
# /tmp/fg-quality-config) as XDG_CONFIG_HOME.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build_dir=${FERROGRAPH_BUILD_DIR:-$root/build}
case $build_dir in /*) ;; *) build_dir=$root/$build_dir ;; esac
fg=$build_dir/ferrograph

has_search() { [ -x "$fg" ] && "$fg" search --help >/dev/null 2>&1; }

if ! has_search; then
  if [ "${FG_NO_BUILD:-0}" != 1 ] && [ -f "$build_dir/CMakeCache.txt" ]; then
    echo "run_quality: $fg has no search command; building it" >&2
    cmake --build "$build_dir" --target ferrograph >&2 || true
  fi
  if ! has_search; then
    echo "run_quality: $fg has no working \`search\` command (build it first:" >&2
    echo "  cmake --build $build_dir --target ferrograph)" >&2
    exit 1
  fi
fi

cmd="bash bench/search/run_quality.sh"
[ $# -gt 0 ] && cmd+=" $*"
[ -n "${FERROGRAPH_BUILD_DIR:-}" ] && cmd="FERROGRAPH_BUILD_DIR=$FERROGRAPH_BUILD_DIR $cmd"

# A private copy of the binary: a rebuild during the run must not change it.
snap=$(mktemp /tmp/ferrograph-quality.XXXXXX)
batch_snap=$(mktemp /tmp/ferrograph-quality-batch.XXXXXX)
trap 'rm -f "$snap" "$batch_snap"' EXIT
cp "$fg" "$snap"
chmod 755 "$snap"
batch_args=()
if [ -x "$(dirname "$fg")/bench/search_batch" ]; then
  cp "$(dirname "$fg")/bench/search_batch" "$batch_snap"
  chmod 755 "$batch_snap"
  batch_args=(--batch "$batch_snap")
fi
# A config directory of the benchmark's own: no user setting changes the
# results, and the key that signs the fastText models it trains (`model
# train` makes one the first time) stays out of ~/.config; stable across runs
# so that --reuse finds its models still trusted.
export XDG_CONFIG_HOME=${FG_QUALITY_CONFIG:-/tmp/fg-quality-config}
status=0
python3 "$here/quality.py" --bin "$snap" "${batch_args[@]}" --results "$root/bench/RESULTS.md" \
  --command "$cmd" "$@" || status=$?
exit $status
