// Keeping the search indexes of a database current: the lexical index, the
// vectors of every configured embedding model, and each model's HNSW
// sidecar file beside the database.
//
// The database is the source of truth. Vectors are keyed by (model, content
// hash): content already embedded by a model is never embedded again, and a
// run that is interrupted leaves nothing inconsistent (the next one embeds
// what is still missing). A sidecar that is missing, stale or damaged is
// rebuilt from the vectors table.
#ifndef FERROGRAPH_SEARCH_SEARCH_INDEX_H_
#define FERROGRAPH_SEARCH_SEARCH_INDEX_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "embed/embedder.h"
#include "ferrograph/status.h"
#include "store/store.h"
#include "vector/vector_index.h"

namespace ferrograph {

// Bytes of an item's text (docs, then source) that are embedded.
inline constexpr size_t kMaxEmbedTextBytes = 4096;

// The split identifiers of a name and signature for the lexical index:
// "parse_unicode_class(&self) -> ClassUnicode" ->
// "parse unicode class self class unicode".
std::string LexicalIdentifiers(std::string_view name, std::string_view signature);

// The sidecar path of a model's HNSW index: DB.vec-<16 hex of
// BLAKE3(model id)>.hnsw, beside the database.
std::string VectorIndexPath(const std::string& db_path, const std::string& model_id);

struct ModelIndexReport {
  std::string model_id;
  int64_t embedded = 0;    // content newly embedded
  int64_t vectors = 0;     // the model's vectors after the run
  int64_t text_bytes = 0;  // bytes of text embedded
  double embed_seconds = 0;
  std::string sidecar;  // "fresh", "updated (+N)", "rebuilt (why)"
  double sidecar_seconds = 0;
};

struct SearchIndexReport {
  int64_t lexical_rows = 0;
  double lexical_seconds = 0;
  std::vector<ModelIndexReport> models;
};

// Where UpdateSearchIndex is: a stage ("lexical index", "embedding with
// MODEL", "vector index of MODEL") and how much of it is done (0 of 0 when
// there is nothing to count). Called on the calling thread.
using SearchProgress = std::function<void(const std::string& stage, uint64_t done, uint64_t total)>;

// Loads the model's HNSW index, brought up to date with the store: loaded
// as is when fresh; extended with the vectors added since; rebuilt when
// missing, damaged or inconsistent. `saved` tells whether the file was
// (re)written; `how` describes what happened. Saving is skipped when
// `save` is false (or fails silently for a reader that cannot write).
Result<std::unique_ptr<HnswIndex>> SyncVectorIndex(Store& store, const ModelRecord& model,
                                                   const std::string& db_path, bool save,
                                                   std::string* how,
                                                   const SearchProgress& progress = {});

// How many vectors a sidecar may lag behind the store before it is written
// again: rewriting it costs a write of every vector, adding the missing ones
// at load costs an insertion each.
inline int64_t SidecarSlack(int64_t count) { return std::max<int64_t>(1024, count / 64); }

// Embedder specs the database is configured with (meta "embedders"), or
// {"hash"} when none were ever set.
Result<std::vector<std::string>> ConfiguredEmbedders(Store& store);

// Catches the lexical index up, embeds what the given models lack and syncs
// their sidecars. `threads` embeds in parallel for embedders that allow it.
Result<SearchIndexReport> UpdateSearchIndex(Store& store, const std::string& db_path,
                                            const std::vector<EmbedderSpec>& embedders, int threads,
                                            const SearchProgress& progress = {});

}  // namespace ferrograph

#endif  // FERROGRAPH_SEARCH_SEARCH_INDEX_H_
