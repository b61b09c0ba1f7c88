#include "graph/normalize.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "parse/rust_parser.h"

namespace ferrograph {
namespace {

// Tags that keep the token stream unambiguous: each record is a tag, a
// 4-byte kind id, and for leaves a varint length and the text.
constexpr uint8_t kTagInner = 1;    // named inner node: kind only
constexpr uint8_t kTagLeaf = 2;     // leaf token: kind and text
constexpr uint8_t kTagMissing = 3;  // zero-width token inserted by recovery
constexpr uint8_t kTagGap = 4;      // source text no token covers

uint64_t Fnv1a(std::string_view s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return h;
}

// A kind's id is a hash of its grammar name (and whether it is named), so it
// stays put when the grammar is regenerated with renumbered symbols.
uint32_t KindIdFromName(const TSLanguage* lang, TSSymbol symbol) {
  const char* name = ts_language_symbol_name(lang, symbol);
  bool named = ts_language_symbol_type(lang, symbol) == TSSymbolTypeRegular;
  uint64_t h = Fnv1a(name ? std::string_view(name) : std::string_view("?"), named ? 0x4e : 0x41);
  return static_cast<uint32_t>(h ^ (h >> 32));
}

// Per-symbol facts about the Rust grammar, computed once.
struct Grammar {
  const TSLanguage* lang = nullptr;
  std::vector<uint32_t> kind_ids;  // by symbol
  TSSymbol line_comment = 0;
  TSSymbol block_comment = 0;
  TSSymbol doc_comment = 0;
  TSSymbol raw_string_literal = 0;
  TSFieldId inner_field = 0;
  TSFieldId outer_field = 0;

  Grammar() {
    lang = RustLanguage();
    uint32_t n = ts_language_symbol_count(lang);
    kind_ids.resize(n);
    for (uint32_t s = 0; s < n; ++s) kind_ids[s] = KindIdFromName(lang, static_cast<TSSymbol>(s));
    line_comment = ts_language_symbol_for_name(lang, "line_comment", 12, true);
    block_comment = ts_language_symbol_for_name(lang, "block_comment", 13, true);
    doc_comment = ts_language_symbol_for_name(lang, "doc_comment", 11, true);
    raw_string_literal = ts_language_symbol_for_name(lang, "raw_string_literal", 18, true);
    inner_field = ts_language_field_id_for_name(lang, "inner", 5);
    outer_field = ts_language_field_id_for_name(lang, "outer", 5);
  }

