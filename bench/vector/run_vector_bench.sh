#!/usr/bin/env bash
# The vector benchmark: HNSW (HnswIndex) against exact search (ExactIndex,
# the baseline) on the same vectors in the same run: recall@10, queries per
# second (ef 32/64/128), build time, index file size, save and load time.
# The report (markdown) goes to stdout; see bench/vector_bench.cc.
#
#   bash bench/vector/run_vector_bench.sh [--db FILE [--model MODEL_ID]]
#        [--corpus DIR] [--synthetic N] [--dim D] [--no-build] [-- FLAGS...]
#
#   --db FILE      the project's own embeddings of real code: the vectors of
#                  MODEL_ID in a ferrograph database (default model: the one
#                  with the most vectors)
#   --corpus DIR   first index the Rust code under DIR into FILE (a new
#                  database in a temporary directory when --db is not given)
#                  with `ferrograph index DIR --db FILE`, then use its vectors
#   --synthetic N  without --db or --corpus: N clustered vectors of dimension
#                  --dim (default 100000 of dimension 384, the hash
#                  embedder's)
#   --no-build     use the binaries already built
#   -- FLAGS       passed to vector_bench (--queries, --ef, --m,
#                  --ef-construction, --threads, --benchmark_min_time=...)
#
# Environment:
#   FERROGRAPH_BUILD_DIR  build directory (default build/); configured and
#                         built here with cmake when needed
#   TMPDIR                where the temporary database and index file go
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
db=
model=
corpus=
synthetic=100000
dim=384
build=1
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --db) db=${2:?--db wants a file}; shift ;;
    --model) model=${2:?--model wants a model id}; shift ;;
    --corpus) corpus=${2:?--corpus wants a directory}; shift ;;
    --synthetic) synthetic=${2:?--synthetic wants a count}; shift ;;
    --dim) dim=${2:?--dim wants a number}; shift ;;
    --no-build) build=0 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
log() { echo "[vector-bench] $*" >&2; }

build_dir=${FERROGRAPH_BUILD_DIR:-$root/build}
case "$build_dir" in /*) ;; *) build_dir=$root/$build_dir ;; esac
targets=(vector_bench)
[ -n "$corpus" ] && targets+=(ferrograph)
if [ "$build" = 1 ]; then
  if [ ! -f "$build_dir/CMakeCache.txt" ]; then
    gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
    cmake -S "$root" -B "$build_dir" "${gen[@]}" \
      -DCMAKE_BUILD_TYPE="${FERROGRAPH_BUILD_TYPE:-RelWithDebInfo}" >&2
  fi
  cmake --build "$build_dir" --target "${targets[@]}" -j "$(nproc)" >&2
fi
bench=$build_dir/bench/vector_bench
[ -x "$bench" ] || { echo "$bench not built" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ferrograph-vector-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ -n "$corpus" ]; then
  [ -d "$corpus" ] || { echo "corpus $corpus not found" >&2; exit 1; }
  [ -n "$db" ] || db=$work/corpus.db
  log "indexing $corpus into $db"
  "$build_dir/ferrograph" index "$corpus" --db "$db" --quiet >&2
fi

if [ -n "$db" ]; then
  [ -f "$db" ] || { echo "database $db not found" >&2; exit 1; }
  command -v sqlite3 >/dev/null || { echo "missing tool: sqlite3" >&2; exit 1; }
  has_vectors=$(sqlite3 "$db" "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('vectors', 'models')")
  if [ "$has_vectors" != 2 ]; then
    echo "$db has no vectors/models tables (made by a ferrograph without vector search?)" >&2
    exit 1
  fi
  if [ -z "$model" ]; then
    model=$(sqlite3 "$db" "SELECT m.model_id FROM models m JOIN vectors v ON v.model = m.id
                           GROUP BY m.id ORDER BY COUNT(*) DESC, m.id LIMIT 1")
    [ -n "$model" ] || { echo "$db holds no vectors" >&2; exit 1; }
  fi
  count=$(sqlite3 "$db" "SELECT COUNT(*) FROM vectors v JOIN models m ON v.model = m.id
                         WHERE m.model_id = '${model//\'/\'\'}'")
  log "$count vectors of model $model in $db"
  if [ "$count" -lt 100000 ]; then
    log "note: fewer than 100000 vectors; index a larger corpus for figures at scale"
  fi
  "$bench" --db "$db" --model "$model" --index-dir "$work" "${extra[@]}"
else
  log "synthetic: $synthetic vectors of dimension $dim"
  "$bench" --synthetic "$synthetic" --dim "$dim" --index-dir "$work" "${extra[@]}"
fi
