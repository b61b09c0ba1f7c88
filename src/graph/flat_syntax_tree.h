// FlatSyntaxTree: the visible nodes of a tree-sitter subtree laid out in
// pre-order in one array, recorded by a single walk.
//
// Every step of a TSTreeCursor re-derives positions and skips hidden nodes,
// so walking tree-sitter's tree with it costs about a sixth of parsing it.
// Extraction needs several passes over the same nodes (hashing, item scans,
// signatures); it walks the tree once into this array (fg_ts_flatten, which
// gives what a cursor walk gives at a third of the cost) and runs the passes
// over the array.
//
// Node i's subtree is the index range [i, node(i).next); its first child, if
// any, is i + 1, and each child's `next` is the following sibling (or its
// parent's `next` after the last child). Nodes are in source order, so start
// bytes never decrease with the index.
//
// Immutable after Build; const access is thread-safe. The tree the nodes come
// from must outlive any use of their `node` handles.
#ifndef FERROGRAPH_GRAPH_FLAT_SYNTAX_TREE_H_
#define FERROGRAPH_GRAPH_FLAT_SYNTAX_TREE_H_

#include <tree_sitter/api.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "parse/ts_flatten.h"

namespace ferrograph {

class FlatSyntaxTree {
 public:
  static constexpr uint32_t kNone = FG_FLAT_NONE;

  // node, start_byte, end_byte, next, parent, symbol, field, named, missing
  // (parse/ts_flatten.h).
  using Node = FgFlatNode;

  FlatSyntaxTree();
  explicit FlatSyntaxTree(TSNode root) : FlatSyntaxTree() { Build(root); }
  ~FlatSyntaxTree();
  FlatSyntaxTree(const FlatSyntaxTree&) = delete;
  FlatSyntaxTree& operator=(const FlatSyntaxTree&) = delete;

  // Replaces the contents with `root`'s subtree (index 0 is `root`; empty for
  // a null node), reusing the array's memory.
  void Build(TSNode root);
  // Build, with the root's children that start outside [begin, end) kept as
  // leaves (their insides not walked): for work on part of a file.
  void BuildWindow(TSNode root, uint32_t begin, uint32_t end);

  uint32_t size() const { return static_cast<uint32_t>(size_); }
  const Node& operator[](uint32_t i) const { return nodes_[i]; }

  // Index of `n`, or nullopt when it is null or not a node of this array.
  // O(log size).
  std::optional<uint32_t> Find(TSNode n) const;

  // Index of the first child of `i` with field `field`, or kNone. Matches
  // ts_node_child_by_field_id.
  uint32_t ChildByField(uint32_t i, TSFieldId field) const;

  // Text of node `i` within `source` ("" when out of range).
  std::string_view Text(uint32_t i, std::string_view source) const {
    const Node& n = nodes_[i];
    if (n.end_byte > source.size() || n.start_byte > n.end_byte) return {};
    return source.substr(n.start_byte, n.end_byte - n.start_byte);
  }

 private:
  static Node* Grow(void* self, size_t min_capacity, size_t* capacity);

  // Uninitialized storage (no zeroing of what the walk overwrites), reused
  // through a per-thread pool (flat_syntax_tree.cc).
  std::unique_ptr<Node[]> nodes_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace ferrograph

#endif  // FERROGRAPH_GRAPH_FLAT_SYNTAX_TREE_H_