  uint32_t KindId(TSSymbol s) const {
    return s < kind_ids.size() ? kind_ids[s] : KindIdFromName(lang, s);
  }
  bool IsComment(TSSymbol s) const { return s == line_comment || s == block_comment; }
};

const Grammar& G() {
  static const Grammar* const grammar = new Grammar();
  return *grammar;
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Cuts `s` back to at most `max` bytes without splitting a UTF-8 sequence.
void TruncateUtf8(std::string* s, size_t max) {
  if (s->size() <= max) return;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>((*s)[n]) & 0xC0) == 0x80) --n;
  s->resize(n);
}

// Visits the tokens of `node` that start before `end_byte`, in source order:
//   sink.Enter(node)        each node entered (after the gaps before it),
//   sink.Inner(symbol)      each named inner node (pre-order),
//   sink.Leaf(symbol, missing, text, start)  each leaf token,
//   sink.Gap(text, start)   each run of non-whitespace source text that no
//                           token covers (the grammar leaves a few, e.g. the
//                           separator of `$(...),*`),
//   sink.Exit(node)         each node left (after the gaps inside it).
// Raw string literals count as one leaf (their `r#"` delimiters are not
// tokens). Comments are skipped unless sink.KeepComment(node). Leaf and Gap
// return false to stop the walk. `*covered` is where source text has been
// accounted for; it starts at or before the node and is advanced, so that
// consecutive walks over sibling nodes also see the gaps between them.
// Iterative: safe at any depth.
// Reports to sink.Gap the non-whitespace runs of [*covered, upto) and moves
// *covered to upto; false when the sink asked to stop.
template <typename Sink>
bool ReportGaps(std::string_view source, uint32_t upto, uint32_t* covered, Sink& sink) {
  uint32_t i = *covered;
  if (i >= upto) return true;
  *covered = upto;
  while (i < upto) {
    while (i < upto && IsSpace(source[i])) ++i;
    uint32_t b = i;
    while (i < upto && !IsSpace(source[i])) ++i;
    if (i > b && !sink.Gap(source.substr(b, i - b), b)) return false;
  }
  return true;
}

template <typename Sink>
void WalkTokens(TSNode node, std::string_view source, uint32_t end_byte, uint32_t* covered,
                Sink& sink) {
  if (ts_node_is_null(node)) return;
  const Grammar& g = G();
  const uint32_t limit = std::min<uint32_t>(std::min<uint32_t>(ts_node_end_byte(node), end_byte),
                                            static_cast<uint32_t>(source.size()));
  auto gaps = [&](uint32_t upto) {
    return ReportGaps(source, std::min(upto, limit), covered, sink);
  };
  TSTreeCursor c = ts_tree_cursor_new(node);
  bool aborted = false;
  for (;;) {
    TSNode n = ts_tree_cursor_current_node(&c);
    uint32_t start = ts_node_start_byte(n);
    // Pre-order visits nodes in source order: nothing later starts earlier.
    if (start >= end_byte) break;
    if (!gaps(start)) {
      aborted = true;
      break;
    }
    sink.Enter(n);
    TSSymbol sym = ts_node_symbol(n);
    bool descend = true;
    bool emit = true;
    if (g.IsComment(sym)) {
      if (!sink.KeepComment(n)) descend = emit = false;
    } else if (sym == g.raw_string_literal) {
      descend = false;
    }
    if (descend) {
      bool named = ts_node_is_named(n);
      if (ts_tree_cursor_goto_first_child(&c)) {
        if (named) sink.Inner(sym);
        continue;
      }
    }
    uint32_t end = ts_node_end_byte(n);
    if (emit && !sink.Leaf(sym, ts_node_is_missing(n), NodeText(n, source), start)) {
      aborted = true;
      break;
    }
    *covered = std::max(*covered, std::min(end, limit));
    sink.Exit(n);
    // Leave finished nodes (flushing the gaps they end with) until a next
    // sibling exists.
    bool more = false;
    while (!(more = ts_tree_cursor_goto_next_sibling(&c))) {
      if (!ts_tree_cursor_goto_parent(&c)) break;
      TSNode parent = ts_tree_cursor_current_node(&c);
      if (!gaps(ts_node_end_byte(parent))) {
        aborted = true;
        break;
      }
      sink.Exit(parent);
    }
    if (!more || aborted) break;
  }
  if (!aborted) gaps(limit);
  ts_tree_cursor_delete(&c);
}

// WalkTokens over node `root` of a FlatSyntaxTree: the same calls in the same
// order, with Enter, Exit and KeepComment given node indices. A sink that
// stops the walk gets no further calls (the closing gaps included).
template <typename Sink>
void WalkFlatTokens(const FlatSyntaxTree& tree, uint32_t root, std::string_view source,
                    uint32_t end_byte, uint32_t* covered, Sink& sink) {
  if (root >= tree.size()) return;
  const Grammar& g = G();
  const uint32_t limit = std::min<uint32_t>(std::min<uint32_t>(tree[root].end_byte, end_byte),
                                            static_cast<uint32_t>(source.size()));
  auto gaps = [&](uint32_t upto) {
    return ReportGaps(source, std::min(upto, limit), covered, sink);
  };
  uint32_t i = root;
  for (;;) {
    const FlatSyntaxTree::Node& n = tree[i];
    if (n.start_byte >= end_byte) break;
    if (!gaps(n.start_byte)) return;
    sink.Enter(i);
    bool descend = true;
    bool emit = true;
    if (g.IsComment(n.symbol)) {
      if (!sink.KeepComment(i)) descend = emit = false;
    } else if (n.symbol == g.raw_string_literal) {
      descend = false;
    }
    if (descend && n.next > i + 1) {
      if (n.named) sink.Inner(n.symbol);
      ++i;
      continue;
    }
    if (emit && !sink.Leaf(n.symbol, n.missing, tree.Text(i, source), n.start_byte)) return;
    *covered = std::max(*covered, std::min(n.end_byte, limit));
    sink.Exit(i);
    // Leave the ancestors this node was the last descendant of.
    uint32_t p = i;
    while (p != root) {
      const uint32_t parent = tree[p].parent;
      if (tree[p].next < tree[parent].next) break;  // p has a next sibling
      if (!gaps(tree[parent].end_byte)) return;
      sink.Exit(parent);
      p = parent;
    }
    if (p == root) break;
    i = tree[p].next;
  }
  gaps(limit);
}

// Appends the record encoding of the normalized syntax to `out`, which has
// Put(const void*, size_t). The same bytes feed the streaming hasher and the
// per-tree index, so both yield the same hashes.
template <typename Out>
struct RecordSink {
  Out* out;
  TSSymbol doc_comment;
  const FlatSyntaxTree* tree = nullptr;  // for walks over a flat tree

