// Per-crate name resolution (DESIGN.md, Graph; issue 3): which item a path
// written in a module names, the way rustc's resolver decides it.
//
// The input is one crate's module tree: for each module its canonical path,
// the items it directly declares and its `use` imports (as extracted, see
// graph/extract.h), plus the crates visible by name (workspace crates already
// resolved, and external crates known only by name). ResolvedCrate::Build
// resolves every import to a fixpoint across modules and freezes the result;
// Resolve() then answers for any path in any module.
//
// What is modelled:
// - Three namespaces (types, values, macros); a name may live in several.
// - Items, explicit imports, glob imports (shadowed by explicit items and
//   imports of the same module; they import only names visible to the
//   importing module), `self`, `super`, `crate`, `$crate`, leading `::`,
//   `extern crate x as y`, `as _` (resolved, but binds no name), renamed
//   imports, enum variants (`Enum::Variant`, `use Enum::*`), and associated
//   items given as children of a trait or enum.
// - The extern prelude (dependency names, `std`, `core`, `alloc`), the Rust
//   2021 std prelude, std's macros, primitive types, and derive names.
// - Import cycles terminate: each round of the fixpoint only adds bindings.
// - `pub use` re-exports in publicly reachable modules become public paths of
//   the item (regex::Regex for regex::re_unicode::Regex).
// - macro_rules! macros: textual scope (the defining module, its descendants,
//   and through `#[macro_use]` modules their parents), `#[macro_export]`
//   macros at the crate root.
//
// What is the caller's business: generic parameters, local variables and
// `Self` (they shadow module names; resolve them before asking here), the
// associated items of impls (a path whose prefix names a type reports how many
// segments were resolved), cfg evaluation (every item counts), and macro
// expansion. Not modelled: `#[macro_use] extern crate` macro imports, the
// order of textual macro definitions, `pub(in path)` (treated as pub(crate)).
//
// Thread safety: a built ResolvedCrate is immutable; its const methods may be
// called from many threads at once.
#ifndef FERROGRAPH_RESOLVE_RESOLVER_H_
#define FERROGRAPH_RESOLVE_RESOLVER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ferrograph/graph.h"
#include "ferrograph/ids.h"
#include "graph/extract.h"

