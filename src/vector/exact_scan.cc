#include "vector/exact_scan.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace ferrograph::vector_internal {

namespace {

// Heap order: the worst hit at the front.
bool WorseFirst(const VectorHit& a, const VectorHit& b) { return RanksBefore(a, b); }

}  // namespace

void TopHits::Push(const VectorHit& hit) {
  heap_.push_back(hit);
  std::push_heap(heap_.begin(), heap_.end(), WorseFirst);
}

void TopHits::ReplaceWorst(const VectorHit& hit) {
  std::pop_heap(heap_.begin(), heap_.end(), WorseFirst);
  heap_.back() = hit;
  std::push_heap(heap_.begin(), heap_.end(), WorseFirst);
}

std::vector<VectorHit> TopHits::Take() {
  std::vector<VectorHit> out = std::move(heap_);
  heap_.clear();
  std::sort(out.begin(), out.end(), RanksBefore);
  return out;
}

Status CheckVector(std::span<const float> v, int dim, const char* what) {
  if (dim <= 0) {
    return Status::InvalidArgument("vector index dimension must be positive, not " +
                                   std::to_string(dim));
  }
  if (v.size() != static_cast<size_t>(dim)) {
    return Status::InvalidArgument(std::string(what) + " has " + std::to_string(v.size()) +
                                   " components; the index has dimension " + std::to_string(dim));
  }
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      return Status::InvalidArgument(std::string(what) + " has a non-finite component at " +
                                     std::to_string(i));
    }
  }
  return Status::OK();
}

Status CheckAllowed(const std::vector<uint64_t>& allowed) {
  auto bad = std::adjacent_find(allowed.begin(), allowed.end(),
                                [](uint64_t a, uint64_t b) { return a >= b; });
  if (bad != allowed.end()) {
    return Status::InvalidArgument("search filter: allowed keys must be sorted and unique (key " +
                                   std::to_string(*bad) + " at position " +
                                   std::to_string(bad - allowed.begin()) + " is followed by " +
                                   std::to_string(*(bad + 1)) + ")");
  }
  return Status::OK();
}

}  // namespace ferrograph::vector_internal
