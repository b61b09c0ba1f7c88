// The code graph's vocabulary: node kinds, edge kinds, and the Node and Edge
// records that the store keeps and queries return.
//
// Kind names (KindName) are the stable text forms used in the database, in
// `export` and in --json output; they never change meaning once released.
#ifndef FERROGRAPH_GRAPH_H_
#define FERROGRAPH_GRAPH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferrograph/ids.h"

namespace ferrograph {

enum class NodeKind : uint8_t {
  kCrate,
  kModule,
  kFunction,
  kMethod,  // a function inside an impl or trait that takes self
  kStruct,
  kEnum,
  kVariant,
  kUnion,
  kField,
  kTrait,
  kImpl,
  kConst,
  kStatic,
  kTypeAlias,  // `type X = ...;`, also associated types
  kMacro,      // macro_rules! definition
  kUse,
  kGenericParam,
  kExternal,  // a path outside the indexed code
};
inline constexpr int kNodeKindCount = 18;

enum class EdgeKind : uint8_t {
  kContains,
  kImplements,
  kImplFor,
  kCalls,
  kUsesType,
  kImports,
  kMacroInvokes,
  kMacroExpands,
  kHasGeneric,
  kBound,
};
inline constexpr int kEdgeKindCount = 10;

enum class Visibility : uint8_t {
  kPrivate,     // no modifier
  kPublic,      // pub
  kCrate,       // pub(crate)
  kSuper,       // pub(super)
  kRestricted,  // pub(in path) / pub(self)
};

// "function", "type_alias", ... ; "CONTAINS", "IMPL_FOR", ...; "pub(crate)" ...
std::string_view KindName(NodeKind kind);
std::string_view KindName(EdgeKind kind);
std::string_view VisibilityName(Visibility vis);
std::optional<NodeKind> ParseNodeKind(std::string_view name);
std::optional<EdgeKind> ParseEdgeKind(std::string_view name);
std::optional<Visibility> ParseVisibility(std::string_view name);

// Canonical paths: "a::b::C" -> {"a", "b", "C"}; a `<X as a::T>` segment
// stays whole ("m::<X as a::T>::f" -> {"m", "<X as a::T>", "f"}); spaces
// outside `<...>` are dropped.
std::vector<std::string> SplitPath(std::string_view path);
// The last segment of a path ("C" for "a::b::C"), by the same rules.
std::string_view LastPathSegment(std::string_view path);

// A half-open byte range with 1-based inclusive lines.
struct Span {
  uint32_t start_byte = 0;
  uint32_t end_byte = 0;
  uint32_t start_line = 0;  // 1-based
  uint32_t end_line = 0;    // 1-based, inclusive
  friend bool operator==(const Span&, const Span&) = default;
};

struct Node {
  NodeId id;
  NodeKind kind = NodeKind::kFunction;
  std::string name;
  std::string path;        // canonical path: "regex::bytes::Regex::new"
  std::string crate_name;  // "regex"
  std::string file;        // path relative to the indexed root, '/'-separated
  Span span;
  Visibility visibility = Visibility::kPrivate;
  std::string signature;             // declaration text up to the body, whitespace collapsed
  std::string docs;                  // doc comment text, markers stripped, lines joined by '\n'
  std::vector<std::string> cfgs;     // each #[cfg(...)] predicate text, outermost first
  std::vector<std::string> derives;  // #[derive(A, B)] -> {"A", "B"}
  std::vector<std::string> attrs;    // other attribute texts, e.g. "macro_export"
  std::string in_macro;              // the item-position macro whose tokens held this item, or ""
  ContentHash content_hash;
  // The node that CONTAINS this one (module, impl, trait, struct, ...); zero
  // for a crate. CONTAINS edges are this relation seen as edges.
  NodeId parent;
};

struct Edge {
  EdgeKind kind = EdgeKind::kContains;
  NodeId src;
  NodeId dst;
  // The file whose content produced the edge, as the store reports it. Edges
  // in a FileUpdate (and a LinkFile's) leave it empty: theirs is that file.
  std::string file;
  uint32_t line = 0;  // site line when meaningful (a call site), else 0
  std::string props;  // JSON object text of further properties, "" when none
};

}  // namespace ferrograph

#endif  // FERROGRAPH_GRAPH_H_
