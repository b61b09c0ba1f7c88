// Micro-benchmarks of the per-file work of `ferrograph index`, each beside
// its baseline:
//   BM_Blake3_1MiB         HashBytes over 1 MiB (the per-file content hash)
//   BM_TreeSitterParse     raw tree-sitter C API parse of a real file
//   BM_RustParserParse     the same file through RustParser (the wrapper)
//   BM_ParseAndExtract     RustParser parse + ExtractFile (what a parser
//                          thread does per file, minus reading and storing)
// All report bytes_per_second. The parse benchmarks use a real crate file
// (FERROGRAPH_BENCH_FILE, default regex's re_unicode.rs from Debian's
// librust-regex-dev) and are skipped with a message when it is missing.
#include <benchmark/benchmark.h>
#include <tree_sitter/api.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "graph/extract.h"
#include "hash/blake3_hasher.h"
#include "parse/rust_parser.h"

extern "C" const TSLanguage* tree_sitter_rust(void);

namespace {

constexpr const char kDefaultFile[] = "/usr/share/cargo/registry/regex-1.7.1/src/re_unicode.rs";

// The benchmark source file, read once; empty when it cannot be read.
const std::string& BenchSource() {
  static const std::string* source = [] {
    const char* env = std::getenv("FERROGRAPH_BENCH_FILE");
    std::ifstream in(env != nullptr && *env != '\0' ? env : kDefaultFile, std::ios::binary);
    std::ostringstream ss;
    if (in) ss << in.rdbuf();
    return new std::string(ss.str());
  }();
  return *source;
}

bool SkipWithoutSource(benchmark::State& state) {
  if (!BenchSource().empty()) return false;
  state.SkipWithError(
      "benchmark file missing: install librust-regex-dev or set FERROGRAPH_BENCH_FILE");
  return true;
}

void BM_Blake3_1MiB(benchmark::State& state) {
  std::string data(1u << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 + (i >> 9));
  for (auto _ : state) {
    ferrograph::ContentHash h = ferrograph::HashBytes(data);
    benchmark::DoNotOptimize(h);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(data.size()));
}
BENCHMARK(BM_Blake3_1MiB);

void BM_TreeSitterParse(benchmark::State& state) {
  if (SkipWithoutSource(state)) return;
  const std::string& src = BenchSource();
  TSParser* parser = ts_parser_new();
  ts_parser_set_language(parser, tree_sitter_rust());
  for (auto _ : state) {
    TSTree* tree =
        ts_parser_parse_string(parser, nullptr, src.data(), static_cast<uint32_t>(src.size()));
    benchmark::DoNotOptimize(tree);
    ts_tree_delete(tree);
  }
  ts_parser_delete(parser);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(src.size()));
}
BENCHMARK(BM_TreeSitterParse)->Unit(benchmark::kMillisecond);

void BM_RustParserParse(benchmark::State& state) {
  if (SkipWithoutSource(state)) return;
  const std::string& src = BenchSource();
  ferrograph::RustParser parser;
  for (auto _ : state) {
    auto tree = parser.Parse(src);
    benchmark::DoNotOptimize(tree);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(src.size()));
}
BENCHMARK(BM_RustParserParse)->Unit(benchmark::kMillisecond);

// Re-parsing the file after one line was inserted in its middle, from the
// tree of the version before (what `watch` does for a file being edited),
// against BM_RustParserParse's full parse.
void BM_RustParserReparse(benchmark::State& state) {
  if (SkipWithoutSource(state)) return;
  const std::string& src = BenchSource();
  std::string edited = src;
  size_t mid = edited.find('\n', edited.size() / 2);
  edited.insert(mid == std::string::npos ? edited.size() : mid + 1, "// an edit\n");
  ferrograph::RustParser parser;
  auto old = parser.Parse(src);
  if (!old.ok()) {
    state.SkipWithError("RustParser::Parse failed");
    return;
  }
  // With the changed ranges, as the indexer asks for them (ExtractEdited
  // widens its window by them).
  std::vector<TSRange> changed;
  for (auto _ : state) {
    auto tree = parser.Reparse(edited, src, *old, &changed);
    benchmark::DoNotOptimize(tree);
  }
  state.counters["changed_ranges"] = static_cast<double>(changed.size());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(src.size()));
}
BENCHMARK(BM_RustParserReparse)->Unit(benchmark::kMillisecond);

void BM_ParseAndExtract(benchmark::State& state) {
  if (SkipWithoutSource(state)) return;
  const std::string& src = BenchSource();
  ferrograph::RustParser parser;
  size_t items = 0;
  for (auto _ : state) {
    auto tree = parser.Parse(src);
    if (!tree.ok()) {
      state.SkipWithError("RustParser::Parse failed");
      return;
    }
    ferrograph::FileExtraction x = ferrograph::ExtractFile(src, *tree, parser);
    items = x.items.size();
    benchmark::DoNotOptimize(x);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(src.size()));
  state.counters["items"] = static_cast<double>(items);
}
BENCHMARK(BM_ParseAndExtract)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
