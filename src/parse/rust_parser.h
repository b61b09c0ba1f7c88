// RustParser and SyntaxTree: RAII wrappers around tree-sitter's TSParser and
// TSTree, configured for the Rust grammar (tree-sitter-rust 0.24).
//
// Thread safety: a RustParser is not thread-safe; keep one per worker thread.
// A SyntaxTree is immutable once made and may be read from several threads.
// A SyntaxTree does not own the source text it was parsed from: the caller
// keeps that text alive while it reads node texts.
#ifndef FERROGRAPH_PARSE_RUST_PARSER_H_
#define FERROGRAPH_PARSE_RUST_PARSER_H_

#include <tree_sitter/api.h>

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "ferrograph/status.h"

namespace ferrograph {

// The Rust grammar; never null, lives for the whole process.
const TSLanguage* RustLanguage();

class SyntaxTree {
 public:
  SyntaxTree() = default;
  explicit SyntaxTree(TSTree* tree) : tree_(tree) {}  // takes ownership

  bool valid() const { return tree_ != nullptr; }
  TSNode root() const { return ts_tree_root_node(tree_.get()); }
  const TSTree* get() const { return tree_.get(); }
  // True when tree-sitter had to recover from syntax errors.
  bool has_error() const { return ts_node_has_error(root()); }

 private:
  struct Deleter {
    void operator()(TSTree* t) const { ts_tree_delete(t); }
  };
  std::unique_ptr<TSTree, Deleter> tree_;
};

class RustParser {
 public:
  RustParser();
  RustParser(const RustParser&) = delete;
  RustParser& operator=(const RustParser&) = delete;

  // Parses `source` (UTF-8). With `ranges`, parses only those byte ranges of
  // `source` as one document; node positions stay in `source`'s coordinates.
  // Syntax errors do not fail: the tree holds ERROR / MISSING nodes.
  // Fails only when tree-sitter gives up (e.g. source over 4 GiB).
  Result<SyntaxTree> Parse(std::string_view source, const std::vector<TSRange>* ranges = nullptr);

  // Parses `source`, a new version of `old_source` whose tree is `old`:
  // the bytes that differ (one edit, from the common prefix to the common
  // suffix) are marked on a copy of `old`, and tree-sitter re-parses only
  // around them. Gives the same tree as Parse(source) (tested); `old` is
  // left as it was. `changed`, when given, receives the ranges (of the new
  // tree) whose syntactic structure differs from the old one's beyond the
  // edited bytes themselves (ts_tree_get_changed_ranges).
  Result<SyntaxTree> Reparse(std::string_view source, std::string_view old_source,
                             const SyntaxTree& old, std::vector<TSRange>* changed = nullptr);

  // How many documents this parser has parsed (Parse and Reparse calls that
  // reached tree-sitter): extraction re-parses macro token trees, and tests
  // check which ones.
  uint64_t parses() const { return parses_; }

 private:
  struct Deleter {
    void operator()(TSParser* p) const { ts_parser_delete(p); }
  };
  std::unique_ptr<TSParser, Deleter> parser_;
  uint64_t parses_ = 0;
};

// The one edit that turns `old_text` into `new_text`: bytes
// [start, old_end) of the old text became [start, new_end) of the new one
// (the longest common prefix and, after it, suffix stay).
struct TextEdit {
  size_t start = 0, old_end = 0, new_end = 0;
};
TextEdit EditBetween(std::string_view old_text, std::string_view new_text);

// Text of `node` within `source`.
inline std::string_view NodeText(TSNode node, std::string_view source) {
  uint32_t b = ts_node_start_byte(node), e = ts_node_end_byte(node);
  if (b > source.size() || e > source.size() || b > e) return {};
  return source.substr(b, e - b);
}

}  // namespace ferrograph

#endif  // FERROGRAPH_PARSE_RUST_PARSER_H_
