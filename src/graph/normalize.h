// Normalized syntax: the token-level view of Rust source that ContentHash is
// defined over, and the small syntax helpers built on the same walk.
//
// The normalized syntax of a node is, in pre-order, the kind of every named
// inner node and the kind and text of every leaf token, without whitespace and
// without ordinary comments. Doc comments (`///`, `//!`, `/** */`, `/*! */`)
// are kept, with trailing whitespace of each doc line ignored. A raw string
// literal is one token (delimiters included), and the few runs of source text
// the grammar leaves outside any token (the `,` of `$(...),*`) count as
// tokens too, so no real edit goes unseen. So reformatting
// (indentation, line breaks, ordinary comments) keeps the hash; any change of a
// token, its kind, or a doc comment alters it; identical code anywhere shares
// it. Kinds are hashed by grammar name (not by tree-sitter symbol number), so
// hashes survive grammar rebuilds that do not rename node kinds.
//
// Nothing here allocates per token: tokens stream through a fixed buffer into
// the BLAKE3 state; walks use TSTreeCursor and are iterative, so any nesting
// depth is safe.
//
// Thread-compatible: a NormalizedSyntaxHasher belongs to one thread; the free
// functions are thread-safe.
#ifndef FERROGRAPH_GRAPH_NORMALIZE_H_
#define FERROGRAPH_GRAPH_NORMALIZE_H_

#include <tree_sitter/api.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferrograph/ids.h"
#include "graph/flat_syntax_tree.h"
#include "hash/blake3_hasher.h"

namespace ferrograph {

// Accumulates the normalized syntax of one or more nodes (in call order) and
// yields its BLAKE3 digest. `source` must be the text the nodes were parsed
// from and must outlive the hasher.
class NormalizedSyntaxHasher {
 public:
  explicit NormalizedSyntaxHasher(std::string_view source);
  NormalizedSyntaxHasher(const NormalizedSyntaxHasher&) = delete;
  NormalizedSyntaxHasher& operator=(const NormalizedSyntaxHasher&) = delete;

  // Appends the normalized syntax of `node`'s subtree. An ordinary comment
  // appends nothing. A null node is ignored. Adding the siblings of a run one
  // by one (comments included) equals HashNormalizedSyntax(first, last).
  void Add(TSNode node);
  // The digest of everything added so far; the hasher may go on.
  ContentHash Finish();

 private:
  friend struct NormalizedSyntaxHasherOut;
  void Flush();
  void Put(const void* data, size_t n);

  std::string_view source_;
  Blake3Hasher hasher_;
  bool started_ = false;
  uint32_t covered_ = 0;  // source before this byte has been accounted for
  size_t used_ = 0;
  uint8_t buffer_[4096];
};

// ContentHash of `node`'s normalized syntax.
ContentHash HashNormalizedSyntax(TSNode node, std::string_view source);

// ContentHash of the run of siblings `first` .. `last` (inclusive; `last` must
// be `first` or a later sibling of it). Used for an item together with the doc
// comments and attributes written before it.
ContentHash HashNormalizedSyntax(TSNode first, TSNode last, std::string_view source);

// The normalized syntax of a whole tree, recorded in one walk, so that the
// hash of any run of sibling nodes is a BLAKE3 over a slice of it rather than
// a fresh walk. Extraction hashes every item, and items nest (a method in an
// impl in a module), so this keeps hashing linear in the file's size.
// HashRange(first, last) equals HashNormalizedSyntax(first, last).
// Immutable after construction; const access is thread-safe.
class NormalizedSyntaxIndex {
 public:
  // Indexes `root`'s subtree. `source` is only read during construction.
  NormalizedSyntaxIndex(TSNode root, std::string_view source);
  // Indexes the whole of `tree`, which must outlive the index.
  NormalizedSyntaxIndex(const FlatSyntaxTree& tree, std::string_view source);
  ~NormalizedSyntaxIndex();
  NormalizedSyntaxIndex(const NormalizedSyntaxIndex&) = delete;
  NormalizedSyntaxIndex& operator=(const NormalizedSyntaxIndex&) = delete;

  // HashNormalizedSyntax(first, last) for nodes of the indexed tree, without
  // walking them again; nullopt when either is not a node of it (or, as
  // below, not part of its normalized syntax).
  std::optional<ContentHash> HashRange(TSNode first, TSNode last) const;
  // The same for nodes given by their index in the flat tree; nullopt when
  // either is out of range or not part of the normalized syntax (inside a raw
  // string or an ordinary comment), or `last` ends before `first` starts.
  std::optional<ContentHash> HashRange(uint32_t first, uint32_t last) const;

  size_t stream_bytes() const { return stream_.size(); }

 private:
  static constexpr uint32_t kUnvisited = UINT32_MAX;
  void Build(std::string_view source);

  std::unique_ptr<FlatSyntaxTree> owned_tree_;  // set when built from a TSNode
  const FlatSyntaxTree* tree_;
  std::string stream_;
  std::vector<uint32_t> entries_;  // by node index: stream offset where its records begin
  std::vector<uint32_t> exits_;    // by node index: stream offset where its records end
};

// True for line_comment / block_comment nodes that are not doc comments.
bool IsOrdinaryComment(TSNode node);
// True for doc comments (outer or inner); `inner` tells which.
bool IsDocComment(TSNode node, bool* inner = nullptr);
// IsDocComment for node `i` of `tree`.
bool IsDocComment(const FlatSyntaxTree& tree, uint32_t i, bool* inner = nullptr);

// Appends to `out` the tokens of `node` that start before `end_byte`, skipping
// all comments, separated by one space wherever the source had whitespace or
// a comment between them. Stops once `out` would exceed `max_bytes` (the
// result is then cut at a UTF-8 boundary). This is the "whitespace collapsed"
// text of signatures.
void AppendCollapsedText(TSNode node, std::string_view source, uint32_t end_byte, size_t max_bytes,
                         std::string* out);
// AppendCollapsedText for node `node` of `tree`, without a cursor walk.
void AppendCollapsedText(const FlatSyntaxTree& tree, uint32_t node, std::string_view source,
                         uint32_t end_byte, size_t max_bytes, std::string* out);

// Collapsed text of the whole node, without limit.
std::string CollapsedText(TSNode node, std::string_view source);

}  // namespace ferrograph

#endif  // FERROGRAPH_GRAPH_NORMALIZE_H_
