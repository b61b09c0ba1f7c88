#include "store/span_overlay.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "store/sqlite.h"

namespace ferrograph {

namespace {

constexpr char kFormat = 1;  // the first byte of every encoding

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Reads the encoding front to back; any overrun or oversized value marks it
// bad, and every later read gives 0.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return Fail();
      auto b = static_cast<uint8_t>(data_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    return Fail();
  }
  uint32_t U32() {
    uint64_t v = Varint();
    return v > UINT32_MAX ? static_cast<uint32_t>(Fail()) : static_cast<uint32_t>(v);
  }
  std::string_view Bytes(size_t n) {
    if (data_.size() - pos_ < n) {
      Fail();
      return {};
    }
    std::string_view s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  bool ok() const { return ok_; }
  bool done() const { return pos_ == data_.size(); }
  // Entries that cannot fit in what is left: a count no encoding can have.
  bool Fits(uint64_t count, size_t min_entry) const {
    return count <= (data_.size() - pos_) / min_entry;
  }

 private:
  uint64_t Fail() {
    ok_ = false;
    pos_ = data_.size();
    return 0;
  }
  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace

// Format 1: the byte 1; the node count, then per node (by id) its 16 id
// bytes and start_byte, end_byte - start_byte, start_line, end_line -
// start_line as varints; the edge count, then per edge (by rowid) the gap
// from the previous rowid and the line, as varints.
std::string SpanOverlay::Encode() const {
  // Sealed: entries sorted by key, as the format has them.
  std::string out(1, kFormat);
  out.reserve(1 + 10 + nodes.size() * (NodeId::kSize + 8) + 10 + edge_lines.size() * 4);
  PutVarint(nodes.size(), &out);
  for (const auto& [id, s] : nodes) {
    out.append(reinterpret_cast<const char*>(id.data()), NodeId::kSize);
    PutVarint(s.start_byte, &out);
    PutVarint(s.end_byte - std::min(s.start_byte, s.end_byte), &out);
    PutVarint(s.start_line, &out);
    PutVarint(s.end_line - std::min(s.start_line, s.end_line), &out);
  }
  PutVarint(edge_lines.size(), &out);
  int64_t prev = 0;
  for (const auto& [rowid, line] : edge_lines) {
    PutVarint(static_cast<uint64_t>(rowid - prev), &out);
    PutVarint(line, &out);
    prev = rowid;
  }
  return out;
}

Result<SpanOverlay> SpanOverlay::Decode(std::string_view data) {
  auto bad = [&](const char* what) {
    return Status::Corruption(std::string("span overlay of ") + std::to_string(data.size()) +
                              " bytes: " + what);
  };
  if (data.empty() || data[0] != kFormat) return bad("unknown format");
  Reader r(data.substr(1));
  SpanOverlay o;
  uint64_t n = r.Varint();
  if (!r.ok() || !r.Fits(n, NodeId::kSize + 4)) return bad("node count past its end");
  o.nodes.reserve(n);
  for (uint64_t i = 0; i < n && r.ok(); ++i) {
    std::string_view id = r.Bytes(NodeId::kSize);
    Span s;
    s.start_byte = r.U32();
    uint64_t end = uint64_t{s.start_byte} + r.U32();
    s.start_line = r.U32();
    uint64_t end_line = uint64_t{s.start_line} + r.U32();
    if (end > UINT32_MAX || end_line > UINT32_MAX) return bad("span past 4 GiB");
    s.end_byte = static_cast<uint32_t>(end);
    s.end_line = static_cast<uint32_t>(end_line);
    if (r.ok()) o.nodes.emplace(NodeId::FromBytes(id.data()), s);
  }
  uint64_t m = r.Varint();
  if (!r.ok() || !r.Fits(m, 2)) return bad("edge count past its end");
  o.edge_lines.reserve(m);
  int64_t rowid = 0;
  for (uint64_t i = 0; i < m && r.ok(); ++i) {
    uint64_t gap = r.Varint();
    if (gap > static_cast<uint64_t>(INT64_MAX - rowid)) return bad("edge rowid past 2^63");
    rowid += static_cast<int64_t>(gap);
    uint32_t line = r.U32();
    if (r.ok()) o.edge_lines.emplace(rowid, line);
  }
  if (!r.ok()) return bad("truncated");
  if (!r.done()) return bad("trailing bytes");
  // Encode writes each key once, in increasing order.
  if (!o.nodes.sealed() || !o.edge_lines.sealed()) return bad("repeated or unordered entries");
  if (o.nodes.size() != n || o.edge_lines.size() != m) return bad("repeated entries");
  return o;
}

SpanOverlayCache::SpanOverlayCache() = default;
SpanOverlayCache::~SpanOverlayCache() = default;

Result<std::shared_ptr<const SpanOverlay>> SpanOverlayCache::Get(Database& db, int64_t file_key,
                                                                 std::optional<int64_t> version) {
  if (db_ != &db) {
    current_.reset();
    as_of_.reset();
    db_ = &db;
  }
  std::unique_ptr<Statement>& slot = version ? as_of_ : current_;
  if (!slot) {
    FG_ASSIGN_OR_RETURN(
        Statement prepared,
        db.Prepare(version ? "SELECT rowid, valid_from, data FROM spans WHERE file_key = ?1 AND "
                             "valid_from <= ?2 AND (valid_to IS NULL OR valid_to > ?2)"
                           : "SELECT rowid, valid_from, data FROM spans WHERE file_key = ?1 AND "
                             "valid_to IS NULL"));
    slot = std::make_unique<Statement>(std::move(prepared));
  }
  Statement& st = *slot;
  struct ResetOnExit {
    Statement& st;
    ~ResetOnExit() { st.Reset(); }
  } reset{st};
  st.Bind(1, file_key);
  if (version) st.Bind(2, *version);
  FG_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return std::shared_ptr<const SpanOverlay>();
  const int64_t rowid = st.Int(0), valid_from = st.Int(1);
  auto it = decoded_.find(rowid);
  if (it != decoded_.end() && it->second.valid_from == valid_from) return it->second.overlay;
  Result<SpanOverlay> o = SpanOverlay::Decode(st.BlobView(2));
  if (!o.ok())
    return Status::Corruption("spans row " + std::to_string(rowid) + " of file key " +
                              std::to_string(file_key) + ": " + o.status().message());
  if (decoded_.size() >= 256) decoded_.clear();  // bounded: a reader may visit every file
  auto shared = std::make_shared<const SpanOverlay>(std::move(*o));
  decoded_[rowid] = Entry{valid_from, shared};
  return shared;
}

Result<const SpanOverlay*> SpanFixer::Of(int64_t file_key) {
  if (file_key == last_key_) return last_;
  auto it = seen_.find(file_key);
  if (it == seen_.end()) {
    FG_ASSIGN_OR_RETURN(std::shared_ptr<const SpanOverlay> o, cache_.Get(db_, file_key, version_));
    it = seen_.emplace(file_key, std::move(o)).first;
  }
  last_key_ = file_key;
  last_ = it->second.get();
  return last_;
}

Status SpanFixer::Fix(int64_t file_key, Node* n) {
  FG_ASSIGN_OR_RETURN(const SpanOverlay* o, Of(file_key));
  if (!o) return Status::OK();
  auto it = o->nodes.find(n->id);
  if (it != o->nodes.end()) n->span = it->second;
  return Status::OK();
}

Status SpanFixer::FixBytes(int64_t file_key, const NodeId& id, int64_t* begin, int64_t* end) {
  FG_ASSIGN_OR_RETURN(const SpanOverlay* o, Of(file_key));
  if (!o) return Status::OK();
  auto it = o->nodes.find(id);
  if (it == o->nodes.end()) return Status::OK();
  *begin = it->second.start_byte;
  *end = it->second.end_byte;
  return Status::OK();
}

Status SpanFixer::FixLine(int64_t file_key, int64_t rowid, uint32_t* line) {
  FG_ASSIGN_OR_RETURN(const SpanOverlay* o, Of(file_key));
  if (!o) return Status::OK();
  auto it = o->edge_lines.find(rowid);
  if (it != o->edge_lines.end()) *line = it->second;
  return Status::OK();
}

}  // namespace ferrograph
