// The current rows of one file, as the writer diffs against them
// (WriteTxn::BeginRows and FinishFile), and the rows kept between writes of a long-running
// writer so that an edit of a large file does not read all of its rows back.
//
// A write of a file loads its FileRows from the database (every current node
// and edge row and its span overlay), diffs the update against them in place
// (closing, inserting and keeping rows), and leaves them equal to what the
// rows are at the new version. A Store whose writes keep rows
// (Store::BeginWrite(keep_rows)) holds the FileRows of its largest files
// after a commit; the next write of such a file starts from them instead of
// the database, provided that no other writer committed in between (the
// kept rows record the version they are of).
#ifndef FERROGRAPH_STORE_FILE_ROWS_H_
#define FERROGRAPH_STORE_FILE_ROWS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ferrograph/graph.h"
#include "ferrograph/ids.h"
#include "store/span_overlay.h"

namespace ferrograph {

struct FileRows {
  struct NodeRow {
    int64_t rowid = 0;
    Node node;          // as the row holds it (span: the row's, not the overlay's)
    bool kept = false;  // scratch of one diff
  };
  std::unordered_map<NodeId, NodeRow, FixedBytesHash> nodes;

  struct EdgeRow {
    int64_t rowid = 0;
    std::optional<EdgeKind> kind;  // none: a kind this build does not know
    uint32_t row_line = 0;         // as written in the row
    uint32_t line = 0;             // scratch of one diff: where the site is now
    bool kept = false;             // scratch of one diff
  };
  std::unordered_map<std::string, std::vector<EdgeRow>> edges;  // by LinelessEdgeKey

  std::optional<int64_t> spans_rowid;  // the current span overlay row
  SpanOverlay overlay;                 // what it holds (empty without one)

  size_t rows() const {
    size_t n = nodes.size();
    for (const auto& [key, list] : edges) n += list.size();
    return n;
  }
};

// The kept FileRows of one Store, by file key.
class KeptFileRows {
 public:
  // Files with fewer rows are read back from the database: that is cheap.
  static constexpr size_t kMinRows = 256;
  explicit KeptFileRows(size_t budget_rows = 400'000) : budget_(budget_rows) {}

  // The version the kept rows are of; anything else (another writer
  // committed) forgets them all.
  void CheckVersion(int64_t latest) {
    if (latest != version_) Clear();
  }
  // Takes the rows of a file out (null when not kept).
  std::unique_ptr<FileRows> Take(int64_t file_key) {
    auto it = files_.find(file_key);
    if (it == files_.end()) return nullptr;
    std::unique_ptr<FileRows> rows = std::move(it->second.rows);
    total_ -= it->second.count;
    files_.erase(it);
    return rows;
  }
  // Keeps the rows of files written by a transaction that committed
  // `version`; the least recently written go first past the budget.
  void Commit(int64_t version, std::vector<std::pair<int64_t, std::unique_ptr<FileRows>>> written) {
    version_ = version;
    for (auto& [key, rows] : written) {
      size_t count = rows->rows();
      if (count < kMinRows || count > budget_) continue;
      Take(key);
      total_ += count;
      files_[key] = Entry{std::move(rows), count, ++tick_};
    }
    while (total_ > budget_) {
      auto oldest = files_.begin();
      for (auto it = files_.begin(); it != files_.end(); ++it)
        if (it->second.tick < oldest->second.tick) oldest = it;
      total_ -= oldest->second.count;
      files_.erase(oldest);
    }
  }
  void Clear() {
    files_.clear();
    total_ = 0;
    version_ = -1;
  }
  size_t budget() const { return budget_; }
  size_t files() const { return files_.size(); }
  size_t total_rows() const { return total_; }

 private:
  struct Entry {
    std::unique_ptr<FileRows> rows;
    size_t count = 0;
    uint64_t tick = 0;
  };
  size_t budget_;
  int64_t version_ = -1;
  size_t total_ = 0;
  uint64_t tick_ = 0;
  std::unordered_map<int64_t, Entry> files_;
};

}  // namespace ferrograph

#endif  // FERROGRAPH_STORE_FILE_ROWS_H_
