#include "ingest/extraction_cache.h"

#include <sys/stat.h>

#include <algorithm>

#include "resolve/link.h"

namespace ferrograph {

std::string ScanMemo::ModKey(
    const std::string& parent_file, bool parent_is_mod_rs,
    const std::vector<std::pair<std::string, std::optional<std::string>>>& enclosing,
    const std::string& name, const std::optional<std::string>& path_attr) {
  std::string key = parent_file;
  auto field = [&key](const std::optional<std::string>& s) {
    key.push_back('\0');
    if (!s) return;
    key.push_back('=');
    key += *s;
  };
  key.push_back(parent_is_mod_rs ? '1' : '0');
  field(name);
  field(path_attr);
  for (const auto& [n, p] : enclosing) {
    field(n);
    field(p);
  }
  return key;
}

std::shared_ptr<const ScanMemo> ExtractionCache::TakeScan(const std::string& root) {
  std::lock_guard<std::mutex> lock(mu_);
  std::shared_ptr<const ScanMemo> scan = std::move(scan_);
  scan_.reset();
  if (scan && scan->root != root) return nullptr;
  return scan;
}

void ExtractionCache::KeepScan(std::shared_ptr<const ScanMemo> scan) {
  std::lock_guard<std::mutex> lock(mu_);
  scan_ = std::move(scan);
}

std::shared_ptr<const FileExtraction> ExtractionCache::Get(const ContentHash& hash) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(hash);
  if (it == index_.end()) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->extraction;
}

void ExtractionCache::Put(const ContentHash& hash, std::shared_ptr<const FileExtraction> extraction,
                          uint64_t source_bytes) {
  if (source_bytes > budget_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = index_.find(hash); it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.push_front(Entry{hash, std::move(extraction), source_bytes});
  index_[hash] = lru_.begin();
  used_ += source_bytes;
  while (used_ > budget_ && !lru_.empty()) {
    used_ -= lru_.back().bytes;
    index_.erase(lru_.back().hash);
    lru_.pop_back();
  }
}

std::optional<ExtractionCache::FileStat> ExtractionCache::StatFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  FileStat out;
  out.dev = static_cast<uint64_t>(st.st_dev);
  out.ino = static_cast<uint64_t>(st.st_ino);
  out.size = static_cast<uint64_t>(st.st_size);
  out.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  out.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
  return out;
}

std::optional<ContentHash> ExtractionCache::KnownHash(const std::string& path,
                                                      const FileStat& stat) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = known_.find(path);
  if (it == known_.end() || !(it->second.stat == stat)) return std::nullopt;
  return it->second.hash;
}

void ExtractionCache::RememberHash(const std::string& path, const FileStat& stat,
                                   const ContentHash& hash, int64_t read_at_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  // Changed shortly before the read: a later write within the same
  // timestamp tick would not show in the stat. Read it again next time.
  if (std::max(stat.mtime_ns, stat.ctime_ns) > read_at_ns - kStableNanos) {
    known_.erase(path);
    return;
  }
  known_[path] = Known{stat, hash};
}

void ExtractionCache::CheckVersion(int64_t latest) {
  std::lock_guard<std::mutex> lock(mu_);
  if (latest == written_version_) return;
  written_.clear();
  links_.clear();
}

KeptLinks ExtractionCache::TakeLinks(uint64_t* run) {
  std::lock_guard<std::mutex> lock(mu_);
  *run = ++runs_;
  KeptLinks out;
  out.swap(links_);
  return out;
}

size_t ExtractionCache::kept_links() const {
  std::lock_guard<std::mutex> lock(mu_);
  return links_.size();
}

std::optional<ExtractionCache::WrittenFile> ExtractionCache::Written(const FileKey& file) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = written_.find(file);
  if (it == written_.end()) return std::nullopt;
  return it->second;
}

void ExtractionCache::Committed(const std::map<FileKey, WrittenFile>& written,
                                const std::vector<FileKey>& removed, int64_t version,
                                KeptLinks links) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [file, fp] : written) written_[file] = fp;
  for (const FileKey& file : removed) written_.erase(file);
  written_version_ = version;
  // Within the budget, the most recently used first.
  std::vector<std::pair<uint64_t, std::string>> order;
  for (const auto& [key, kept] : links) order.emplace_back(kept.last_used, key);
  std::sort(order.begin(), order.end(), std::greater<>());
  uint64_t used = 0;
  links_.clear();
  for (const auto& [last_used, key] : order) {
    KeptLink& kept = links[key];
    if (used + kept.bytes > link_budget_) continue;
    used += kept.bytes;
    links_.emplace(key, std::move(kept));
  }
}

std::optional<ExtractionCache::KeptTree> ExtractionCache::TakeTree(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = trees_.begin(); it != trees_.end(); ++it) {
    if (it->first != path) continue;
    KeptTree kept = std::move(it->second);
    trees_used_ -= kept.source.size();
    trees_.erase(it);
    return kept;
  }
  return std::nullopt;
}

void ExtractionCache::KeepTree(const std::string& path, KeptTree kept) {
  if (kept.source.size() > tree_budget_ || !kept.tree.valid()) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = trees_.begin(); it != trees_.end(); ++it) {
    if (it->first != path) continue;
    trees_used_ -= it->second.source.size();
    trees_.erase(it);
    break;
  }
  trees_used_ += kept.source.size();
  trees_.emplace_front(path, std::move(kept));
  while (trees_used_ > tree_budget_) {
    trees_used_ -= trees_.back().second.source.size();
    trees_.pop_back();
  }
}

size_t ExtractionCache::kept_trees() const {
  std::lock_guard<std::mutex> lock(mu_);
  return trees_.size();
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
