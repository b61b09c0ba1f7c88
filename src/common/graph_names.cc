// Text names of the graph vocabulary (include/ferrograph/graph.h).
#include <array>
#include <cctype>

#include "ferrograph/graph.h"

namespace ferrograph {

namespace {
constexpr std::array<std::string_view, kNodeKindCount> kNodeKindNames = {
    "crate",   "module",     "function", "method", "struct",        "enum",
    "variant", "union",      "field",    "trait",  "impl",          "const",
    "static",  "type_alias", "macro",    "use",    "generic_param", "external",
};
constexpr std::array<std::string_view, kEdgeKindCount> kEdgeKindNames = {
    "CONTAINS", "IMPLEMENTS",    "IMPL_FOR",      "CALLS",       "USES_TYPE",
    "IMPORTS",  "MACRO_INVOKES", "MACRO_EXPANDS", "HAS_GENERIC", "BOUND",
};
constexpr std::array<std::string_view, 5> kVisibilityNames = {
    "private", "pub", "pub(crate)", "pub(super)", "pub(restricted)",
};

template <typename Enum, size_t N>
std::optional<Enum> Lookup(const std::array<std::string_view, N>& names, std::string_view name) {
  for (size_t i = 0; i < N; ++i)
    if (names[i] == name) return static_cast<Enum>(i);
  return std::nullopt;
}
}  // namespace

std::string_view KindName(NodeKind kind) { return kNodeKindNames[static_cast<size_t>(kind)]; }
std::string_view KindName(EdgeKind kind) { return kEdgeKindNames[static_cast<size_t>(kind)]; }
std::string_view VisibilityName(Visibility vis) {
  return kVisibilityNames[static_cast<size_t>(vis)];
}
std::optional<NodeKind> ParseNodeKind(std::string_view name) {
  return Lookup<NodeKind>(kNodeKindNames, name);
}
std::optional<EdgeKind> ParseEdgeKind(std::string_view name) {
  return Lookup<EdgeKind>(kEdgeKindNames, name);
}
std::optional<Visibility> ParseVisibility(std::string_view name) {
  return Lookup<Visibility>(kVisibilityNames, name);
}

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '<') ++depth;
    if (c == '>' && depth > 0) --depth;
    if (depth == 0 && c == ':' && i + 1 < path.size() && path[i + 1] == ':') {
      out.push_back(std::move(cur));
      cur.clear();
      ++i;
      continue;
    }
    if (depth > 0 || !std::isspace(static_cast<unsigned char>(c))) cur.push_back(c);
  }
  out.push_back(std::move(cur));
  return out;
}

std::string_view LastPathSegment(std::string_view path) {
  int depth = 0;
  for (size_t i = path.size(); i-- > 0;) {
    char c = path[i];
    if (c == '>') ++depth;
    if (c == '<' && depth > 0) --depth;
    if (depth == 0 && c == ':' && i > 0 && path[i - 1] == ':') return path.substr(i + 1);
  }
  return path;
}

}  // namespace ferrograph
