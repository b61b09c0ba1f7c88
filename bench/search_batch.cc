// Runs many searches in one process (one Engine: the sidecar and the model
// are loaded once) for the retrieval-quality benchmark
// (bench/search/run_quality.sh): one query per stdin line, one JSON line
// {"query", "paths": [...], "ms"} per query on stdout.
//
//   search_batch --db FILE [--mode lexical|vector|hybrid] [--embedder SPEC] [-k K]
//                [--tests demote|include|exclude]
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "ferrograph/engine.h"

int main(int argc, char** argv) {
  using namespace ferrograph;
  std::string db, embedder, mode = "hybrid", tests = "demote";
  int k = 10;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "search_batch: %s needs a value\n", a.c_str());
      return 2;
    }
    std::string v = argv[++i];
    if (a == "--db")
      db = v;
    else if (a == "--mode")
      mode = v;
    else if (a == "--embedder")
      embedder = v;
    else if (a == "-k")
      k = std::atoi(v.c_str());
    else if (a == "--tests")
      tests = v;
    else {
      std::fprintf(stderr, "search_batch: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  auto m = ParseSearchMode(mode);
  auto t = ParseTestCode(tests);
  if (db.empty() || !m || !t) {
    std::fprintf(stderr,
                 "usage: search_batch --db FILE [--mode M] [--embedder SPEC] [-k K] [--tests T]\n");
    return 2;
  }
  Engine::Options eo;
  eo.db_path = db;
  eo.read_only = true;
  auto engine = Engine::Open(eo);
  if (!engine.ok()) {
    std::fprintf(stderr, "search_batch: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    SearchRequest req;
    req.query = line;
    req.k = k;
    req.mode = *m;
    req.tests = *t;
    req.embedder = embedder;
    auto start = std::chrono::steady_clock::now();
    auto r = (*engine)->Search(req);
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    nlohmann::json out = {{"query", line}, {"ms", ms}};
    if (!r.ok()) {
      out["error"] = r.status().ToString();
    } else {
      nlohmann::json paths = nlohmann::json::array();
      for (const SearchHit& h : r->results) paths.push_back(h.node.path);
      out["paths"] = paths;
    }
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n"
              << std::flush;
  }
  return 0;
}
