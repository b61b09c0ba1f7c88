// SubgraphToDot (query.h): a neighbourhood as a Graphviz digraph.
#include <fmt/core.h>

#include <string>
#include <string_view>

#include "ferrograph/query.h"

namespace ferrograph {

namespace {

// A DOT double-quoted string: quotes and backslashes escaped (so that label
// escapes such as \N never fire by accident), line breaks as \n, other
// control characters dropped.
std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out += c;
    }
  }
  out += '"';
  return out;
}

}  // namespace

std::string SubgraphToDot(const Subgraph& g) {
  std::string out;
  out += fmt::format("// ferrograph graph: {} nodes, {} edges, depth {}\n", g.nodes.size(),
                     g.edges.size(), g.depth);
  if (g.truncated)
    out += "// truncated: more nodes were in reach than the node limit (--max-nodes) allows\n";
  out += "digraph ferrograph {\n";
  out += "  graph [rankdir=LR];\n";
  out += "  node [shape=box, fontname=\"monospace\", fontsize=10];\n";
  out += "  edge [fontname=\"monospace\", fontsize=9];\n";
  for (const SubgraphNode& n : g.nodes) {
    std::string label = n.node.path + "\n" + std::string(KindName(n.node.kind));
    out += fmt::format("  {} [label={}{}];\n", Quote(n.node.id.str()), Quote(label),
                       n.depth == 0 ? ", style=bold" : "");
  }
  for (const SubgraphEdge& e : g.edges) {
    std::string label(KindName(e.kind));
    if (e.count > 1) label += fmt::format(" x{}", e.count);
    out += fmt::format("  {} -> {} [label={}];\n", Quote(e.src.str()), Quote(e.dst.str()),
                       Quote(label));
  }
  out += "}\n";
  return out;
}

}  // namespace ferrograph
