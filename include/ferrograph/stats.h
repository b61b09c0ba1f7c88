// Reports about the stored graph: versions, the delta of one write, and
// counts of the current graph. Plain values.
#ifndef FERROGRAPH_STATS_H_
#define FERROGRAPH_STATS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "ferrograph/ids.h"

namespace ferrograph {

struct VersionInfo {
  int64_t ordinal = 0;  // 1, 2, 3... in commit order
  Version uuid;
  uint64_t time_ms = 0;
  std::string summary;  // JSON object
};

// What one write transaction changed.
struct WriteStats {
  int64_t nodes_added = 0;
  int64_t nodes_removed = 0;
  int64_t nodes_changed = 0;  // same NodeId, new content hash
  int64_t nodes_moved = 0;    // same NodeId and content, new span or metadata
  int64_t edges_added = 0;
  int64_t edges_removed = 0;
  int64_t edges_moved = 0;  // same edge, new line (its call site moved)
  int64_t files_added = 0;
  int64_t files_changed = 0;
  int64_t files_removed = 0;
  // Rows the write inserted or closed (nodes, edges, files, span overlays):
  // the work, where the counts above are the meaning.
  int64_t rows_written = 0;
  bool empty() const {
    return nodes_added + nodes_removed + nodes_changed + nodes_moved + edges_added + edges_removed +
               edges_moved + files_added + files_changed + files_removed ==
           0;
  }
};

// How the call sites of the crates resolved in one index run were linked
// (resolve/link.h): each call site counts once, by its best resolution.
struct CallResolutionStats {
  uint64_t calls = 0;            // path and method call sites seen
  uint64_t calls_exact = 0;      // a path resolved through the scope's items
  uint64_t calls_import = 0;     // a path whose first segment came in by `use`
  uint64_t calls_method = 0;     // a method on a receiver of known type
  uint64_t calls_name_only = 0;  // candidates by name only
  uint64_t calls_external = 0;   // a callee outside the index (std, other crates)
  uint64_t calls_unresolved = 0;

  CallResolutionStats& operator+=(const CallResolutionStats& o) {
    calls += o.calls;
    calls_exact += o.calls_exact;
    calls_import += o.calls_import;
    calls_method += o.calls_method;
    calls_name_only += o.calls_name_only;
    calls_external += o.calls_external;
    calls_unresolved += o.calls_unresolved;
    return *this;
  }
};

struct GraphStats {
  int64_t crates = 0;
  int64_t files = 0;
  int64_t nodes = 0;
  int64_t edges = 0;
  int64_t versions = 0;
  int64_t contents = 0;  // distinct file texts stored (every version)
  std::map<std::string, int64_t> nodes_by_kind;
  std::map<std::string, int64_t> edges_by_kind;
  std::optional<VersionInfo> latest;
};

}  // namespace ferrograph

#endif  // FERROGRAPH_STATS_H_
