// Single-file edit → updated and queryable, end to end, through the public
// Engine API (as `ferrograph watch` runs it): each edit inserts a statement
// into the body of a function picked at random (fixed seed) from the crate's
// own functions and methods, writes the file, runs Index() (graph delta,
// lexical index, embeddings, vector sidecar) and then queries the edited
// function until its new content hash is visible. Reports p50/p90/p99 of
// that latency, what each edit wrote (node and edge rows, vectors embedded)
// and where the time went, beside the baseline in the same run: indexing
// the crate from scratch, which is what a tool without incremental updates
// does on every change.
//
//   edit_latency --crate DIR --work DIR [--edits N] [--seed S] [--embedder SPEC]
//                [--log FILE] [--only PATH] [--broken 1]
//
// --broken 1 makes every inserted statement half-typed (`let _x = ;`), so
// that each edit leaves the file with syntax errors, as while someone types.
//
// --log writes one tab-separated line per edit (edit, file, file bytes,
// latency ms, graph update ms, resolution ms, search upkeep ms, moved, page
// faults), to
// tell which files the slow edits were in. --only edits only the functions of
// files whose path contains PATH (for profiling one file's edits).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ferrograph/engine.h"

namespace {

namespace fs = std::filesystem;
using ferrograph::Engine;
using ferrograph::IndexOptions;
using ferrograph::IndexReport;
using ferrograph::Node;
using ferrograph::NodeKind;
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

double Mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "edit_latency: %s\n", what.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  std::string crate, work, embedder = "hash", log_path, only;
  int edits = 50;
  bool broken = false;
  unsigned seed = 42;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--crate")
      crate = argv[i + 1];
    else if (a == "--work")
      work = argv[i + 1];
    else if (a == "--edits")
      edits = std::atoi(argv[i + 1]);
    else if (a == "--seed")
      seed = static_cast<unsigned>(std::atoi(argv[i + 1]));
    else if (a == "--embedder")
      embedder = argv[i + 1];
    else if (a == "--log")
      log_path = argv[i + 1];
    else if (a == "--only")
      only = argv[i + 1];
    else if (a == "--broken")
      broken = std::atoi(argv[i + 1]) != 0;
    else
      Die("unknown option " + a);
  }
  if (crate.empty() || work.empty() || edits < 1)
    Die("usage: edit_latency --crate DIR --work DIR [--edits N] [--seed S] [--embedder SPEC] "
        "[--log FILE] [--only PATH] [--broken 1]");
  std::ofstream log;
  if (!log_path.empty()) {
    log.open(log_path, std::ios::trunc);
    if (!log) Die("cannot write " + log_path);
    log << "edit\tfile\tbytes\tlatency_ms\tgraph_ms\tresolve_ms\tsearch_ms\tmoved\tpage_faults\n";
  }

  fs::path root = fs::path(work) / "crate";
  fs::remove_all(work);
  fs::create_directories(work);
  fs::copy(crate, root, fs::copy_options::recursive);
  const std::string db = (fs::path(work) / "graph.db").string();

  Engine::Options eo;
  eo.db_path = db;
  auto opened = Engine::Open(eo);
  if (!opened.ok()) Die(opened.status().ToString());
  std::unique_ptr<Engine> engine = std::move(opened).value();
  IndexOptions options;
  options.embedders = {embedder};
  options.keep_parses = true;  // as `watch` runs

  // Baseline: the whole crate from scratch.
  auto t0 = Clock::now();
  auto first = engine->Index(root.string(), options);
  if (!first.ok()) Die(first.status().ToString());
  double scratch_ms = Ms(Clock::now() - t0);

  // The crate's own functions and methods with a body in a file.
  std::vector<Node> candidates;
  std::ostringstream exported;
  if (!engine->Export(exported).ok()) Die("export failed");
  {
    std::istringstream lines(exported.str());
    std::string line;
    while (std::getline(lines, line)) {
      if (line.find("\"type\":\"node\"") == std::string::npos) continue;
      if (line.find("\"kind\":\"function\"") == std::string::npos &&
          line.find("\"kind\":\"method\"") == std::string::npos)
        continue;
      size_t p = line.find("\"id\":\"");
      if (p == std::string::npos) continue;
      auto found = engine->Find(line.substr(p + 6, 32), 1);
      if (!found.ok() || found->empty()) continue;
      const Node& n = (*found)[0];
      if (n.file.empty() || n.file[0] == '#' || !n.in_macro.empty()) continue;
      if (!only.empty() && n.file.find(only) == std::string::npos) continue;
      if (n.span.end_line <= n.span.start_line) continue;  // one-line bodies: no place to insert
      candidates.push_back(n);
    }
  }
  if (candidates.empty()) Die("no function with a multi-line body in " + crate);

  std::mt19937 rng(seed);
  std::vector<double> latency, graph_ms, resolve_ms, search_ms, rows, content_rows, moved, vectors;
  int done = 0, skipped = 0, targeted = 0;
  while (done < edits && skipped < edits * 10) {
    // The function as it is now (earlier edits moved lines).
    const Node& pick = candidates[rng() % candidates.size()];
    auto now = engine->Find(pick.id.str(), 1);
    if (!now.ok() || now->empty()) {
      ++skipped;
      continue;
    }
    Node n = (*now)[0];
    fs::path file = root / n.file;
    std::string text = ReadFile(file);
    // The body's first line: the first `{` at a line end within the span.
    size_t at = n.span.start_byte;
    size_t insert = std::string::npos;
    while (at < n.span.end_byte) {
      size_t nl = text.find('\n', at);
      if (nl == std::string::npos || nl >= n.span.end_byte) break;
      size_t last = text.find_last_not_of(" \t\r", nl - 1);
      if (last != std::string::npos && last >= at && text[last] == '{') {
        insert = nl + 1;
        break;
      }
      at = nl + 1;
    }
    if (insert == std::string::npos) {
      ++skipped;
      continue;
    }
    std::string stmt = "        let _ferrograph_edit_" + std::to_string(done) + " = " +
                       (broken ? std::string() : std::to_string(done)) + ";\n";
    text.insert(insert, stmt);

    auto minor_faults = [] {
      struct rusage u;
      getrusage(RUSAGE_SELF, &u);
      return u.ru_minflt;
    };
    const long faults_before = minor_faults();
    auto start = Clock::now();
    {
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out << text;
    }
    // As `watch` runs it: told which file changed.
    options.changed_paths = std::vector<std::string>{file.string()};
    auto report = engine->Index(root.string(), options);
    if (!report.ok()) Die(report.status().ToString());
    // Queryable: the edited function has its new content.
    auto after = engine->Find(n.id.str(), 1);
    if (!after.ok() || after->empty() || (*after)[0].content_hash == n.content_hash)
      Die("edit " + std::to_string(done) + " of " + n.path + " is not visible after the update");
    latency.push_back(Ms(Clock::now() - start));
    const IndexReport& r = *report;
    targeted += r.targeted ? 1 : 0;
    graph_ms.push_back(r.seconds * 1000);
    resolve_ms.push_back(r.resolve_seconds * 1000);
    search_ms.push_back(r.search_seconds * 1000);
    const auto& d = r.delta;
    rows.push_back(static_cast<double>(d.rows_written));
    moved.push_back(static_cast<double>(d.nodes_moved + d.edges_moved));
    content_rows.push_back(static_cast<double>(d.nodes_added + d.nodes_removed + d.nodes_changed +
                                               d.edges_added + d.edges_removed));
    double embedded = 0;
    for (const auto& e : r.embeddings) embedded += static_cast<double>(e.embedded);
    vectors.push_back(embedded);
    if (log)
      log << done << '\t' << n.file << '\t' << text.size() << '\t' << latency.back() << '\t'
          << graph_ms.back() << '\t' << resolve_ms.back() << '\t' << search_ms.back() << '\t'
          << moved.back() << '\t' << (minor_faults() - faults_before) << '\n';
    ++done;
  }
  if (done == 0) Die("no edit could be made");

  auto stats = engine->Stats();
  std::printf("crate: %s (%lld nodes, %lld edges)\n", crate.c_str(),
              stats.ok() ? static_cast<long long>(stats->nodes) : -1LL,
              stats.ok() ? static_cast<long long>(stats->edges) : -1LL);
  std::printf("edits: %d single-function body edits (seed %u), embedder %s\n", done, seed,
              embedder.c_str());
  std::printf("baseline: index from scratch %.0f ms\n", scratch_ms);
  std::printf("edit -> queryable: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n",
              Percentile(latency, 0.5), Percentile(latency, 0.9), Percentile(latency, 0.99),
              Percentile(latency, 1.0));
  std::printf(
      "  of which graph update (read, parse, resolve, write) mean %.1f ms "
      "(resolution %.1f ms), search upkeep mean %.1f ms\n",
      Mean(graph_ms), Mean(resolve_ms), Mean(search_ms));
  std::printf(
      "rows written per edit (inserted or closed: nodes, edges, files, span overlays): mean "
      "%.1f, p50 %.0f, max %.0f; new content (nodes added/removed/changed, edges "
      "added/removed) mean %.1f, max %.0f; items and call sites moved below the edit "
      "(placed by the file's span overlay, their rows kept) mean %.0f, max %.0f\n",
      Mean(rows), Percentile(rows, 0.5), Percentile(rows, 1.0), Mean(content_rows),
      Percentile(content_rows, 1.0), Mean(moved), Percentile(moved, 1.0));
  std::printf("vectors embedded per edit: mean %.2f, max %.0f\n", Mean(vectors),
              Percentile(vectors, 1.0));
  std::printf("runs that read only the edited file (told which file changed): %d of %d\n", targeted,
              done);
  std::printf("speedup over from-scratch: %.1fx at p50\n", scratch_ms / Percentile(latency, 0.5));
  return 0;
}
