// Text names of the graph vocabulary (include/ferrograph/graph.h).
#include <array>

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

}  // namespace ferrograph
