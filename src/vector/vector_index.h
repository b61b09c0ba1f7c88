// Vector indexes scored by inner product (the cosine similarity for unit
// vectors; the hash embedder's are shorter than 1 for texts with little
// evidence, embed/hash_embedder.h). Keys are the store's vector ids (uint64).
//
//   ExactIndex  brute force: the oracle, and the right choice when a filter
//               leaves few candidates.
//   HnswIndex   hnswlib's HNSW graph; a filtered search over-fetches and
//               falls back to exact search over the candidates when the
//               filter is selective.
//
// Persistence (HnswIndex::Save/Load): one file beside the database with a
// header (magic, format version, model id, dimension, count, a caller's
// generation stamp, BLAKE3 over the header fields and the payload) and
// hnswlib's serialization as the payload (layout in index_file.h); written to
// a temporary file and renamed; Load refuses a file whose header, checksum or
// graph structure does not check out with Corruption (or NotFound when
// missing), so that the caller rebuilds it.
//
// Thread safety: Search (and Contains, size, Save) may run concurrently with
// each other; Add, AddBatch and Remove need exclusive access. hnswlib's
// exceptions never leave this module.
#ifndef FERROGRAPH_VECTOR_VECTOR_INDEX_H_
#define FERROGRAPH_VECTOR_VECTOR_INDEX_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ferrograph/status.h"

namespace ferrograph {

struct VectorHit {
  uint64_t key = 0;
  float score = 0;  // inner product with the query, higher is closer
};

struct VectorSearchOptions {
  size_t k = 10;
  // When set: only these keys may be returned (sorted, unique).
  const std::vector<uint64_t>* allowed = nullptr;
  // A filtered search with at most this many allowed keys is answered
  // exactly; above it, HNSW over-fetches and filters.
  size_t exact_threshold = 20000;
  // HNSW only: the search breadth (hnswlib's ef) for this query; 0 means the
  // index's HnswOptions::ef_search. Raised to at least k and the over-fetch.
  size_t ef = 0;
};

class VectorIndex {
 public:
  virtual ~VectorIndex() = default;
  virtual int dim() const = 0;
  // Live (not removed) vectors.
  virtual size_t size() const = 0;
  // Adds or replaces the vector of `key`; v.size() must equal dim().
  // InvalidArgument on a wrong size or a non-finite component. Scores are
  // plain inner products: unit vectors make them cosines.
  virtual Status Add(uint64_t key, std::span<const float> v) = 0;
  // NotFound when `key` has no (live) vector.
  virtual Status Remove(uint64_t key) = 0;
  virtual bool Contains(uint64_t key) const = 0;
  // The best options.k hits, best first (ties by key). InvalidArgument on a
  // query of the wrong size or a non-finite one, or an unsorted `allowed`.
  // Allowed keys without a vector are ignored.
  virtual Result<std::vector<VectorHit>> Search(std::span<const float> query,
                                                const VectorSearchOptions& options) const = 0;
};

class ExactIndex final : public VectorIndex {
 public:
  explicit ExactIndex(int dim);
  ~ExactIndex() override;
  int dim() const override;
  size_t size() const override;
  Status Add(uint64_t key, std::span<const float> v) override;
  Status Remove(uint64_t key) override;
  bool Contains(uint64_t key) const override;
  Result<std::vector<VectorHit>> Search(std::span<const float> query,
                                        const VectorSearchOptions& options) const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct HnswOptions {
  size_t m = 16;  // links per node and layer (2..10000); layer 0 has 2*m
  size_t ef_construction = 100;
  // 128: recall@10 0.97 on the hash model's vectors of real code (bench/RESULTS.md).
  size_t ef_search = 128;          // raised to at least k (times the over-fetch) per query
  size_t initial_capacity = 1024;  // grows as vectors are added
  uint64_t seed = 100;             // of the random layer assignment
};

// What a persisted index file says about itself.
struct VectorIndexHeader {
  std::string model_id;
  int dim = 0;
  uint64_t count = 0;
  // The caller's stamp of the vector set the file was built from (for
  // example the store's vector generation); a mismatch means stale.
  uint64_t generation = 0;
};

// HNSW over hnswlib 0.6.2. Removal marks the node deleted (it keeps its slot
// and still routes searches until the index is rebuilt); adding a removed key
// again revives and updates it. Capacity grows by doubling.
//
// Searching: with no filter, one hnswlib query of breadth max(ef, k). With a
// filter of at most exact_threshold keys: exact search over those keys. With
// a broader one admitting a fraction f of the index: a query of breadth
// max(ef, 2k) / f, the hits filtered, repeated 4x broader until k are found;
// when the breadth would reach a quarter of the index, or the graph has
// nothing more to give, exact search answers instead. Scores are always recomputed exactly, so a
// key scores the same whichever path found it.
//
// Errors from hnswlib (exceptions) come back as Status: InvalidArgument for
// bad options, Internal otherwise (after which the index should be rebuilt).
class HnswIndex final : public VectorIndex {
 public:
  // Allocates nothing until the first Add; bad options are reported there.
  HnswIndex(int dim, const HnswOptions& options);
  ~HnswIndex() override;
  int dim() const override;
  size_t size() const override;
  Status Add(uint64_t key, std::span<const float> v) override;
  // Adds many vectors (rows: keys.size() rows of dim() floats) using up to
  // `threads` threads; the same as calling Add for each key in order (a key
  // given twice ends with its last row). Threads insert only keys that are
  // new to the index, each once; replacements run afterwards on the calling
  // thread. With threads > 1 the graph (not the set of vectors) depends on
  // scheduling; threads <= 1 builds the same graph as Add in a loop. On error
  // some rows may have been added. `on_progress`, when set, is called on the
  // calling thread now and then with how many of keys.size() are in.
  Status AddBatch(std::span<const uint64_t> keys, std::span<const float> rows, int threads,
                  const std::function<void(size_t done)>& on_progress = {});
  Status Remove(uint64_t key) override;
  bool Contains(uint64_t key) const override;
  Result<std::vector<VectorHit>> Search(std::span<const float> query,
                                        const VectorSearchOptions& options) const override;

  // Writes the index to `path` atomically (temporary files beside it, fsync,
  // rename); on failure `path` is left as it was. InvalidArgument when the
  // model id is longer than 4096 bytes; IOError when the system refuses.
  // May run concurrently with Search.
  Status Save(const std::string& path, const std::string& model_id, uint64_t generation) const;
  // Reads only the header (no checksum check); NotFound / Corruption as Load.
  static Result<VectorIndexHeader> ReadHeader(const std::string& path);
  // Loads and verifies the file: NotFound when missing; Corruption when the
  // magic, version, sizes, checksum or the graph structure are wrong, naming
  // the file and what is wrong. The file's m and ef_construction win over
  // `options`; `options` gives ef_search, the seed and the spare capacity.
  // `header` (may be null) receives the header.
  static Result<std::unique_ptr<HnswIndex>> Load(const std::string& path,
                                                 const HnswOptions& options,
                                                 VectorIndexHeader* header);

 private:
  struct Impl;
  explicit HnswIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferrograph

#endif  // FERROGRAPH_VECTOR_VECTOR_INDEX_H_
