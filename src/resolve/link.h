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
  // Optional: the owner of *extraction. LiveCrateLink keeps a reference to
  // it instead of a copy of the extraction.
  std::shared_ptr<const FileExtraction> shared_extraction;
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

// A digest of what the links of the whole crate read of one file: its
// items (ids, kinds, names, paths, visibility, signatures, cfgs, derives,
// attributes, nesting), module declarations, imports and the type
// references outside bodies. A file edited without changing it (a body,
// a doc comment, lines moved) changes its own edges only.
ContentHash LinkInterface(const FileExtraction& extraction, std::span<const Node> nodes);

// A linked crate kept for the next edit (`ferrograph watch`): it owns
// copies of its files' extractions and nodes, and relinks one file whose
// LinkInterface is unchanged in the time of that file's references,
// instead of the whole crate's. Relinking gives the same edges, externals
// and stats as linking the whole crate again (tested). Not thread-safe;
// linked() is immutable and unchanged by Relink.
class LiveCrateLink {
 public:
  // Links the crate as LinkCrate does (files[f].edges and *result filled).
  static std::unique_ptr<LiveCrateLink> Link(const LinkInput& input, std::span<LinkFile> files,
                                             LinkResult* result);
  ~LiveCrateLink();
  LiveCrateLink(const LiveCrateLink&) = delete;
  LiveCrateLink& operator=(const LiveCrateLink&) = delete;

  size_t file_count() const;
  const std::string& path(size_t f) const;
  const std::string& module_path(size_t f) const;
  const ContentHash& interface(size_t f) const;  // LinkInterface of file f as kept
  const LinkInput& input() const;                // as linked (dependencies included)

  // File f now has this extraction and these nodes, of the same interface
  // (the caller checked): its edges, as linking the crate would give them.
  void Relink(size_t f, std::shared_ptr<const FileExtraction> extraction,
              std::span<const Node> nodes, std::vector<Edge>* edges);
  // The same with a copy of `extraction`.
  void Relink(size_t f, const FileExtraction& extraction, std::span<const Node> nodes,
              std::vector<Edge>* edges);
  // The crate's external nodes (every file's), sorted by path.
  std::vector<Node> Externals() const;
  LinkStats stats() const;
  std::shared_ptr<const LinkedCrate> linked() const;

 private:
  LiveCrateLink();
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace ferrograph

#endif  // FERROGRAPH_RESOLVE_LINK_H_
