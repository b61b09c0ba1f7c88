// History: the states of nodes across versions, and the difference
// between two versions (Engine::History, Engine::Diff).
#ifndef FERROGRAPH_HISTORY_H_
#define FERROGRAPH_HISTORY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ferrograph/graph.h"

namespace ferrograph {

// One stored state of a node: its row and the versions it is valid over,
// [valid_from, valid_to) (valid_to nullopt: still current).
struct NodeRevision {
  Node node;
  int64_t valid_from = 0;
  std::optional<int64_t> valid_to;
  std::optional<std::string> source;  // filled when asked for
};

// What changed between two versions: nodes by NodeId (added, removed,
// changed content, or moved: same content, new span or metadata) and
// stored edges (CONTAINS follows the nodes' parents and is not listed).
struct GraphDiff {
  int64_t from = 0;
  int64_t to = 0;
  struct Change {
    Node before;
    Node after;
  };
  std::vector<Node> added;
  std::vector<Node> removed;
  std::vector<Change> changed;
  std::vector<Change> moved;
  bool with_edges = false;
  std::vector<Edge> edges_added;
  std::vector<Edge> edges_removed;
  // Edges rewritten with a new line only (a call site that moved): neither
  // added nor removed.
  int64_t edges_moved = 0;
};

// What dropping old versions removed.
struct HistoryGcReport {
  int64_t versions_removed = 0;
  int64_t node_rows_removed = 0;
  int64_t edge_rows_removed = 0;
  int64_t file_rows_removed = 0;
  int64_t contents_removed = 0;
};

}  // namespace ferrograph

#endif  // FERROGRAPH_HISTORY_H_
