// Searcher: answers SearchRequests over one database (search.h).
//
//   lexical  FTS5 BM25 over name, path, signature, docs and split
//            identifiers (porter-stemmed); the query's words are OR-ed.
//   vector   the query embedded with the request's model, kNN in that
//            model's space only: HNSW, or exact search over the candidates
//            when a filter (kind, crate, path, node set, as-of) is selective.
//   hybrid   weighted reciprocal-rank fusion (k = 60; lexical 1, vector 0.2)
//            of both lists, then a graph
//            boost: personalized PageRank seeded by the fused top hits over
//            CALLS, USES_TYPE, IMPLEMENTS, IMPL_FOR and CONTAINS edges among
//            the hits and their neighbours.
//
// A Searcher keeps each model's embedder and loaded HNSW index between
// requests (a server or a benchmark pays the load once) and notices vectors
// added since. Not thread-safe: one Searcher per thread.
#ifndef FERROGRAPH_SEARCH_SEARCHER_H_
#define FERROGRAPH_SEARCH_SEARCHER_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "embed/embedder.h"
#include "ferrograph/search.h"
#include "ferrograph/status.h"
#include "store/store.h"
#include "vector/vector_index.h"

namespace ferrograph {

// The words of a query for the lexical index (code-aware words, each once,
// without English stop words and one-letter words); empty when nothing is
// left.
std::vector<std::string> LexicalQueryWords(std::string_view query);

class Searcher {
 public:
  // `can_save`: a rebuilt sidecar may be written back beside the database.
  Searcher(Store& store, std::string db_path, bool can_save);
  ~Searcher();

  // `implementors`: the node set of request.implements, resolved by the
  // caller (nullptr when the request has none).
  Result<SearchResponse> Search(const SearchRequest& request,
                                const std::vector<NodeId>* implementors);

  // Loads now what the first search would: the default embedder (the first
  // configured) with its vector index, and the lexical index's row lengths.
  // `stop` is read between the steps: when it is set, Warm returns early.
  Status Warm(const std::atomic<bool>& stop);

 private:
  struct Model {
    ModelRecord record;
    std::unique_ptr<Embedder> embedder;
    std::unique_ptr<HnswIndex> index;
    int64_t last_vector_id = 0;
  };
  Result<Model*> LoadModel(const std::string& spec_text);
  // The first configured embedder's spec; "" when none is (--embedder none).
  Result<std::string> DefaultSpec();

  Store& store_;
  std::string db_path_;
  bool can_save_;
  std::map<std::string, std::unique_ptr<Model>> models_;  // by spec text
};

}  // namespace ferrograph

#endif  // FERROGRAPH_SEARCH_SEARCHER_H_
