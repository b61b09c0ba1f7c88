#include "graph/flat_syntax_tree.h"

#include <algorithm>
#include <new>
#include <vector>

namespace ferrograph {
namespace {

// Node arrays kept per thread between trees: a file's array is several times
// the file's size, and fresh memory for each costs more in page faults and
// regrowth than the walk that fills it.
// Bounded so that a thread keeps at most 4 x 14 MiB after a huge file.
constexpr size_t kMaxPooledNodes = size_t{1} << 18;
constexpr size_t kMaxPooledArrays = 4;  // a file's tree and nested macro re-parses
struct PooledArray {
  std::unique_ptr<FlatSyntaxTree::Node[]> nodes;
  size_t capacity = 0;
};
thread_local std::vector<PooledArray> node_pool;

}  // namespace

FlatSyntaxTree::FlatSyntaxTree() {
  if (!node_pool.empty()) {
    nodes_ = std::move(node_pool.back().nodes);
    capacity_ = node_pool.back().capacity;
    node_pool.pop_back();
  }
}

FlatSyntaxTree::~FlatSyntaxTree() {
  if (capacity_ == 0 || capacity_ > kMaxPooledNodes || node_pool.size() >= kMaxPooledArrays) return;
  node_pool.push_back(PooledArray{std::move(nodes_), capacity_});
}

FlatSyntaxTree::Node* FlatSyntaxTree::Grow(void* self, size_t min_capacity, size_t* capacity) {
  FlatSyntaxTree& t = *static_cast<FlatSyntaxTree*>(self);
  const size_t grown = std::max(min_capacity, t.capacity_ + t.capacity_ / 2);
  std::unique_ptr<Node[]> bigger(new (std::nothrow) Node[grown]);
  if (!bigger) return nullptr;
  std::copy(t.nodes_.get(), t.nodes_.get() + t.capacity_, bigger.get());
  t.nodes_ = std::move(bigger);
  t.capacity_ = grown;
  *capacity = grown;
  return t.nodes_.get();
}

void FlatSyntaxTree::Build(TSNode root) { BuildWindow(root, 0, UINT32_MAX); }

void FlatSyntaxTree::BuildWindow(TSNode root, uint32_t begin, uint32_t end) {
  size_ = 0;
  if (ts_node_is_null(root)) return;
  const bool whole = begin == 0 && end == UINT32_MAX;
  // Rust averages a visible node per three to four bytes of source.
  const size_t guess = whole ? (ts_node_end_byte(root) - ts_node_start_byte(root)) / 3 + 16
                             : (end - begin) / 3 + 1024;
  if (capacity_ < guess) {
    nodes_.reset(new Node[guess]);
    capacity_ = guess;
  }
  // The walk fills what it needs and grows the array through Grow.
  const size_t n = fg_ts_flatten(root, begin, end, nodes_.get(), capacity_, &Grow, this);
  if (n == SIZE_MAX) throw std::bad_alloc();
  size_ = n;
}

std::optional<uint32_t> FlatSyntaxTree::Find(TSNode n) const {
  if (ts_node_is_null(n)) return std::nullopt;
  const uint32_t start = ts_node_start_byte(n);
  const Node* first = nodes_.get();
  const Node* last = first + size_;
  const Node* it = std::lower_bound(
      first, last, start, [](const Node& node, uint32_t s) { return node.start_byte < s; });
  for (; it != last && it->start_byte == start; ++it) {
    if (ts_node_eq(it->node, n)) return static_cast<uint32_t>(it - first);
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
