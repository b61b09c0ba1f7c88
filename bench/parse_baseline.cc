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

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

extern "C" const TSLanguage* tree_sitter_rust(void);

namespace {

namespace fs = std::filesystem;

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

// *.rs files under `dir`, skipping target/ and hidden directories, sorted.
std::vector<std::string> WalkRustFiles(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    std::string name = p.filename().string();
    if (it->is_directory(ec)) {
      if (name == "target" || (!name.empty() && name[0] == '.')) it.disable_recursion_pending();
      continue;
    }
    if (p.extension() == ".rs" && it->is_regular_file(ec)) files.push_back(p.string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool ReadFileList(const std::string& list, const std::string& root,
                  std::vector<std::string>& files) {
  std::ifstream in(list);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    files.push_back(root.empty() || line[0] == '/' ? line : root + "/" + line);
  }
  return true;
}

struct WorkerTotals {
  uint64_t files = 0;
  uint64_t bytes = 0;
  uint64_t errors = 0;
};

}  // namespace

int main(int argc, char** argv) {
  int jobs = 0;
  int repeat = 1;
  std::string list, root, dir;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "--jobs" || a == "--repeat") {
      const char* v = value();
      char* endp = nullptr;
      long n = v ? std::strtol(v, &endp, 10) : -1;
      if (!v || *endp != '\0' || n < 0 || n > 1024 || (a == "--repeat" && n == 0)) {
        std::fprintf(stderr, "%s wants a number\n%s", a.c_str(), kUsage);
        return 2;
      }
      (a == "--jobs" ? jobs : repeat) = static_cast<int>(n);
    } else if (a == "--files" || a == "--root") {
      const char* v = value();
      if (!v) {
        std::fprintf(stderr, "%s wants a path\n%s", a.c_str(), kUsage);
        return 2;
      }
      (a == "--files" ? list : root) = v;
    } else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (!a.empty() && a[0] != '-' && dir.empty()) {
      dir = a;
    } else {
      std::fprintf(stderr, "unexpected argument: %s\n%s", a.c_str(), kUsage);
      return 2;
    }
  }
  if (list.empty() == dir.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::vector<std::string> files;
  if (!list.empty()) {
    if (!ReadFileList(list, root, files)) {
      std::fprintf(stderr, "%s: cannot read file list\n", list.c_str());
      return 1;
    }
  } else {
    files = WalkRustFiles(dir);
  }
  if (jobs == 0) jobs = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));

  // Each repetition hands files out from a shared counter, one parser per
  // thread (as tree-sitter wants), and keeps the best wall time.
  double best = 0;
  WorkerTotals total;
  for (int r = 0; r < repeat; ++r) {
    std::atomic<size_t> next{0};
    std::vector<WorkerTotals> totals(static_cast<size_t>(jobs));
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int w = 0; w < jobs; ++w) {
      threads.emplace_back([&, w] {
        TSParser* parser = ts_parser_new();
        ts_parser_set_language(parser, tree_sitter_rust());
        WorkerTotals& t = totals[static_cast<size_t>(w)];
        std::string src;
        while (true) {
          size_t i = next.fetch_add(1, std::memory_order_relaxed);
          if (i >= files.size()) break;
          if (!ReadWhole(files[i], src)) {
            ++t.errors;
            continue;
          }
          TSTree* tree = ts_parser_parse_string(parser, nullptr, src.data(),
                                                static_cast<uint32_t>(src.size()));
          if (tree == nullptr) {
            ++t.errors;
            continue;
          }
          ts_tree_delete(tree);
          ++t.files;
          t.bytes += src.size();
        }
        ts_parser_delete(parser);
      });
    }
    for (auto& t : threads) t.join();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (r == 0 || seconds < best) best = seconds;
    total = {};
    for (const WorkerTotals& t : totals) {
      total.files += t.files;
      total.bytes += t.bytes;
      total.errors += t.errors;
    }
  }
  double mbps = best > 0 ? static_cast<double>(total.bytes) / 1e6 / best : 0;
  std::printf(
      "{\"files\": %llu, \"bytes\": %llu, \"seconds\": %.6f, \"mb_per_s\": %.3f, \"jobs\": %d, "
      "\"errors\": %llu}\n",
      static_cast<unsigned long long>(total.files), static_cast<unsigned long long>(total.bytes),
      best, mbps, jobs, static_cast<unsigned long long>(total.errors));
  return total.errors > 0 && total.files == 0 ? 1 : 0;
}
