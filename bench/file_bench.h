// What parse_baseline and extract_ceiling share: their command line, the
// files they read, and the loop that hands the files to N threads and keeps
// the best wall time of R repetitions. Standard C++ only, so that the raw
// baseline still links no ferrograph code.
//
//   TOOL [--jobs N] [--repeat R] (--files LIST [--root DIR] | DIR)
//
// LIST holds one path per line, relative to --root DIR when given. DIR is
// walked for *.rs files, skipping target/ and hidden directories.
#ifndef FERROGRAPH_BENCH_FILE_BENCH_H_
#define FERROGRAPH_BENCH_FILE_BENCH_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace file_bench {

struct Args {
  int jobs = 0;  // 0: all cores
  int repeat = 1;
  std::vector<std::string> files;
};

// *.rs files under `dir`, skipping target/ and hidden directories, sorted.
inline std::vector<std::string> WalkRustFiles(const std::string& dir) {
  namespace fs = std::filesystem;
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

inline bool ReadFileList(const std::string& list, const std::string& root,
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

// Parses the command line into `args`. Returns -1 to go on, else the exit
// code (0 after --help, 1 when the list cannot be read, 2 on a usage error),
// having printed why.
inline int ParseArgs(int argc, char** argv, const char* usage, Args& args) {
  std::string list, root, dir;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "--jobs" || a == "--repeat") {
      const char* v = value();
      char* endp = nullptr;
      long n = v ? std::strtol(v, &endp, 10) : -1;
      if (!v || *endp != '\0' || n < 0 || n > 1024 || (a == "--repeat" && n == 0)) {
        std::fprintf(stderr, "%s wants a number\n%s", a.c_str(), usage);
        return 2;
      }
      (a == "--jobs" ? args.jobs : args.repeat) = static_cast<int>(n);
    } else if (a == "--files" || a == "--root") {
      const char* v = value();
      if (!v) {
        std::fprintf(stderr, "%s wants a path\n%s", a.c_str(), usage);
        return 2;
      }
      (a == "--files" ? list : root) = v;
    } else if (a == "-h" || a == "--help") {
      std::fputs(usage, stdout);
      return 0;
    } else if (!a.empty() && a[0] != '-' && dir.empty()) {
      dir = a;
    } else {
      std::fprintf(stderr, "unexpected argument: %s\n%s", a.c_str(), usage);
      return 2;
    }
  }
  if (list.empty() == dir.empty()) {
    std::fputs(usage, stderr);
    return 2;
  }
  if (!list.empty()) {
    if (!ReadFileList(list, root, args.files)) {
      std::fprintf(stderr, "%s: cannot read file list\n", list.c_str());
      return 1;
    }
  } else {
    args.files = WalkRustFiles(dir);
  }
  if (args.jobs == 0)
    args.jobs = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  return -1;
}

struct Totals {
  uint64_t files = 0;
  uint64_t bytes = 0;
  uint64_t errors = 0;
};

// Runs args.repeat rounds; in each, args.jobs threads take files from a
// shared counter. Each thread makes its worker with make_worker(thread
// index) (one parser per thread, as tree-sitter wants) and calls
// worker(path, totals) per file. Returns the best round's wall time;
// `total` gets that round's sums.
template <typename MakeWorker>
double Run(const Args& args, MakeWorker make_worker, Totals& total) {
  double best = 0;
  const size_t jobs = static_cast<size_t>(args.jobs);
  for (int r = 0; r < args.repeat; ++r) {
    std::atomic<size_t> next{0};
    std::vector<Totals> totals(jobs);
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (size_t w = 0; w < jobs; ++w) {
      threads.emplace_back([&, w] {
        auto worker = make_worker(w);
        for (;;) {
          size_t i = next.fetch_add(1, std::memory_order_relaxed);
          if (i >= args.files.size()) break;
          worker(args.files[i], totals[w]);
        }
      });
    }
    for (auto& t : threads) t.join();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (r == 0 || seconds < best) best = seconds;
    total = {};
    for (const Totals& t : totals) {
      total.files += t.files;
      total.bytes += t.bytes;
      total.errors += t.errors;
    }
  }
  return best;
}

}  // namespace file_bench

#endif  // FERROGRAPH_BENCH_FILE_BENCH_H_
