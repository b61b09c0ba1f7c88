// Results of the Engine's graph queries: call trees (callers, callees), the
// uses of a type, shortest paths, and neighbourhoods, with the Graphviz DOT
// rendering of a neighbourhood. Plain values that own what they hold;
// thread-compatible.
//
// Every query takes a set of start nodes rather than one: an `external` path
// such as std::mem::swap is one node per crate that refers to it, and the
// queries treat such a set as a single node.
#ifndef FERROGRAPH_QUERY_H_
#define FERROGRAPH_QUERY_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ferrograph/graph.h"
#include "ferrograph/ids.h"

namespace ferrograph {

// ---- implementations ----

// One implementation of a trait, or one impl of a type: an impl block with
// its self type and trait (trait empty for an inherent impl), or a derive
// (no impl block; the deriving type's place).
struct Implementation {
  std::optional<Node> impl;  // nullopt for a derive
  std::string self_type;     // path; "" when unknown
  std::string trait;         // path; "" for an inherent impl
  std::string file;
  uint32_t line = 0;
};

// ---- callers / callees ----

enum class CallDirection : uint8_t {
  kCallers,  // follow CALLS edges backwards: who calls the root
  kCallees,  // follow CALLS edges forwards: what the root calls
};

// One call site: a CALLS edge's file and line, and how the indexer resolved
// the callee ("exact", "import", "method", "name_only"; "" when the edge does
// not say). `candidates` is the number of callees a name-only call site
// fanned out to (0 when the edge does not say).
struct CallSite {
  std::string file;
  uint32_t line = 0;
  std::string resolved;
  int candidates = 0;
};
// The call site of a CALLS edge (its props say how it was resolved).
CallSite CallSiteOf(const Edge& e);

struct CallTreeOptions {
  // Levels of calls to follow; 1 lists the direct callers (callees) only.
  int depth = 1;
  // At most this many distinct nodes in the tree; further ones are left out
  // and the tree is marked truncated.
  size_t max_nodes = 1000;
};

// One line of a call tree. Entries come in depth-first order of the tree, so
// an entry's children follow it directly, at depth + 1.
struct CallTreeEntry {
  int depth = 1;    // 1: calls the root (callers) or is called by it (callees)
  int parent = -1;  // index of the entry this one hangs under; -1: the root
  Node node;
  // The CALLS edges between this node and its parent, as call sites (in the
  // caller's code), sorted by file and line, duplicates removed.
  std::vector<CallSite> sites;
  // The node is expanded at another place of the tree (or is a root), where
  // its own calls are listed; this entry is a leaf. `cycle` when the node is
  // this entry's own ancestor or a root (recursion).
  bool repeated = false;
  bool cycle = false;
};

struct CallTree {
  CallDirection direction = CallDirection::kCallers;
  std::vector<Node> roots;  // the queried node(s)
  int depth = 1;
  std::vector<CallTreeEntry> entries;
  size_t distinct_nodes = 0;  // nodes other than the roots, each counted once
  bool truncated = false;     // max_nodes was reached
};

// ---- uses of a type ----

// One USES_TYPE edge into the type: where, and in what role ("param",
// "return", "field", "alias", "impl_self", "impl_trait", "bound",
// "generic_arg", "other"; "" when the edge does not say).
struct TypeUseSite {
  std::string file;
  uint32_t line = 0;
  std::string role;
};

// A node that uses the type, with every site of that use.
struct TypeUse {
  Node user;
  std::vector<TypeUseSite> sites;  // sorted by file, line, role
};

// ---- paths ----

struct PathOptions {
  // Follow edges forwards only (src to dst); otherwise either way.
  bool directed = true;
  // Edge kinds to follow; empty means all (CONTAINS included).
  std::vector<EdgeKind> kinds;
  // Stop after this many nodes were reached without finding a path.
  size_t max_visited = 200000;
};

// One hop of a path: the edge and the node it leads to. `forward` when the
// hop follows the edge from src to dst (always, for a directed path).
struct PathStep {
  Edge edge;
  bool forward = true;
  Node node;
};

struct PathResult {
  bool found = false;
  bool directed = true;
  Node start;                   // the first node (one of the `from` set)
  std::vector<PathStep> steps;  // empty when start is already a target
  size_t visited = 0;           // nodes reached by the search
  bool bound_hit = false;       // stopped at max_visited; a path may exist
};

// ---- neighbourhoods ----

struct SubgraphOptions {
  // Hops from the roots, following edges either way.
  int depth = 1;
  // Edge kinds to follow; empty means all.
  std::vector<EdgeKind> kinds;
  // At most this many nodes; the subgraph is marked truncated when more
  // were in reach.
  size_t max_nodes = 200;
};

struct SubgraphNode {
  Node node;
  int depth = 0;  // hops from the nearest root; 0 for a root
};

// Edges between the same two nodes of the same kind are one SubgraphEdge.
struct SubgraphEdge {
  EdgeKind kind = EdgeKind::kContains;
  NodeId src;
  NodeId dst;
  int count = 1;  // how many stored edges (several call sites, say)
};

struct Subgraph {
  std::vector<SubgraphNode> nodes;  // roots first, then by depth and path
  std::vector<SubgraphEdge> edges;  // both ends in `nodes`; in node order of src, kind, dst
  int depth = 1;
  bool truncated = false;
};

// The subgraph as a Graphviz digraph: node ids are the quoted NodeId hex,
// labels hold the canonical path and kind (escaped), edge labels the kind
// (with the count when > 1); roots drawn bold. A truncated subgraph says so
// in a comment.
std::string SubgraphToDot(const Subgraph& g);

}  // namespace ferrograph

#endif  // FERROGRAPH_QUERY_H_
