#!/usr/bin/env bash
# The search benchmarks, on the index benchmark's corpus (every crate
# Debian's librust-*-dev packages install under /usr/share/cargo/registry):
#
#   1. `ferrograph index` with the search indexes, fresh database: the time
#      of the lexical index, of embedding (hash model) and of building the
#      HNSW sidecar, beside the graph alone (--no-search) in the same run;
#   2. search latency p50/p90/p99 per mode, query embedding included, against
#      embed + brute-force scan (bench/search_latency);
#   3. HNSW recall@10 and queries per second against exact search on the
#      same vectors (bench/vector/run_vector_bench.sh);
#   4. embedding throughput of each model (bench/embed_bench).
#
#   bash bench/search/run_search_bench.sh [--corpus DIR] [--work DIR] [--reuse]
#
# --reuse keeps the database of an earlier run in --work (default
# /tmp/fg-search-bench). Reports go to stdout.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
corpus=/usr/share/cargo/registry
work=${TMPDIR:-/tmp}/fg-search-bench
reuse=0
while [ $# -gt 0 ]; do
  case $1 in
    --corpus) corpus=${2:?}; shift ;;
    --work) work=${2:?}; shift ;;
    --reuse) reuse=1 ;;
    *) echo "run_search_bench: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
build=${FERROGRAPH_BUILD_DIR:-$root/build}
cmake --build "$build" --target ferrograph search_latency vector_bench embed_bench >&2
fg=$build/ferrograph
mkdir -p "$work"
db=$work/search.db

echo "## Search benchmarks"
echo
echo "corpus: $corpus; machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo
if [ "$reuse" = 0 ] || [ ! -f "$db" ]; then
  rm -f "$db" "$db"-wal "$db"-shm "$db".vec-*
  rm -f "$work/graph.db" "$work/graph.db"-*
  /usr/bin/time -f '%e s wall, %U s user, %M KiB peak' -o "$work/graph.time" \
    "$fg" index "$corpus" --db "$work/graph.db" --json --quiet --no-search >"$work/graph.json"
  /usr/bin/time -f '%e s wall, %U s user, %M KiB peak' -o "$work/search.time" \
    "$fg" index "$corpus" --db "$db" --json --quiet >"$work/search.json"
fi
echo "### 1. index with the search indexes (hash model)"
echo
echo "- graph alone (\`index --no-search\`): $(cat "$work/graph.time")"
echo "- graph and search (\`index\`): $(cat "$work/search.time")"
python3 - "$work/search.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"- of which search: {r['search_seconds']:.1f} s; lexical rows {r['lexical_rows']}")
for e in r["embeddings"]:
    mb = e["text_bytes"] / 1e6
    print(f"- {e['model']}: embedded {e['embedded']} contents ({mb:.1f} MB) in "
          f"{e['embed_seconds']:.1f} s ({mb / max(e['embed_seconds'], 1e-9):.1f} MB/s, "
          f"all threads, reading included); HNSW {e['vector_index']} in "
          f"{e['vector_index_seconds']:.1f} s")
PY
echo
echo "### 2. search latency (one Engine; query embedding included)"
echo
"$build/bench/search_latency" --db "$db" --queries 500
echo
echo "### 3. HNSW against exact search"
echo
bash "$root/bench/vector/run_vector_bench.sh" --db "$db" --no-build
echo
echo "### 4. embedding throughput"
echo
"$build/bench/embed_bench" --benchmark_min_time=1 2>/dev/null | grep -E "^BM_|^---|Benchmark"
