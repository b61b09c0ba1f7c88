// The pieces of exact (brute-force) vector search that ExactIndex and
// HnswIndex share: the dot product (vector/dot.h), the bounded best-k selection with its
// deterministic order, and the input checks both indexes apply.
//
// Internal to src/vector. Thread-compatible: a TopHits belongs to one search;
// the free functions are pure.
#ifndef FERROGRAPH_VECTOR_EXACT_SCAN_H_
#define FERROGRAPH_VECTOR_EXACT_SCAN_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "ferrograph/status.h"
#include "vector/dot.h"
#include "vector/vector_index.h"

namespace ferrograph::vector_internal {

// True when `a` ranks before `b`: the higher score, then the lower key.
inline bool RanksBefore(const VectorHit& a, const VectorHit& b) {
  return a.score > b.score || (a.score == b.score && a.key < b.key);
}

// Keeps the best `k` of the hits offered (by RanksBefore). O(log k) per
// accepted hit; a hit worse than the current k-th costs one comparison.
class TopHits {
 public:
  explicit TopHits(size_t k) : k_(k) { heap_.reserve(k); }

  void Offer(uint64_t key, float score) {
    if (k_ == 0) return;
    VectorHit hit{key, score};
    if (heap_.size() < k_) {
      Push(hit);
    } else if (RanksBefore(hit, heap_.front())) {
      ReplaceWorst(hit);
    }
  }
  size_t size() const { return heap_.size(); }
  // The kept hits, best first; leaves this empty.
  std::vector<VectorHit> Take();

 private:
  void Push(const VectorHit& hit);
  void ReplaceWorst(const VectorHit& hit);

  size_t k_;
  std::vector<VectorHit> heap_;  // heap_.front() is the worst kept hit
};

// InvalidArgument unless v has `dim` components, all finite. `what` names the
// vector in the message ("query", "vector 42").
Status CheckVector(std::span<const float> v, int dim, const char* what);

// InvalidArgument unless `allowed` is strictly increasing (sorted, unique), as
// VectorSearchOptions::allowed promises; lookups rely on binary search.
Status CheckAllowed(const std::vector<uint64_t>& allowed);

// Whether `key` is in the sorted `allowed`.
inline bool IsAllowed(const std::vector<uint64_t>& allowed, uint64_t key) {
  return std::binary_search(allowed.begin(), allowed.end(), key);
}

}  // namespace ferrograph::vector_internal

#endif  // FERROGRAPH_VECTOR_EXACT_SCAN_H_
