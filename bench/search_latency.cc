// Search latency on a real database, query embedding included: p50/p90/p99
// of `ferrograph search` in each mode through the public Engine API (one
// Engine, so the HNSW sidecar is loaded once, as in a server), beside the
// brute-force baseline: the same queries embedded and scanned exactly over
// every vector of the model.
//
// Queries are the first sentences of doc comments of the database's own
// items (a deterministic sample), i.e. natural-language questions about the
// code.
//
//   search_latency --db FILE [--queries N] [-k K] [--warmup N] [--log FILE]
//                  [--tests demote|include|exclude]
//
// --tests: how the searches rank test code (SearchRequest::tests; demote,
// the default, costs an ancestor lookup for the candidates that may reach
// the top k).
// --warmup N: each Engine first answers N other questions, unmeasured (a
// server's steady state: caches filled by earlier questions, not by these).
// --log FILE: one line per measured search, "MODE<TAB>MS<TAB>QUERY", in the
// order run (to find what the slowest questions have in common).
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "embed/embedder.h"
#include "ferrograph/engine.h"
#include "vector/vector_index.h"

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::string FirstSentence(const std::string& docs) {
  std::string s = docs.substr(0, docs.find("\n\n"));
  for (char& c : s)
    if (c == '\n') c = ' ';
  size_t dot = s.find(". ");
  if (dot != std::string::npos) s = s.substr(0, dot + 1);
  return s.substr(0, 200);
}

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "search_latency: %s\n", msg.c_str());
  std::exit(1);
}

struct Row {
  std::string name;
  std::vector<double> ms;
};

