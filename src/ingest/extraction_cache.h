// ExtractionCache: what the index runs of one Engine (`watch`) keep for the
// next run.
// - Files' extractions (src/graph/extract.h) by the BLAKE3 of their bytes,
//   so that re-resolving a crate after one file changed parses that file
//   only. Bounded: least recently used entries go once the files' bytes pass
//   the budget.
// - A fingerprint of each file's update as last written, so that the files
//   of a re-resolved crate whose nodes and edges came out the same are not
//   diffed against the database again. Valid only while this Engine is the
//   only writer: a run that finds a version it did not write forgets them.
// Thread-safe.
#ifndef FERROGRAPH_INGEST_EXTRACTION_CACHE_H_
#define FERROGRAPH_INGEST_EXTRACTION_CACHE_H_

#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "ferrograph/ids.h"
#include "graph/extract.h"

namespace ferrograph {

class ExtractionCache {
 public:
  // `budget_bytes` bounds the summed sizes of the cached files' sources (an
  // extraction takes a few times its source).
  explicit ExtractionCache(uint64_t budget_bytes = 32ull << 20) : budget_(budget_bytes) {}

  // A copy of the extraction of the file whose bytes hash to `hash`.
  bool Get(const ContentHash& hash, FileExtraction* out);
  // Remembers (a copy of) the extraction of `source_bytes` bytes.
  void Put(const ContentHash& hash, const FileExtraction& extraction, uint64_t source_bytes);

  uint64_t hits() const;
  uint64_t misses() const;

  using FileKey = std::pair<std::string, std::string>;  // (crate key, path)
  // Forgets the written fingerprints unless `latest` (the store's newest
  // version ordinal, 0 for none) is the one the last run left.
  void CheckVersion(int64_t latest);
  // Whether the file was last written with exactly this update.
  bool WrittenSame(const FileKey& file, const ContentHash& fingerprint) const;
  // After a run committed (`version` is the store's newest ordinal then):
  // the fingerprints of what it wrote, and the files it removed.
  void Committed(const std::map<FileKey, ContentHash>& written, const std::vector<FileKey>& removed,
                 int64_t version);

 private:
  struct Entry {
    ContentHash hash;
    FileExtraction extraction;
    uint64_t bytes = 0;
  };
  mutable std::mutex mu_;
  uint64_t budget_;
  uint64_t used_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
  std::list<Entry> lru_;  // most recent first
  std::unordered_map<ContentHash, std::list<Entry>::iterator, FixedBytesHash> index_;
  std::map<FileKey, ContentHash> written_;
  int64_t written_version_ = -1;
};

}  // namespace ferrograph

#endif  // FERROGRAPH_INGEST_EXTRACTION_CACHE_H_
