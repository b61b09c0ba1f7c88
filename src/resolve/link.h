// Crate linking (DESIGN.md, Graph; issue 3): from one crate's extracted files
// to its resolved edges.
//
// LinkCrate builds the crate's module tree for the resolver (modules, inline
// modules, the block scopes of fn bodies that declare items or `use`s), runs
// ResolvedCrate over it, and turns every reference the extraction recorded
// into edges, each owned by the file the reference is written in:
//
//   IMPLEMENTS    impl -> trait; type -> trait for each #[derive] entry
//                 (props {"derive":true})
//   IMPL_FOR      impl -> self type (not for a bare generic `impl<T> X for T`)
//   CALLS         fn -> callee, at the call site's line, props
//                 {"resolved": "exact"|"import"|"method"|"name_only"}:
//                   exact      a path resolved through items of the scope
//                              (`helper()`, `crate::a::f()`, `Self::new()`,
//                              `Type::assoc()`, `<X as Tr>::f()`)
//                   import     the path's first segment came in by a `use`
//                   method     `recv.m()` on a receiver whose type is known
//                              (self, a typed parameter or let, a constructor
//                              call), found in the type's impls or traits, or
//                              in a generic's trait bounds
//                   name_only  nothing better: every function of the crate
//                              with that name (methods for `.m()` calls),
//                              when there are at most kMaxNameOnlyCandidates;
//                              props also carry "candidates"
//                 Tuple-struct and variant constructors are not calls.
//   USES_TYPE     fn/field/alias/impl/const -> type, props {"role": ...}
//                 (TypeRefRoleName; bounds and impl traits are BOUND and
//                 IMPLEMENTS instead)
//   IMPORTS       use -> the item (module, enum for globs) it imports, props
//                 {"glob":true} or {"alias":"name"} when so
//   MACRO_INVOKES fn -> macro_rules! definition (or external macro) for each
//                 `name!(..)` in a body
//   HAS_GENERIC   item -> each of its generic params
//   BOUND         generic param -> trait (inline bounds and where-clauses);
//                 `Self: Tr` / supertraits and where-clauses on other types
//                 start at the item itself (props {"on":"Self"} / {"on":"where"})
//
// Paths that leave the index become `external` nodes (std::fmt::Display),
// returned for the caller to store under the crate's external pseudo file.
//
// Deterministic: the same input gives the same edges in the same order.
#ifndef FERROGRAPH_RESOLVE_LINK_H_
#define FERROGRAPH_RESOLVE_LINK_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ferrograph/graph.h"
#include "ferrograph/stats.h"
#include "graph/extract.h"
#include "resolve/cfg.h"
#include "resolve/resolver.h"

namespace ferrograph {

inline constexpr size_t kMaxNameOnlyCandidates = 8;

// One file of the crate, in module-tree order (a module's file before the
// files of its submodules).
struct LinkFile {
  std::string path;         // the file, as edges record it
  std::string module_path;  // canonical path of the module it implements
  NodeId module_id;         // that module's node (the crate node for the root)
  bool is_crate_root = false;
  bool synthesized = false;  // a plain-directory file no `mod` declares (public)
  const FileExtraction* extraction = nullptr;
  // nodes[i] is the node built from extraction->items[i].
  std::span<const Node> nodes;
  // Output: the resolved edges this file's references produce.
  std::vector<Edge> edges;
};

// A linked crate, as its dependents see it: its resolver and the items its
// impls and traits attach to types (for `dep::Type::f()` and methods on a
// dependency's types). Immutable; shared between threads freely.
struct LinkedCrate;
std::shared_ptr<const ResolvedCrate> ResolverOf(const LinkedCrate& linked);

struct LinkInput {
  std::string crate_key;  // the store's crate key (seeds external node ids)
  std::string crate_name;
  NodeId crate_id;
  bool edition_2015 = false;
  std::vector<CrateDependency> dependencies;
  // The build whose #[cfg]s are modelled: where a name is defined several
  // times under different cfgs, the definition whose cfg holds wins, and
  // call candidates under a false cfg are dropped when others remain. Null:
  // every cfg counts as true.
  const CfgSet* cfg = nullptr;
  // Crates of the workspace this one depends on, already linked (their
  // resolvers go into `dependencies` too, under the names the code uses).
  std::vector<std::shared_ptr<const LinkedCrate>> linked_dependencies;
};

using LinkStats = CallResolutionStats;

struct LinkResult {
  std::vector<Node> externals;  // sorted by path, unique
  LinkStats stats;
  std::shared_ptr<const LinkedCrate> linked;  // for the crates that depend on this one
};

LinkResult LinkCrate(const LinkInput& input, std::span<LinkFile> files);

}  // namespace ferrograph

#endif  // FERROGRAPH_RESOLVE_LINK_H_