namespace ferrograph {

enum class Namespace : uint8_t { kType, kValue, kMacro };

// An item declared directly in a module (not a submodule: submodules are
// ModuleInputs of their own; not an impl or its items).
struct ItemInput {
  std::string name;
  NodeKind kind = NodeKind::kFunction;
  Visibility visibility = Visibility::kPrivate;
  NodeId id;
  // Index, in the same module's `items`, of the enum whose variant or the
  // trait whose associated item this is; -1 for an item of the module itself.
  // Children are reachable as `Parent::child` (and enum variants through
  // `use Enum::*`); a parent must precede its children.
  int parent = -1;
  bool macro_export = false;  // a macro_rules! with #[macro_export]
  // Its #[cfg] is false for the build being modelled. Such an item still
  // binds its name, but an item of the same name whose cfg holds wins
  // (`#[cfg(miri)] mod imp;` / `#[cfg(not(miri))] mod imp;`).
  bool cfg_off = false;
};

class ResolvedCrate;

// A module, the crate root, or an anonymous block scope (a fn body holding
// items or `use`s: its names shadow the enclosing module's, and unresolved
// names fall back to it; `self`/`super` mean the enclosing module's).
struct ModuleInput {
  std::string path;  // canonical: "regex::re_unicode"; the root: "regex"
  std::string name;  // last segment; ignored for the root and block scopes
  int parent = -1;   // index of the enclosing module; must be < own index; -1 only for the root
  NodeId id;         // the module's (or crate's) node; zero for a block scope
  Visibility visibility = Visibility::kPrivate;
  bool block = false;
  bool macro_use = false;  // #[macro_use] on the `mod`: its textual macros reach the parent
  bool cfg_off = false;    // as ItemInput::cfg_off
  std::vector<ItemInput> items;
  std::vector<UseImport> imports;  // UseImport::item and ::line are not used
};

// A crate visible by name in every module (Cargo dependency, or the target's
// own library for binaries and tests).
struct CrateDependency {
  std::string name;  // as written in paths: the dependency key, renamed: "json"
  // A crate of the workspace, already resolved: paths go into its items.
  // Null: an external crate; paths through it become external paths.
  std::shared_ptr<const ResolvedCrate> crate;
  // For an external crate, its real name in external paths ("serde_json"
  // for `json = { package = "serde_json" }`); "" means `name`.
  std::string external_name;
};

struct CrateInput {
  std::string name;  // "regex"
  // Rust 2015: `use` paths start at the crate root (`use de::Error;` in serde
  // means `crate::de::Error`), and a leading `::` names the crate root.
  bool edition_2015 = false;
  std::vector<ModuleInput> modules;  // modules[0] is the crate root
  std::vector<CrateDependency> dependencies;
};

enum class ResolutionKind : uint8_t {
  kUnresolved,
  kItem,      // an indexed item: of this crate or a workspace dependency
  kExternal,  // a path outside the index: "std::fmt::Display", "serde::Serialize"
};

// How the first segment of the path came into scope.
enum class ResolvedVia : uint8_t {
  kNone,
  kItem,          // declared in the scope, or a `crate`/`self`/`super`/`::` path
  kImport,        // an explicit `use` (or `extern crate`)
  kGlobImport,    // a glob `use`
  kExternCrate,   // a crate name of the extern prelude (a dependency, std, core, alloc)
  kPrelude,       // the std prelude (types, values and macros)
  kPrimitive,     // a primitive type: `u32::MAX`, `str::from_utf8`
  kTextualMacro,  // a macro_rules! in textual scope
  kExternalGlob,  // not found anywhere else; assumed from the only glob of an external module
  kDerive,        // a built-in derive (ResolveDerive only)
};

std::string_view ResolutionKindName(ResolutionKind kind);  // "unresolved", "item", "external"
std::string_view ResolvedViaName(ResolvedVia via);         // "import", "glob_import", ...

struct Resolution {
  ResolutionKind kind = ResolutionKind::kUnresolved;
  ResolvedVia via = ResolvedVia::kNone;
  // kItem: the item (a module names its module or crate node) and its crate.
  NodeId id;
  NodeKind node_kind = NodeKind::kExternal;
  std::string crate_name;
  // kExternal: the full path, the segments after the external prefix
  // appended as written.
  std::string external_path;
  // How many segments were resolved. Equal to the path's length when the
  // whole path resolved; smaller for a kItem whose prefix names a type (a
  // struct, enum, trait, alias): the remaining segments are associated items
  // (`Regex::new`), for the caller to look up in the type's impls.
  size_t resolved_segments = 0;

  bool resolved() const { return kind != ResolutionKind::kUnresolved; }
  bool complete(size_t path_size) const { return resolved() && resolved_segments == path_size; }
};

// A public path under which an item is reachable through `pub use` (or
// `#[macro_export]`), besides its canonical path.
struct ReExport {
  NodeId id;
  std::string path;  // "regex::Regex"
};

class ResolvedCrate {
 public:
  // Resolves the crate's imports to a fixpoint and freezes the result. Never
  // fails: malformed input (a bad parent index) is repaired (the module hangs
  // off the root), unresolvable imports are recorded as unresolved.
  static std::shared_ptr<const ResolvedCrate> Build(const CrateInput& input);

  ~ResolvedCrate();
  ResolvedCrate(const ResolvedCrate&) = delete;
  ResolvedCrate& operator=(const ResolvedCrate&) = delete;

  // What `path`, written in module `module` (an index into the input's
  // modules), names in namespace `ns`. Intermediate segments are looked up in
  // the type namespace. A single-segment macro name looks at textual scope
  // first. An out-of-range module gives kUnresolved.
  Resolution Resolve(int module, std::span<const std::string> path, Namespace ns) const;

  // A `#[derive(...)]` entry: a derive macro in scope (imported, in the
  // macro namespace), else a built-in derive, resolved to its std trait
  // (`Debug` -> std::fmt::Debug, `Hash` -> std::hash::Hash).
  Resolution ResolveDerive(int module, std::span<const std::string> path) const;

  // What `modules[module].imports[import]` resolved to (the type namespace
  // first, then value, then macro); kUnresolved for a bad index.
  Resolution ImportResolution(int module, size_t import) const;

  // Public paths of an item through re-exports, sorted; empty when none.
  std::span<const std::string> PublicPaths(NodeId id) const;
  // Every re-export, sorted by path.
  const std::vector<ReExport>& reexports() const;

  const std::string& name() const;
  size_t module_count() const;

  class Impl;

 private:
  explicit ResolvedCrate(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferrograph

#endif  // FERROGRAPH_RESOLVE_RESOLVER_H_