  void PutKind(uint8_t tag, TSSymbol symbol) {
    uint8_t rec[5];
    rec[0] = tag;
    uint32_t id = G().KindId(symbol);
    for (int i = 0; i < 4; ++i) rec[1 + i] = static_cast<uint8_t>(id >> (8 * i));
    out->Put(rec, sizeof(rec));
  }
  void PutText(std::string_view text) {
    uint8_t len[10];
    size_t n = 0;
    uint64_t v = text.size();
    do {
      uint8_t b = v & 0x7f;
      v >>= 7;
      len[n++] = static_cast<uint8_t>(b | (v ? 0x80 : 0));
    } while (v);
    out->Put(len, n);
    out->Put(text.data(), text.size());
  }

  bool KeepComment(TSNode comment) { return IsDocComment(comment); }
  bool KeepComment(uint32_t comment) { return IsDocComment(*tree, comment); }
  template <typename Node>
  void Enter(Node) {}
  template <typename Node>
  void Exit(Node) {}
  void Inner(TSSymbol sym) { PutKind(kTagInner, sym); }
  bool Leaf(TSSymbol sym, bool missing, std::string_view text, uint32_t) {
    if (missing) {
      PutKind(kTagMissing, sym);
      return true;
    }
    if (sym == doc_comment) {
      while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
    }
    PutKind(kTagLeaf, sym);
    PutText(text);
    return true;
  }
  bool Gap(std::string_view text, uint32_t) {
    uint8_t tag = kTagGap;
    out->Put(&tag, 1);
    PutText(text);
    return true;
  }
};

struct StringOut {
  std::string* s;
  void Put(const void* data, size_t n) { s->append(static_cast<const char*>(data), n); }
};

}  // namespace

bool IsDocComment(TSNode node, bool* inner) {
  const Grammar& g = G();
  if (ts_node_is_null(node) || !g.IsComment(ts_node_symbol(node))) return false;
  // A doc comment carries an `outer` or `inner` marker child (`///`, `//!`,
  // `/**`, `/*!`); `////`, `/***/` and plain comments carry none.
  bool has_inner = !ts_node_is_null(ts_node_child_by_field_id(node, g.inner_field));
  if (!has_inner && ts_node_is_null(ts_node_child_by_field_id(node, g.outer_field))) return false;
  if (inner) *inner = has_inner;
  return true;
}

bool IsDocComment(const FlatSyntaxTree& tree, uint32_t i, bool* inner) {
  const Grammar& g = G();
  if (i >= tree.size() || !g.IsComment(tree[i].symbol)) return false;
  bool has_inner = tree.ChildByField(i, g.inner_field) != FlatSyntaxTree::kNone;
  if (!has_inner && tree.ChildByField(i, g.outer_field) == FlatSyntaxTree::kNone) return false;
  if (inner) *inner = has_inner;
  return true;
}

