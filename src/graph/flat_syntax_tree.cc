#include "graph/flat_syntax_tree.h"

#include <algorithm>

namespace ferrograph {
namespace {

// Node arrays kept per thread between trees: a file's array is several times
// the file's size, and fresh memory for each costs more in page faults and
// regrowth than the walk that fills it.
// Bounded so that a thread keeps at most 4 x 16 MiB after a huge file.
constexpr size_t kMaxPooledNodes = size_t{1} << 18;
constexpr size_t kMaxPooledArrays = 4;  // a file's tree and nested macro re-parses
thread_local std::vector<std::vector<FlatSyntaxTree::Node>> node_pool;

}  // namespace

FlatSyntaxTree::FlatSyntaxTree() {
  if (!node_pool.empty()) {
    nodes_ = std::move(node_pool.back());
    node_pool.pop_back();
  }
}

FlatSyntaxTree::~FlatSyntaxTree() {
  if (nodes_.capacity() == 0 || nodes_.capacity() > kMaxPooledNodes ||
      node_pool.size() >= kMaxPooledArrays) {
    return;
  }
  nodes_.clear();
  node_pool.push_back(std::move(nodes_));
}

void FlatSyntaxTree::Build(TSNode root) { BuildWindow(root, 0, UINT32_MAX); }

void FlatSyntaxTree::BuildWindow(TSNode root, uint32_t begin, uint32_t end) {
  nodes_.clear();
  if (ts_node_is_null(root)) return;
  const bool whole = begin == 0 && end == UINT32_MAX;
  // Rust averages a visible node per three to four bytes of source.
  nodes_.reserve(whole ? (ts_node_end_byte(root) - ts_node_start_byte(root)) / 3 + 16
                       : (end - begin) / 3 + 1024);
  TSTreeCursor c = ts_tree_cursor_new(root);
  uint32_t parent = kNone;  // the cursor's parent node, already recorded
  for (;;) {
    TSNode n = ts_tree_cursor_current_node(&c);
    const uint32_t index = size();
    nodes_.push_back(Node{n, ts_node_start_byte(n), ts_node_end_byte(n), 0, parent,
                          ts_node_symbol(n),
                          index == 0 ? TSFieldId{0} : ts_tree_cursor_current_field_id(&c),
                          ts_node_is_named(n), ts_node_is_missing(n)});
    const bool outside = !whole && parent == 0 &&
                         (nodes_[index].start_byte < begin || nodes_[index].start_byte >= end);
    if (!outside && ts_tree_cursor_goto_first_child(&c)) {
      parent = index;
      continue;
    }
    nodes_[index].next = index + 1;
    bool more = false;
    while (!(more = ts_tree_cursor_goto_next_sibling(&c))) {
      if (!ts_tree_cursor_goto_parent(&c)) break;
      nodes_[parent].next = size();
      parent = nodes_[parent].parent;
    }
    if (!more) break;
  }
  ts_tree_cursor_delete(&c);
}

std::optional<uint32_t> FlatSyntaxTree::Find(TSNode n) const {
  if (ts_node_is_null(n)) return std::nullopt;
  const uint32_t start = ts_node_start_byte(n);
  auto it = std::lower_bound(nodes_.begin(), nodes_.end(), start,
                             [](const Node& node, uint32_t s) { return node.start_byte < s; });
  for (; it != nodes_.end() && it->start_byte == start; ++it) {
    if (ts_node_eq(it->node, n)) return static_cast<uint32_t>(it - nodes_.begin());
  }
  return std::nullopt;
}

uint32_t FlatSyntaxTree::ChildByField(uint32_t i, TSFieldId field) const {
  if (field == 0) return kNone;
  for (uint32_t c = i + 1; c < nodes_[i].next; c = nodes_[c].next) {
    if (nodes_[c].field == field) return c;
  }
  return kNone;
}

}  // namespace ferrograph
