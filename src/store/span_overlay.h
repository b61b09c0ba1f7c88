// Where a file's items and call sites are now, when an edit moved them
// without changing them.
//
// A node row carries the span its item had when the row was written, an
// edge row the line of its site. An edit that adds or removes lines moves
// everything below it; rewriting each moved row (to keep as-of answers
// right) made a one-line edit near the top of a 6,000-item file write
// thousands of rows. Instead, each file version whose items moved has one
// row in `spans`, valid over the versions it holds for: the spans of its
// moved nodes (by id) and the lines of its moved edges (by rowid), absolute.
// Readers apply the overlay valid at their version to the rows they read;
// rows not in it are where their row says.
#ifndef FERROGRAPH_STORE_SPAN_OVERLAY_H_
#define FERROGRAPH_STORE_SPAN_OVERLAY_H_

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ferrograph/graph.h"
#include "ferrograph/status.h"

namespace ferrograph {

class Database;
class Statement;

// A map kept as one vector sorted by key: an overlay of a large file holds
// thousands of entries, built once per write and read many times, where a
// hash map paid an allocation per entry. Entries are added in any order
// (emplace; the first of equal keys wins, as in a map) and Seal() sorts
// them; lookups need it sealed. Entries added in increasing key order keep
// it sealed.
template <typename K, typename V>
class SortedMap {
 public:
  using value_type = std::pair<K, V>;
  using const_iterator = typename std::vector<value_type>::const_iterator;

  void emplace(const K& key, const V& value) {
    if (!items_.empty() && !(items_.back().first < key)) sealed_ = false;
    items_.emplace_back(key, value);
  }
  void Seal() {
    if (sealed_) return;
    std::stable_sort(items_.begin(), items_.end(),
                     [](const value_type& a, const value_type& b) { return a.first < b.first; });
    items_.erase(std::unique(items_.begin(), items_.end(),
                             [](const value_type& a, const value_type& b) {
                               return !(a.first < b.first) && !(b.first < a.first);
                             }),
                 items_.end());
    sealed_ = true;
  }
  bool sealed() const { return sealed_; }
  const_iterator find(const K& key) const {
    assert(sealed_);
    auto it = std::lower_bound(items_.begin(), items_.end(), key,
                               [](const value_type& e, const K& k) { return e.first < k; });
    return it != items_.end() && !(key < it->first) ? it : items_.end();
  }
  size_t count(const K& key) const { return find(key) == items_.end() ? 0 : 1; }
  // Inserts in place (keeps it sealed); for building small maps by hand.
  V& operator[](const K& key) {
    Seal();
    auto it = std::lower_bound(items_.begin(), items_.end(), key,
                               [](const value_type& e, const K& k) { return e.first < k; });
    if (it == items_.end() || key < it->first) it = items_.insert(it, value_type(key, V()));
    return it->second;
  }
  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  void reserve(size_t n) { items_.reserve(n); }
  friend bool operator==(const SortedMap& a, const SortedMap& b) { return a.items_ == b.items_; }

 private:
  std::vector<value_type> items_;
  bool sealed_ = true;
};

struct SpanOverlay {
  SortedMap<NodeId, Span> nodes;            // node id -> its span
  SortedMap<int64_t, uint32_t> edge_lines;  // edge rowid -> its line

  // Sorts what was added (see SortedMap); reads and Encode need it.
  void Seal() {
    nodes.Seal();
    edge_lines.Seal();
  }

  bool empty() const { return nodes.empty() && edge_lines.empty(); }
  friend bool operator==(const SpanOverlay&, const SpanOverlay&) = default;

  // A compact, deterministic encoding (entries sorted), and its inverse;
  // Decode fails with Corruption on anything Encode cannot have written.
  std::string Encode() const;
  static Result<SpanOverlay> Decode(std::string_view data);
};

// Reads overlays for one pass over node or edge rows: each file's overlay
// valid at `version` (nullopt: the current one) is read once per pass;
// decoded overlays are shared through `cache` (immutable rows, keyed by
// rowid and valid_from, so a rowid used again after gc is not mistaken).
class SpanOverlayCache {
 public:
  // Null when the file has no overlay at `version`. Shared: the cache may
  // forget it (it keeps a bounded number) while the caller still reads it.
  Result<std::shared_ptr<const SpanOverlay>> Get(Database& db, int64_t file_key,
                                                 std::optional<int64_t> version);
  SpanOverlayCache();
  ~SpanOverlayCache();

 private:
  struct Entry {
    int64_t valid_from = 0;
    std::shared_ptr<const SpanOverlay> overlay;
  };
  std::unordered_map<int64_t, Entry> decoded_;  // by spans rowid
  // The lookups, prepared once per database (reset after each use, so that
  // no read transaction is held).
  Database* db_ = nullptr;
  std::unique_ptr<Statement> current_, as_of_;
};

// Applies the overlays at one version to rows as they are read.
class SpanFixer {
 public:
  SpanFixer(Database& db, SpanOverlayCache& cache, std::optional<int64_t> version)
      : db_(db), cache_(cache), version_(version) {}
  // `n` was read from a node row of file `file_key`.
  Status Fix(int64_t file_key, Node* n);
  // The same for a node row's bytes alone, [*begin, *end) as read (left as
  // they are when the overlay does not move the node).
  Status FixBytes(int64_t file_key, const NodeId& id, int64_t* begin, int64_t* end);
  // `line` was read from edge row `rowid` of file `file_key`.
  Status FixLine(int64_t file_key, int64_t rowid, uint32_t* line);

 private:
  Result<const SpanOverlay*> Of(int64_t file_key);
  Database& db_;
  SpanOverlayCache& cache_;
  std::optional<int64_t> version_;
  int64_t last_key_ = -1;
  const SpanOverlay* last_ = nullptr;
  // The overlays this pass read, held for its length.
  std::unordered_map<int64_t, std::shared_ptr<const SpanOverlay>> seen_;
};

}  // namespace ferrograph

#endif  // FERROGRAPH_STORE_SPAN_OVERLAY_H_
