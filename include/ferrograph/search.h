// Search requests and results ("find the code about ..."): lexical (BM25),
// vector (kNN over embeddings) and hybrid (reciprocal-rank fusion of both
// plus a graph boost), with structural filters.
#ifndef FERROGRAPH_SEARCH_H_
#define FERROGRAPH_SEARCH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ferrograph/graph.h"

namespace ferrograph {

enum class SearchMode { kLexical, kVector, kHybrid };

// "lexical", "vector", "hybrid".
std::string_view SearchModeName(SearchMode mode);
std::optional<SearchMode> ParseSearchMode(std::string_view name);

// How search ranks test code: what lies under a cfg that requires `test`
// (`#[cfg(test)] mod tests`, `#[cfg(all(test, unix))]`) and functions marked
// #[test] or #[bench] (also `#[tokio::test]` and the like).
enum class TestCode {
  kDemote,   // hybrid search halves their score unless the query is about tests
  kInclude,  // ranked like the rest
  kExclude,  // left out, in every mode
};
std::string_view TestCodeName(TestCode tests);  // "demote", "include", "exclude"
std::optional<TestCode> ParseTestCode(std::string_view name);

struct SearchRequest {
  std::string query;
  int k = 10;
  SearchMode mode = SearchMode::kHybrid;
  // Filters; empty means any.
  std::vector<NodeKind> kinds;
  std::string crate_name;
  std::string path_prefix;  // "regex::bytes": that item and everything below it
  // A trait (path or name, resolved like `show`): only its implementors, the
  // impls of it and the items of those impls.
  std::string implements;
  // The embedder spec to search with ("hash", "fasttext:FILE", "openai:M");
  // "" = the first one the database is configured with.
  std::string embedder;
  // Version ordinal to search as of; nullopt = the current graph.
  std::optional<int64_t> as_of;
  TestCode tests = TestCode::kDemote;
};

struct SearchHit {
  Node node;
  double score = 0;
  // Why it was chosen: "lexical #2 (bm25 7.31; name, docs)", "vector #1
  // (cosine 0.712)", "graph (calls regex::Regex::new)".
  std::vector<std::string> why;
};

struct SearchResponse {
  std::vector<SearchHit> results;
  std::string model_id;         // the vector space searched ("" in lexical mode)
  std::string vector_strategy;  // "hnsw", "hnsw+overfetch", "exact (N candidates)", ""
  // Set when a hybrid search ran without its vector half, and why (the
  // configured model has no vectors in this database: index again).
  std::string warning;
  double seconds = 0;
};

}  // namespace ferrograph

#endif  // FERROGRAPH_SEARCH_H_
