// ExtractionCache: what the index runs of one Engine (`watch`) keep for the
// next run.
// - Files' extractions (src/graph/extract.h) by the BLAKE3 of their bytes,
//   so that re-resolving a crate after one file changed parses that file
//   only. Bounded: least recently used entries go once the files' bytes pass
//   the budget.
// - The syntax trees (with texts and extractions) of the files being
//   edited and of large files, so that the next version of such a file is
//   re-parsed and re-extracted incrementally (RustParser::Reparse,
//   ExtractEdited). Bounded by their source bytes, least recently
//   used first out.
// - Each file's stat and the hash of its bytes as last read, so that a
//   file whose stat is unchanged is not read again. Trusted only when the
//   file had been unmodified for a while when it was read (a write in the
//   same timestamp tick as the read would leave the stat unchanged).
// - A fingerprint of each file's update as last written, so that the files
//   of a re-resolved crate whose nodes and edges came out the same are not
//   diffed against the database again.
// - The crates as last linked (resolve/link.h LiveCrateLink), so that an
//   edit that keeps a file's interface relinks that file only. Bounded by
//   the crates' source bytes, least recently used first out. A run takes
//   them all and hands back what it kept when it commits: a failed run
//   leaves none that could disagree with the database.
// The last two are valid only while this Engine is the only writer: a run
// that finds a version it did not write forgets them.
// - What the last complete run found on disk (ScanMemo): the workspace, the
//   directories' .rs files, where each `mod` declaration led, and every
//   file's hash as read. A run told which paths changed since
//   (IndexOptions::changed_paths) starts from it instead of looking at
//   every file again. Thread-safe.
#ifndef FERROGRAPH_INGEST_EXTRACTION_CACHE_H_
#define FERROGRAPH_INGEST_EXTRACTION_CACHE_H_

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ferrograph/ids.h"
#include "graph/extract.h"
#include "ingest/workspace.h"
#include "parse/rust_parser.h"

namespace ferrograph {

class LiveCrateLink;

// What one complete index run of a root found on disk. Valid for the next
// run as long as every path changed since is known to it (IndexOptions::
// changed_paths): which files exist, and so where `mod` declarations lead,
// cannot have changed then, and the files not named kept their bytes.
struct ScanMemo {
  std::string root;  // the root the run was given (absolute, normalized)
  Workspace workspace;
  std::map<std::string, std::vector<std::string>> dir_files;  // ListRustFiles, by directory
  // Where a `mod` declaration led (ScanMemo::ModKey): the file and whether
  // it is loaded like a mod.rs; absent when no candidate existed.
  struct ModFile {
    std::string path;
    bool mod_rs = false;
  };
  std::unordered_map<std::string, ModFile> mod_files;
  // Each file read (absolute path): the hash and size of its bytes then.
  struct Read {
    ContentHash hash;
    uint64_t size = 0;
  };
  std::unordered_map<std::string, Read> files;

  static std::string ModKey(
      const std::string& parent_file, bool parent_is_mod_rs,
      const std::vector<std::pair<std::string, std::optional<std::string>>>& enclosing,
      const std::string& name, const std::optional<std::string>& path_attr);
};

// A linked crate kept between runs, with its files' source bytes.
struct KeptLink {
  std::shared_ptr<LiveCrateLink> link;
  uint64_t bytes = 0;
  uint64_t last_used = 0;  // the run that last used it (ExtractionCache::TakeLinks)
};
using KeptLinks = std::map<std::string, KeptLink>;  // by crate key

class ExtractionCache {
 public:
  // `budget_bytes` bounds the summed sizes of the cached files' sources (an
  // extraction takes a few times its source).
  // `link_budget_bytes` bounds the summed source bytes of the kept crates
  // (a kept crate takes several times its source).
  // `tree_budget_bytes` bounds the source bytes of the kept trees (a tree
  // and an extraction take about fifteen times their source).
  explicit ExtractionCache(uint64_t budget_bytes = 32ull << 20,
                           uint64_t link_budget_bytes = 64ull << 20,
                           uint64_t tree_budget_bytes = 16ull << 20)
      : budget_(budget_bytes), link_budget_(link_budget_bytes), tree_budget_(tree_budget_bytes) {}