void Print(const Row& r) {
  double sum = 0;
  for (double v : r.ms) sum += v;
  std::printf("| %s | %zu | %.2f | %.2f | %.2f | %.2f | %.2f |\n", r.name.c_str(), r.ms.size(),
              Percentile(r.ms, 0.5), Percentile(r.ms, 0.9), Percentile(r.ms, 0.99),
              r.ms.empty() ? 0 : sum / static_cast<double>(r.ms.size()),
              r.ms.empty() ? 0 : *std::max_element(r.ms.begin(), r.ms.end()));
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ferrograph;
  std::string db;
  int nqueries = 500, k = 10, nwarmup = 0;
  std::string log_path;
  TestCode tests = TestCode::kDemote;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--db")
      db = next();
    else if (a == "--queries")
      nqueries = std::atoi(next().c_str());
    else if (a == "-k")
      k = std::atoi(next().c_str());
    else if (a == "--warmup")
      nwarmup = std::atoi(next().c_str());
    else if (a == "--log")
      log_path = next();
    else if (a == "--tests") {
      auto t = ParseTestCode(next());
      if (!t) Die("--tests wants demote, include or exclude");
      tests = *t;
    } else
      Die("unknown option " + a);
  }
  if (db.empty())
    Die("usage: search_latency --db FILE [--queries N] [-k K] [--warmup N] [--log FILE] "
        "[--tests T]");
  FILE* log = nullptr;
  if (!log_path.empty() && !(log = std::fopen(log_path.c_str(), "w")))
    Die(log_path + ": cannot write");

  // Queries and the vectors of the model, read straight from SQLite.
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
    Die(db + ": cannot open");
  std::vector<std::string> queries, warmups;
  {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(raw,
                       "SELECT docs FROM nodes WHERE valid_to IS NULL AND length(docs) > 30 AND "
                       "kind IN ('function','method','struct','enum','trait') "
                       "ORDER BY content_hash",
                       -1, &st, nullptr);
    std::vector<std::string> all;
    while (sqlite3_step(st) == SQLITE_ROW)
      all.push_back(FirstSentence(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))));
    sqlite3_finalize(st);
    size_t step = std::max<size_t>(1, all.size() / static_cast<size_t>(nqueries));
    for (size_t i = 0; i < all.size() && queries.size() < static_cast<size_t>(nqueries); i += step)
      if (all[i].size() > 10) queries.push_back(all[i]);
    // Warm-up questions: other sentences (halfway between the measured
    // ones), none equal to a measured one.
    std::set<std::string> measured(queries.begin(), queries.end());
    size_t wstep = std::max<size_t>(1, all.size() / static_cast<size_t>(std::max(nwarmup, 1)));
    for (size_t i = wstep / 2; i < all.size() && warmups.size() < static_cast<size_t>(nwarmup);
         i += wstep)
      if (all[i].size() > 10 && !measured.count(all[i])) warmups.push_back(all[i]);
  }
  if (queries.empty()) Die(db + ": no documented items to take queries from");
  std::string model_id, spec;
  int dim = 0;
  ExactIndex* exact = nullptr;
  {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(raw, "SELECT id, model_id, dim, spec FROM models ORDER BY id LIMIT 1", -1,
                       &st, nullptr);
    if (sqlite3_step(st) != SQLITE_ROW) Die(db + ": no embedding model; index with search on");
    int64_t model = sqlite3_column_int64(st, 0);
    model_id = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
    dim = sqlite3_column_int(st, 2);
    spec = reinterpret_cast<const char*>(sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
    exact = new ExactIndex(dim);
    sqlite3_prepare_v2(raw, "SELECT id, vec FROM vectors WHERE model = ?1", -1, &st, nullptr);
    sqlite3_bind_int64(st, 1, model);
    std::vector<float> v(static_cast<size_t>(dim));
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::memcpy(v.data(), sqlite3_column_blob(st, 1), v.size() * sizeof(float));
      (void)exact->Add(static_cast<uint64_t>(sqlite3_column_int64(st, 0)), v);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(raw);

  // Each mode gets an Engine of its own, so that no mode runs on what an
  // earlier one left in memory (the lexical ranker keeps row lengths and
  // word counts it has read); the first search of each, which loads the
  // HNSW sidecar, is reported apart.
  Engine::Options eo;
  eo.db_path = db;
  eo.read_only = true;
  std::vector<Row> rows;
  std::vector<std::pair<std::string, double>> first_ms;
  for (SearchMode mode : {SearchMode::kLexical, SearchMode::kVector, SearchMode::kHybrid}) {
    auto engine = Engine::Open(eo);
    if (!engine.ok()) Die(engine.status().ToString());
    if (mode == SearchMode::kLexical) {
      auto stats = (*engine)->Stats();
      std::printf(
          "database %s: %lld nodes, %zu vectors of %s (dim %d); %zu queries, k = %d, each "
          "Engine warmed by %zu other questions\n\n",
          db.c_str(), stats.ok() ? static_cast<long long>(stats->nodes) : -1LL, exact->size(),
          model_id.c_str(), dim, queries.size(), k, warmups.size());
    }
    // A query outside the measured set: it loads what the mode needs.
    SearchRequest first;
    first.query = "warm up: load the index";
    first.k = k;
    first.mode = mode;
    first.tests = tests;
    auto t0 = Clock::now();
    auto warm = (*engine)->Search(first);
    if (!warm.ok()) Die(warm.status().ToString());
    first_ms.emplace_back(std::string(SearchModeName(mode)), Ms(Clock::now() - t0));
    // A server's steady state: other questions asked before (not measured).
    for (const std::string& q : warmups) {
      SearchRequest req;
      req.query = q;
      req.k = k;
      req.mode = mode;
      req.tests = tests;
      auto r = (*engine)->Search(req);
      if (!r.ok()) Die(r.status().ToString());
    }
    Row row{std::string("ferrograph search --mode ") + std::string(SearchModeName(mode)), {}};
    for (const std::string& q : queries) {
      SearchRequest req;
      req.query = q;
      req.k = k;
      req.mode = mode;
      req.tests = tests;
      auto start = Clock::now();
      auto r = (*engine)->Search(req);
      row.ms.push_back(Ms(Clock::now() - start));
      if (!r.ok()) Die(r.status().ToString());
      if (log)
        std::fprintf(log, "%s\t%.3f\t%s\n", std::string(SearchModeName(mode)).c_str(),
                     row.ms.back(), q.c_str());
    }
    rows.push_back(std::move(row));
  }
  // Baseline: embed + brute-force scan of every vector.
  {
    auto spec_parsed = ParseEmbedderSpec(spec);
    if (!spec_parsed.ok()) Die(spec_parsed.status().ToString());
    auto embedder = MakeEmbedder(*spec_parsed);
    if (!embedder.ok()) Die(embedder.status().ToString());
    Row row{"baseline: embed + exact scan of all vectors", {}};
    VectorSearchOptions vo;
    vo.k = static_cast<size_t>(std::max(50, 3 * k));
    for (const std::string& q : queries) {
      auto start = Clock::now();
      auto v = (*embedder)->Embed({q});
      if (!v.ok()) Die(v.status().ToString());
      auto hits = exact->Search(*v, vo);
      row.ms.push_back(Ms(Clock::now() - start));
      if (!hits.ok()) Die(hits.status().ToString());
    }
    rows.push_back(std::move(row));
  }
  std::printf("| what | queries | p50 ms | p90 ms | p99 ms | mean ms | max ms |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  for (const Row& r : rows) Print(r);
  std::printf("\nfirst search of each Engine (vector and hybrid load the HNSW sidecar):");
  for (const auto& [mode, ms] : first_ms) std::printf(" %s %.1f ms;", mode.c_str(), ms);
  std::printf("\n");
  delete exact;
  if (log) std::fclose(log);
  return 0;
}
