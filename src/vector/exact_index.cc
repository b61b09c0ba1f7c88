// ExactIndex: rows of dim() floats in one contiguous array, slot i holding the
// vector of keys_[i]; slot_of_ maps a key to its slot. Removal moves the last
// row into the freed slot, so the rows stay dense and a scan touches only
// live vectors.
#include <cstring>
#include <string>
#include <unordered_map>

#include "vector/exact_scan.h"
#include "vector/vector_index.h"

namespace ferrograph {

using vector_internal::CheckAllowed;
using vector_internal::CheckVector;
using vector_internal::Dot;
using vector_internal::IsAllowed;
using vector_internal::TopHits;

struct ExactIndex::Impl {
  explicit Impl(int d) : dim(d) {}

  const float* row(size_t slot) const { return rows.data() + slot * static_cast<size_t>(dim); }
  float* row(size_t slot) { return rows.data() + slot * static_cast<size_t>(dim); }

  int dim;
  std::vector<float> rows;     // keys.size() * dim floats
  std::vector<uint64_t> keys;  // slot -> key
  std::unordered_map<uint64_t, size_t> slot_of;
};

ExactIndex::ExactIndex(int dim) : impl_(std::make_unique<Impl>(dim)) {}
ExactIndex::~ExactIndex() = default;

int ExactIndex::dim() const { return impl_->dim; }
size_t ExactIndex::size() const { return impl_->keys.size(); }

Status ExactIndex::Add(uint64_t key, std::span<const float> v) {
  FG_RETURN_IF_ERROR(CheckVector(v, impl_->dim, "vector"));
  auto [it, inserted] = impl_->slot_of.try_emplace(key, impl_->keys.size());
  if (inserted) {
    impl_->keys.push_back(key);
    impl_->rows.resize(impl_->rows.size() + v.size());
  }
  std::memcpy(impl_->row(it->second), v.data(), v.size_bytes());
  return Status::OK();
}

Status ExactIndex::Remove(uint64_t key) {
  auto it = impl_->slot_of.find(key);
  if (it == impl_->slot_of.end()) {
    return Status::NotFound("vector index: no vector with key " + std::to_string(key));
  }
  size_t slot = it->second;
  size_t last = impl_->keys.size() - 1;
  if (slot != last) {
    std::memcpy(impl_->row(slot), impl_->row(last), sizeof(float) * impl_->dim);
    impl_->keys[slot] = impl_->keys[last];
    impl_->slot_of[impl_->keys[slot]] = slot;
  }
  impl_->keys.pop_back();
  impl_->rows.resize(last * impl_->dim);
  impl_->slot_of.erase(it);
  return Status::OK();
}

bool ExactIndex::Contains(uint64_t key) const { return impl_->slot_of.count(key) != 0; }

Result<std::vector<VectorHit>> ExactIndex::Search(std::span<const float> query,
                                                  const VectorSearchOptions& options) const {
  FG_RETURN_IF_ERROR(CheckVector(query, impl_->dim, "query"));
  const size_t dim = impl_->dim;
  TopHits top(options.k);
  if (options.k == 0) return top.Take();
  if (options.allowed == nullptr) {
    for (size_t slot = 0; slot < impl_->keys.size(); ++slot) {
      top.Offer(impl_->keys[slot], Dot(query.data(), impl_->row(slot), dim));
    }
    return top.Take();
  }
  const std::vector<uint64_t>& allowed = *options.allowed;
  FG_RETURN_IF_ERROR(CheckAllowed(allowed));
  if (allowed.size() < impl_->keys.size()) {
    // Visit only the allowed keys.
    for (uint64_t key : allowed) {
      auto it = impl_->slot_of.find(key);
      if (it == impl_->slot_of.end()) continue;
      top.Offer(key, Dot(query.data(), impl_->row(it->second), dim));
    }
  } else {
    for (size_t slot = 0; slot < impl_->keys.size(); ++slot) {
      if (!IsAllowed(allowed, impl_->keys[slot])) continue;
      top.Offer(impl_->keys[slot], Dot(query.data(), impl_->row(slot), dim));
    }
  }
  return top.Take();
}

}  // namespace ferrograph
