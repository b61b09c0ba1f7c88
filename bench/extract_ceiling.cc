// extract_ceiling: what `ferrograph index` could reach if storing, linking
// and committing were free. On N threads it does exactly the per-file work
// of the indexer's parser threads (ReadSourceFile, the BLAKE3 file hash,
// RustParser::Parse, ExtractFile with its macro re-parses) and nothing
// after it, over the same files as parse_baseline. Its MB/s against
// parse_baseline's is the ceiling of the full index's throughput ratio; the
// split of its CPU time says how much of the gap is extraction.
//
//   extract_ceiling [--jobs N] [--repeat R] (--files LIST [--root DIR] | DIR)
//
// Prints one JSON object: {files, bytes, seconds, mb_per_s, jobs, errors,
// cpu_read_hash_s, cpu_parse_s, cpu_extract_s, parses, items}; the CPU
// times are summed over the threads for the best round (parses counts
// tree-sitter parses, macro re-parses included). Exit codes: 0 ok, 1 error,
// 2 usage.
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

#include "ferrograph/engine.h"
#include "file_bench.h"
#include "graph/extract.h"
#include "hash/blake3_hasher.h"
#include "ingest/source_file.h"
#include "parse/rust_parser.h"

namespace {

constexpr const char kUsage[] =
    "Usage: extract_ceiling [--jobs N] [--repeat R] [--root DIR] --files LIST\n"
    "       extract_ceiling [--jobs N] [--repeat R] DIR\n";
// The indexer's default limit.
const uint64_t kMaxFileBytes = ferrograph::IndexOptions().max_file_bytes;

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct CpuSplit {
  double read_hash = 0, parse = 0, extract = 0;
  uint64_t parses = 0, items = 0;
};

// One thread's parser; adds its CPU split to `sink` when the thread ends.
class ExtractWorker {
 public:
  ExtractWorker(std::mutex* mu, CpuSplit* sink) : mu_(mu), sink_(sink) {}
  ExtractWorker(const ExtractWorker&) = delete;
  ExtractWorker& operator=(const ExtractWorker&) = delete;
  ~ExtractWorker() {
    split_.parses = parser_.parses();
    std::lock_guard<std::mutex> lock(*mu_);
    sink_->read_hash += split_.read_hash;
    sink_->parse += split_.parse;
    sink_->extract += split_.extract;
    sink_->parses += split_.parses;
    sink_->items += split_.items;
  }

  void operator()(const std::string& path, file_bench::Totals& t) {
    const double t0 = ThreadCpuSeconds();
    ferrograph::Result<std::string> source = ferrograph::ReadSourceFile(path, path, kMaxFileBytes);
    if (!source.ok()) {
      ++t.errors;
      return;
    }
    const ferrograph::ContentHash hash = ferrograph::HashBytes(*source);
    static_cast<void>(hash);
    const double t1 = ThreadCpuSeconds();
    ferrograph::Result<ferrograph::SyntaxTree> tree = parser_.Parse(*source);
    const double t2 = ThreadCpuSeconds();
    if (!tree.ok()) {
      ++t.errors;
      return;
    }
    ferrograph::FileExtraction x = ferrograph::ExtractFile(*source, *tree, parser_);
    split_.items += x.items.size();
    const double t3 = ThreadCpuSeconds();
    split_.read_hash += t1 - t0;
    split_.parse += t2 - t1;
    split_.extract += t3 - t2;
    ++t.files;
    t.bytes += source->size();
  }

 private:
  ferrograph::RustParser parser_;
  CpuSplit split_;
  std::mutex* mu_;
  CpuSplit* sink_;
};

}  // namespace

int main(int argc, char** argv) {
  file_bench::Args args;
  if (int code = file_bench::ParseArgs(argc, argv, kUsage, args); code >= 0) return code;
  // The split of the best round: each round starts a fresh one.
  std::mutex mu;
  CpuSplit split, best_split;
  double best = 0;
  file_bench::Totals total;
  const int rounds = args.repeat;
  args.repeat = 1;
  for (int r = 0; r < rounds; ++r) {
    split = {};
    file_bench::Totals round_total;
    const double seconds = file_bench::Run(
        args, [&](size_t) { return ExtractWorker(&mu, &split); }, round_total);
    if (r == 0 || seconds < best) {
      best = seconds;
      best_split = split;
      total = round_total;
    }
  }
  double mbps = best > 0 ? static_cast<double>(total.bytes) / 1e6 / best : 0;
  std::printf(
      "{\"files\": %llu, \"bytes\": %llu, \"seconds\": %.6f, \"mb_per_s\": %.3f, \"jobs\": %d, "
      "\"errors\": %llu, \"cpu_read_hash_s\": %.3f, \"cpu_parse_s\": %.3f, \"cpu_extract_s\": "
      "%.3f, \"parses\": %llu, \"items\": %llu}\n",
      static_cast<unsigned long long>(total.files), static_cast<unsigned long long>(total.bytes),
      best, mbps, args.jobs, static_cast<unsigned long long>(total.errors), best_split.read_hash,
      best_split.parse, best_split.extract, static_cast<unsigned long long>(best_split.parses),
      static_cast<unsigned long long>(best_split.items));
  return total.errors > 0 && total.files == 0 ? 1 : 0;
}