bool IsOrdinaryComment(TSNode node) {
  if (ts_node_is_null(node) || !G().IsComment(ts_node_symbol(node))) return false;
  return !IsDocComment(node);
}

NormalizedSyntaxHasher::NormalizedSyntaxHasher(std::string_view source) : source_(source) {}

void NormalizedSyntaxHasher::Flush() {
  if (used_ > 0) hasher_.Update(buffer_, used_);
  used_ = 0;
}

void NormalizedSyntaxHasher::Put(const void* data, size_t n) {
  if (n > sizeof(buffer_) - used_) {
    Flush();
    if (n >= sizeof(buffer_)) {
      hasher_.Update(data, n);
      return;
    }
  }
  std::memcpy(buffer_ + used_, data, n);
  used_ += n;
}

// The hasher's private buffer as a RecordSink output.
struct NormalizedSyntaxHasherOut {
  NormalizedSyntaxHasher* h;
  void Put(const void* data, size_t n) { h->Put(data, n); }
};

void NormalizedSyntaxHasher::Add(TSNode node) {
  if (ts_node_is_null(node)) return;
  uint32_t start = ts_node_start_byte(node);
  if (!started_ || covered_ > start) covered_ = start;
  started_ = true;
  NormalizedSyntaxHasherOut out{this};
  RecordSink<NormalizedSyntaxHasherOut> sink{&out, G().doc_comment};
  WalkTokens(node, source_, UINT32_MAX, &covered_, sink);
}

ContentHash NormalizedSyntaxHasher::Finish() {
  Flush();
  return hasher_.Finalize();
}

namespace {

// Index buffers kept per thread between files: a file's index is as large as
// the file, and fresh memory for each one costs more in page faults than the
// walk that fills it.
struct IndexBuffers {
  std::string stream;
  std::vector<uint32_t> entries, exits;
};
constexpr size_t kMaxPooledBytes = size_t{64} << 20;
thread_local std::vector<IndexBuffers> index_pool;

}  // namespace

NormalizedSyntaxIndex::~NormalizedSyntaxIndex() {
  if (stream_.capacity() == 0 || stream_.capacity() > kMaxPooledBytes || index_pool.size() >= 4) {
    return;
  }
  stream_.clear();
  entries_.clear();
  exits_.clear();
  index_pool.push_back({std::move(stream_), std::move(entries_), std::move(exits_)});
}

NormalizedSyntaxIndex::NormalizedSyntaxIndex(TSNode root, std::string_view source)
    : owned_tree_(std::make_unique<FlatSyntaxTree>(root)), tree_(owned_tree_.get()) {
  Build(source);
}

NormalizedSyntaxIndex::NormalizedSyntaxIndex(const FlatSyntaxTree& tree, std::string_view source)
    : tree_(&tree) {
  Build(source);
}

void NormalizedSyntaxIndex::Build(std::string_view source) {
  const FlatSyntaxTree& tree = *tree_;
  if (tree.size() == 0) return;
  if (!index_pool.empty()) {
    stream_ = std::move(index_pool.back().stream);
    entries_ = std::move(index_pool.back().entries);
    exits_ = std::move(index_pool.back().exits);
    index_pool.pop_back();
  }
  size_t span = tree[0].end_byte - tree[0].start_byte;
  stream_.reserve(span + span / 2);
  // Every node the walk visits is entered and left (nothing stops it); the
  // insides of raw strings and ordinary comments are not visited.
  entries_.assign(tree.size(), kUnvisited);
  exits_.assign(tree.size(), kUnvisited);
  struct IndexSink : RecordSink<StringOut> {
    NormalizedSyntaxIndex* index;
    void Enter(uint32_t i) { index->entries_[i] = static_cast<uint32_t>(index->stream_.size()); }
    void Exit(uint32_t i) { index->exits_[i] = static_cast<uint32_t>(index->stream_.size()); }
  };
  StringOut out{&stream_};
  IndexSink sink;
  sink.out = &out;
  sink.doc_comment = G().doc_comment;
  sink.tree = &tree;
  sink.index = this;
  uint32_t covered = tree[0].start_byte;
  WalkFlatTokens(tree, 0, source, UINT32_MAX, &covered, sink);
}

