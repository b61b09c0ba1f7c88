// Embedding throughput, in bytes of Rust source per second on one thread:
//   BM_CodeWords        tokenizing alone: the baseline every embedder pays
//   BM_HashEmbed        the built-in hash embedder (hash-v2-384)
//   BM_FastTextEmbed    a fastText model (dim 100, buckets 200000) trained in
//                       the setup on the same text, one thread, word-vector
//                       cache warm after the first iteration
// The text is Debian's regex and regex-syntax crates
// (/usr/share/cargo/registry/regex-*/src, or FERROGRAPH_BENCH_DIR), cut into
// item-sized pieces (about 2 KB, at blank lines) and embedded 64 at a time, as
// the indexer does. Benchmarks are skipped with a message when no text is
// found.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "embed/fasttext_embedder.h"
#include "embed/hash_embedder.h"
#include "embed/tokenize.h"

namespace {

namespace fs = std::filesystem;

constexpr size_t kPieceBytes = 2048;
constexpr size_t kBatch = 64;

// Every .rs file under the crate source directories, cut into pieces.
std::vector<std::string> LoadPieces() {
  std::vector<fs::path> roots;
  if (const char* env = std::getenv("FERROGRAPH_BENCH_DIR"); env != nullptr && *env != '\0') {
    roots.emplace_back(env);
  } else {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/usr/share/cargo/registry", ec)) {
      if (e.path().filename().string().rfind("regex-", 0) == 0) roots.push_back(e.path() / "src");
    }
  }
  std::vector<std::string> pieces;
  for (const fs::path& root : roots) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (it->path().extension() != ".rs") continue;
      std::ifstream in(it->path(), std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      const std::string text = ss.str();
      size_t start = 0;
      while (start < text.size()) {
        size_t cut = text.find("\n\n", start + kPieceBytes);
        size_t end = cut == std::string::npos ? text.size() : cut + 2;
        pieces.push_back(text.substr(start, end - start));
        start = end;
      }
    }
  }
  return pieces;
}

const std::vector<std::string>& Pieces() {
  static const auto* pieces = new std::vector<std::string>(LoadPieces());
  return *pieces;
}

int64_t TotalBytes(const std::vector<std::string>& texts) {
  int64_t n = 0;
  for (const std::string& t : texts) n += static_cast<int64_t>(t.size());
  return n;
}

bool SkipWithoutText(benchmark::State& state) {
  if (!Pieces().empty()) return false;
  state.SkipWithError("no Rust text: install librust-regex-dev or set FERROGRAPH_BENCH_DIR");
  return true;
}

// Embeds every piece in batches; the bytes of one pass per iteration.
void RunEmbedder(benchmark::State& state, ferrograph::Embedder& embedder) {
  const std::vector<std::string>& pieces = Pieces();
  std::vector<std::vector<std::string>> batches;
  for (size_t i = 0; i < pieces.size(); i += kBatch) {
    batches.emplace_back(pieces.begin() + i, pieces.begin() + std::min(pieces.size(), i + kBatch));
  }
  for (auto _ : state) {
    for (const auto& batch : batches) {
      auto r = embedder.Embed(batch);
      if (!r.ok()) {
        state.SkipWithError(r.status().ToString().c_str());
        return;
      }
      benchmark::DoNotOptimize(r->data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * TotalBytes(pieces));
  state.counters["pieces"] = static_cast<double>(pieces.size());
}

void BM_CodeWords(benchmark::State& state) {
  if (SkipWithoutText(state)) return;
  for (auto _ : state) {
    for (const std::string& piece : Pieces()) {
      size_t words = 0;
      ferrograph::ForEachIdentifier(
          piece, [&](std::string_view, const std::string_view*, size_t n) { words += 1 + n; });
      benchmark::DoNotOptimize(words);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * TotalBytes(Pieces()));
}
BENCHMARK(BM_CodeWords)->Unit(benchmark::kMillisecond);

void BM_HashEmbed(benchmark::State& state) {
  if (SkipWithoutText(state)) return;
  auto embedder = ferrograph::MakeHashEmbedder();
  RunEmbedder(state, *embedder);
}
BENCHMARK(BM_HashEmbed)->Unit(benchmark::kMillisecond);

void BM_FastTextEmbed(benchmark::State& state) {
  if (SkipWithoutText(state)) return;
  static std::unique_ptr<ferrograph::Embedder> embedder = [] {
    std::string path = (fs::temp_directory_path() / "ferrograph_embed_bench.bin").string();
    ferrograph::FastTextTrainOptions options;  // dim 100, buckets 200000
    options.epoch = 2;                         // speeds the setup; does not change the cost
    options.threads = 2;
    ferrograph::Status s = ferrograph::TrainFastText(Pieces(), options, path);
    // Signed with a key of this run, which is the one trusted.
    auto key = ferrograph::SigningKey::Generate();
    std::unique_ptr<ferrograph::Embedder> e;
    if (s.ok() && key.ok() && ferrograph::SignModelFile(path, *key).ok()) {
      auto r = ferrograph::LoadFastTextModel(path, {{key->public_key()}, false});
      if (r.ok()) e = std::move(r).value();
    }
    fs::remove(path);
    fs::remove(ferrograph::ManifestPath(path));
    return e;
  }();
  if (embedder == nullptr) {
    state.SkipWithError("fastText training or loading failed");
    return;
  }
  RunEmbedder(state, *embedder);
}
BENCHMARK(BM_FastTextEmbed)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
