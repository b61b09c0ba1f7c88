// ExtractionCache: files' extractions (src/graph/extract.h) by the BLAKE3 of
// their bytes, kept between the index runs of one Engine (`watch`), so that
// re-resolving a crate after one file changed parses that file only, not
// every file of the crate. Bounded: least recently used entries go once the
// files' bytes pass the budget. Thread-safe.
#ifndef FERROGRAPH_INGEST_EXTRACTION_CACHE_H_
#define FERROGRAPH_INGEST_EXTRACTION_CACHE_H_

#include <cstdint>
#include <list>
#include <mutex>
#include <unordered_map>

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
};

}  // namespace ferrograph

#endif  // FERROGRAPH_INGEST_EXTRACTION_CACHE_H_
