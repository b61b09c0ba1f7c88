#include "ingest/extraction_cache.h"

namespace ferrograph {

bool ExtractionCache::Get(const ContentHash& hash, FileExtraction* out) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(hash);
  if (it == index_.end()) {
    ++misses_;
    return false;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  *out = it->second->extraction;
  return true;
}

void ExtractionCache::Put(const ContentHash& hash, const FileExtraction& extraction,
                          uint64_t source_bytes) {
  if (source_bytes > budget_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = index_.find(hash); it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.push_front(Entry{hash, extraction, source_bytes});
  index_[hash] = lru_.begin();
  used_ += source_bytes;
  while (used_ > budget_ && !lru_.empty()) {
    used_ -= lru_.back().bytes;
    index_.erase(lru_.back().hash);
    lru_.pop_back();
  }
}

void ExtractionCache::CheckVersion(int64_t latest) {
  std::lock_guard<std::mutex> lock(mu_);
  if (latest != written_version_) written_.clear();
}

bool ExtractionCache::WrittenSame(const FileKey& file, const ContentHash& fingerprint) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = written_.find(file);
  return it != written_.end() && it->second == fingerprint;
}

void ExtractionCache::Committed(const std::map<FileKey, ContentHash>& written,
                                const std::vector<FileKey>& removed, int64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [file, fp] : written) written_[file] = fp;
  for (const FileKey& file : removed) written_.erase(file);
  written_version_ = version;
}

uint64_t ExtractionCache::hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}

uint64_t ExtractionCache::misses() const {
  std::lock_guard<std::mutex> lock(mu_);
  return misses_;
}

}  // namespace ferrograph
