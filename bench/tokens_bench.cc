// Token counting throughput, in bytes of Rust source per second on one thread:
//   BM_Split/<encoding>   the PCRE2 split regex alone (pre-tokenization):
//                         the baseline every count pays
//   BM_Count/<encoding>   BpeTokenizer::Count: split, then byte-pair merges
//   BM_Encode/<encoding>  BpeTokenizer::Encode into a reused vector
//   BM_Estimate           the heuristic used for models without a vocabulary
// The text is Debian's regex, regex-syntax and syn crates
// (/usr/share/cargo/registry/{regex-*,syn-<version>}/src, or
// FERROGRAPH_BENCH_DIR), one call per file, as the context builder counts
// items. Benchmarks are skipped with a message when no text is found.
#include <benchmark/benchmark.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tokens/bpe_tokenizer.h"
#include "tokens/token_counter.h"

namespace {

namespace fs = std::filesystem;

std::vector<std::string> LoadFiles() {
  std::vector<fs::path> roots;
  if (const char* env = std::getenv("FERROGRAPH_BENCH_DIR"); env != nullptr && *env != '\0') {
    roots.emplace_back(env);
  } else {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/usr/share/cargo/registry", ec)) {
      const std::string name = e.path().filename().string();
      const bool syn = name.rfind("syn-", 0) == 0 && name.size() > 4 &&
                       std::isdigit(static_cast<unsigned char>(name[4]));
      if (name.rfind("regex-", 0) == 0 || syn) roots.push_back(e.path() / "src");
    }
  }
  std::vector<std::string> files;
  for (const fs::path& root : roots) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (it->path().extension() != ".rs") continue;
      std::ifstream in(it->path(), std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      files.push_back(ss.str());
    }
  }
  return files;
}

const std::vector<std::string>& Files() {
  static const auto* files = new std::vector<std::string>(LoadFiles());
  return *files;
}

int64_t TotalBytes() {
  int64_t n = 0;
  for (const std::string& f : Files()) n += static_cast<int64_t>(f.size());
  return n;
}

const ferrograph::BpeTokenizer* TokenizerOrSkip(benchmark::State& state, const char* encoding) {
  if (Files().empty()) {
    state.SkipWithError("no Rust text: install librust-regex-dev or set FERROGRAPH_BENCH_DIR");
    return nullptr;
  }
  auto t = ferrograph::BpeTokenizer::Get(encoding);
  if (!t.ok()) {
    state.SkipWithError(t.status().ToString().c_str());
    return nullptr;
  }
  return *t;
}

void BM_Split(benchmark::State& state, const char* encoding) {
  const ferrograph::BpeTokenizer* t = TokenizerOrSkip(state, encoding);
  if (t == nullptr) return;
  size_t pieces = 0;
  for (auto _ : state) {
    pieces = 0;
    for (const std::string& f : Files()) pieces += t->CountPieces(f);
    benchmark::DoNotOptimize(pieces);
  }
  state.SetBytesProcessed(state.iterations() * TotalBytes());
  state.counters["pieces"] = static_cast<double>(pieces);
}

void BM_Count(benchmark::State& state, const char* encoding) {
  const ferrograph::BpeTokenizer* t = TokenizerOrSkip(state, encoding);
  if (t == nullptr) return;
  size_t tokens = 0;
  for (auto _ : state) {
    tokens = 0;
    for (const std::string& f : Files()) tokens += t->Count(f);
    benchmark::DoNotOptimize(tokens);
  }
  state.SetBytesProcessed(state.iterations() * TotalBytes());
  state.counters["tokens"] = static_cast<double>(tokens);
  state.counters["bytes_per_token"] = static_cast<double>(TotalBytes()) / tokens;
}

void BM_Encode(benchmark::State& state, const char* encoding) {
  const ferrograph::BpeTokenizer* t = TokenizerOrSkip(state, encoding);
  if (t == nullptr) return;
  std::vector<uint32_t> ids;
  for (auto _ : state) {
    for (const std::string& f : Files()) {
      ids.clear();
      t->Encode(f, &ids);
      benchmark::DoNotOptimize(ids.data());
    }
  }
  state.SetBytesProcessed(state.iterations() * TotalBytes());
}

void BM_Estimate(benchmark::State& state) {
  if (Files().empty()) {
    state.SkipWithError("no Rust text: install librust-regex-dev or set FERROGRAPH_BENCH_DIR");
    return;
  }
  size_t tokens = 0;
  for (auto _ : state) {
    tokens = 0;
    for (const std::string& f : Files()) tokens += ferrograph::EstimateTokens(f);
    benchmark::DoNotOptimize(tokens);
  }
  state.SetBytesProcessed(state.iterations() * TotalBytes());
  state.counters["tokens"] = static_cast<double>(tokens);
}

BENCHMARK_CAPTURE(BM_Split, o200k_base, "o200k_base")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Count, o200k_base, "o200k_base")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, o200k_base, "o200k_base")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Split, cl100k_base, "cl100k_base")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Count, cl100k_base, "cl100k_base")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Encode, cl100k_base, "cl100k_base")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Estimate)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
