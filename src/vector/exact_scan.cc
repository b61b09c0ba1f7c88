#include "vector/exact_scan.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace ferrograph::vector_internal {

float Dot(const float* a, const float* b, size_t n) {
  // 16 independent partial sums: no lane depends on another, so g++ -O2
  // vectorizes the loop without reassociating a reduction (no -ffast-math).
  // Fully unrolling the lane loop keeps the sums in 4 SSE registers instead
  // of memory (checked with -fopt-info-vec and the disassembly).
  constexpr size_t kLanes = 16;
  float acc[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
#pragma GCC unroll 16
    for (size_t j = 0; j < kLanes; ++j) acc[j] += a[i + j] * b[i + j];
  }
  float tail = 0;
  for (; i < n; ++i) tail += a[i] * b[i];
  for (size_t width = kLanes / 2; width > 0; width /= 2) {
#pragma GCC unroll 8
    for (size_t j = 0; j < width; ++j) acc[j] += acc[j + width];
  }
  return acc[0] + tail;
}

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
