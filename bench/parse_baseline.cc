// parse_baseline: the raw tree-sitter throughput that `ferrograph index` is
// measured against. It reads and parses Rust files with nothing but the
// tree-sitter C API and std::thread: no ferrograph code, no extraction, no
// hashing, no storage. Whatever ferrograph adds on top shows up as the gap
// between its MB/s and this program's.
//
//   parse_baseline [--jobs N] [--repeat R] (--files LIST | DIR)
//
// LIST holds one path per line, relative to --root DIR when given. DIR is
// walked for *.rs files, skipping target/ and hidden directories. Timing
// covers reading (open, fstat, read whole) and parsing every file, the work
// ferrograph's parser threads do, on N threads (default: all cores). Prints
// one JSON object: {files, bytes, seconds, mb_per_s, jobs, errors}.
// Exit codes: 0 ok, 1 error, 2 usage.
#include <fcntl.h>
#include <sys/stat.h>
#include <tree_sitter/api.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <string>

#include "file_bench.h"

extern "C" const TSLanguage* tree_sitter_rust(void);

namespace {

constexpr const char kUsage[] =
    "Usage: parse_baseline [--jobs N] [--repeat R] [--root DIR] --files LIST\n"
    "       parse_baseline [--jobs N] [--repeat R] DIR\n";

// Reads `path` whole into `out` the way ferrograph's reader does (open,
// fstat, read until done). Returns false on any error.
bool ReadWhole(const std::string& path, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return false;
  }
  out.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out.size()) {
    ssize_t r = ::read(fd, out.data() + got, out.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  ::close(fd);
  out.resize(got);
  return true;
}

// A thread's parser and buffer; reads and parses one file per call.
class ParseWorker {
 public:
  ParseWorker() : parser_(ts_parser_new()) { ts_parser_set_language(parser_, tree_sitter_rust()); }
  ParseWorker(const ParseWorker&) = delete;
  ParseWorker& operator=(const ParseWorker&) = delete;
  ~ParseWorker() { ts_parser_delete(parser_); }

  void operator()(const std::string& path, file_bench::Totals& t) {
    if (!ReadWhole(path, src_)) {
      ++t.errors;
      return;
    }
    TSTree* tree =
        ts_parser_parse_string(parser_, nullptr, src_.data(), static_cast<uint32_t>(src_.size()));
    if (tree == nullptr) {
      ++t.errors;
      return;
    }
    ts_tree_delete(tree);
    ++t.files;
    t.bytes += src_.size();
  }

 private:
  TSParser* parser_;
  std::string src_;
};

}  // namespace

int main(int argc, char** argv) {
  file_bench::Args args;
  if (int code = file_bench::ParseArgs(argc, argv, kUsage, args); code >= 0) return code;
  file_bench::Totals total;
  const double best = file_bench::Run(
      args, [](size_t) { return ParseWorker(); }, total);
  double mbps = best > 0 ? static_cast<double>(total.bytes) / 1e6 / best : 0;
  std::printf(
      "{\"files\": %llu, \"bytes\": %llu, \"seconds\": %.6f, \"mb_per_s\": %.3f, \"jobs\": %d, "
      "\"errors\": %llu}\n",
      static_cast<unsigned long long>(total.files), static_cast<unsigned long long>(total.bytes),
      best, mbps, args.jobs, static_cast<unsigned long long>(total.errors));
  return total.errors > 0 && total.files == 0 ? 1 : 0;
}