std::optional<ContentHash> NormalizedSyntaxIndex::HashRange(TSNode first, TSNode last) const {
  std::optional<uint32_t> f = tree_->Find(first);
  std::optional<uint32_t> l = tree_->Find(last);
  if (!f || !l) return std::nullopt;
  return HashRange(*f, *l);
}

std::optional<ContentHash> NormalizedSyntaxIndex::HashRange(uint32_t first, uint32_t last) const {
  if (first >= entries_.size() || last >= exits_.size()) return std::nullopt;
  const uint32_t begin = entries_[first], end = exits_[last];
  if (begin == kUnvisited || end == kUnvisited || end < begin) return std::nullopt;
  return HashBytes(std::string_view(stream_).substr(begin, end - begin));
}

ContentHash HashNormalizedSyntax(TSNode node, std::string_view source) {
  NormalizedSyntaxHasher h(source);
  h.Add(node);
  return h.Finish();
}

ContentHash HashNormalizedSyntax(TSNode first, TSNode last, std::string_view source) {
  NormalizedSyntaxHasher h(source);
  if (ts_node_is_null(last)) last = first;
  if (ts_node_is_null(first)) return h.Finish();
  const uint32_t end = ts_node_end_byte(last);
  for (TSNode n = first; !ts_node_is_null(n); n = ts_node_next_sibling(n)) {
    h.Add(n);
    // Stop at `last`, or past its end if it is not a later sibling after all.
    if (ts_node_eq(n, last) || ts_node_end_byte(n) >= end) break;
  }
  return h.Finish();
}

namespace {

// Sink of the collapsed text of signatures; see AppendCollapsedText.
struct CollapsedSink {
  std::string* out;
  size_t limit;
  uint32_t prev_end = 0;
  bool first = true;
  template <typename Node>
  bool KeepComment(Node) {
    return false;
  }
  template <typename Node>
  void Enter(Node) {}
  template <typename Node>
  void Exit(Node) {}
  void Inner(TSSymbol) {}
  bool Append(std::string_view text, uint32_t start) {
    if (text.empty()) return true;
    if (!first && start > prev_end) out->push_back(' ');
    out->append(text);
    first = false;
    prev_end = start + static_cast<uint32_t>(text.size());
    if (out->size() > limit) {
      TruncateUtf8(out, limit);
      return false;
    }
    return true;
  }
  bool Leaf(TSSymbol, bool, std::string_view text, uint32_t start) { return Append(text, start); }
  bool Gap(std::string_view text, uint32_t start) { return Append(text, start); }
};

}  // namespace

void AppendCollapsedText(TSNode node, std::string_view source, uint32_t end_byte, size_t max_bytes,
                         std::string* out) {
  if (ts_node_is_null(node)) return;
  CollapsedSink sink{out, out->size() + max_bytes};
  uint32_t covered = ts_node_start_byte(node);
  WalkTokens(node, source, end_byte, &covered, sink);
}

void AppendCollapsedText(const FlatSyntaxTree& tree, uint32_t node, std::string_view source,
                         uint32_t end_byte, size_t max_bytes, std::string* out) {
  if (node >= tree.size()) return;
  CollapsedSink sink{out, out->size() + max_bytes};
  uint32_t covered = tree[node].start_byte;
  WalkFlatTokens(tree, node, source, end_byte, &covered, sink);
}

std::string CollapsedText(TSNode node, std::string_view source) {
  std::string out;
  AppendCollapsedText(node, source, UINT32_MAX, SIZE_MAX / 2, &out);
  return out;
}

}  // namespace ferrograph