  // The extraction of the file whose bytes hash to `hash` (shared and
  // immutable), or null.
  std::shared_ptr<const FileExtraction> Get(const ContentHash& hash);
  // Remembers the extraction of `source_bytes` bytes (shared, not copied:
  // a kept tree may hold the same one).
  void Put(const ContentHash& hash, std::shared_ptr<const FileExtraction> extraction,
           uint64_t source_bytes);

  // A file's identity and times, as stat(2) gives them.
  struct FileStat {
    uint64_t dev = 0, ino = 0, size = 0;
    int64_t mtime_ns = 0, ctime_ns = 0;
    friend bool operator==(const FileStat&, const FileStat&) = default;
  };
  static std::optional<FileStat> StatFile(const std::string& path);
  // The hash of the file's bytes when it has this stat and was read by an
  // earlier run (at least kStableNanos after its last change).
  std::optional<ContentHash> KnownHash(const std::string& path, const FileStat& stat) const;
  // The file, of `stat` before it was read at wall time `read_at_ns`,
  // hashed to `hash`.
  void RememberHash(const std::string& path, const FileStat& stat, const ContentHash& hash,
                    int64_t read_at_ns);
  static constexpr int64_t kStableNanos = 2'000'000'000;

  // The last parse of a file (by absolute path), taken out for the run that
  // re-parses its next version; kept again after.
  struct KeptTree {
    std::string source;
    SyntaxTree tree;
    std::shared_ptr<const FileExtraction> extraction;
  };
  std::optional<KeptTree> TakeTree(const std::string& path);
  void KeepTree(const std::string& path, KeptTree kept);
  size_t kept_trees() const;

  uint64_t hits() const;
  uint64_t misses() const;

  using FileKey = std::pair<std::string, std::string>;  // (crate key, path)
  // Forgets the written fingerprints and kept links unless `latest` (the
  // store's newest version ordinal, 0 for none) is the one the last run
  // left.
  void CheckVersion(int64_t latest);
  // Hands the kept links to a run (none are kept meanwhile); `*run` is the
  // run's number, for KeptLink::last_used.
  KeptLinks TakeLinks(uint64_t* run);
  // What the last run that wrote a file wrote: the file's bytes (hash) and
  // the fingerprint of the whole update, when it was taken (the indexer
  // skips it for new bytes: an update of other bytes never equals the last).
  struct WrittenFile {
    ContentHash bytes;
    std::optional<ContentHash> fingerprint;
  };
  std::optional<WrittenFile> Written(const FileKey& file) const;
  // After a run committed (`version` is the store's newest ordinal then):
  // the fingerprints of what it wrote, the files it removed, and the links
  // it keeps (evicted beyond the budget, least recently used first).
  void Committed(const std::map<FileKey, WrittenFile>& written, const std::vector<FileKey>& removed,
                 int64_t version, KeptLinks links = {});
  size_t kept_links() const;

  // The scan of `root` kept by the last complete run, taken out: a run that
  // fails leaves none (the changes it was told of would be lost).
  std::shared_ptr<const ScanMemo> TakeScan(const std::string& root);
  void KeepScan(std::shared_ptr<const ScanMemo> scan);

 private:
  struct Entry {
    ContentHash hash;
    std::shared_ptr<const FileExtraction> extraction;
    uint64_t bytes = 0;
  };
  mutable std::mutex mu_;
  uint64_t budget_;
  uint64_t used_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
  std::list<Entry> lru_;  // most recent first
  std::unordered_map<ContentHash, std::list<Entry>::iterator, FixedBytesHash> index_;
  struct Known {
    FileStat stat;
    ContentHash hash;
  };
  std::unordered_map<std::string, Known> known_;  // by absolute path, stable files only
  std::map<FileKey, WrittenFile> written_;
  int64_t written_version_ = -1;
  uint64_t link_budget_;
  KeptLinks links_;
  uint64_t tree_budget_;
  uint64_t trees_used_ = 0;
  std::list<std::pair<std::string, KeptTree>> trees_;  // most recent first
  uint64_t runs_ = 0;
  std::shared_ptr<const ScanMemo> scan_;
};

}  // namespace ferrograph

#endif  // FERROGRAPH_INGEST_EXTRACTION_CACHE_H_
