#include "resolve/link.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "hash/blake3_hasher.h"

namespace ferrograph {
namespace {

std::string LastSegment(std::string_view path) { return std::string(LastPathSegment(path)); }

bool IsTypeKind(NodeKind k) {
  return k == NodeKind::kStruct || k == NodeKind::kEnum || k == NodeKind::kUnion ||
         k == NodeKind::kTrait || k == NodeKind::kTypeAlias;
}

bool IsCallable(NodeKind k) { return k == NodeKind::kFunction || k == NodeKind::kMethod; }

bool IsBody(NodeKind k) {
  return k == NodeKind::kFunction || k == NodeKind::kMethod || k == NodeKind::kConst ||
         k == NodeKind::kStatic;
}

// `Some`, `Ok`, `Point`: a constructor, not a call, by Rust's naming rules.
bool LooksLikeConstructor(std::string_view name) {
  return !name.empty() && std::isupper(static_cast<unsigned char>(name[0]));
}

std::string ResolvedProps(std::string_view how) {
  std::string s = R"({"resolved":")";
  s += how;
  s += "\"}";
  return s;
}

std::string NameOnlyProps(size_t candidates) {
  return R"({"resolved":"name_only","candidates":)" + std::to_string(candidates) + "}";
}

// A JSON string literal of an identifier-like text (escapes what must be).
std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// Whether every cfg option a predicate mentions is one the modelled build
// decides: rustc's own (and docs.rs's `docsrs`), or one the build sets. A
// custom name nobody sets (`loom`, a build script's cfg we could not see)
// leaves the predicate undecided rather than false.
bool DecidedBy(std::string_view pred, const CfgSet& set) {
  static constexpr std::string_view kRustc[] = {"all",
                                                "any",
                                                "not",
                                                "true",
                                                "false",
                                                "unix",
                                                "windows",
                                                "test",
                                                "doc",
                                                "doctest",
                                                "miri",
                                                "debug_assertions",
                                                "overflow_checks",
                                                "proc_macro",
                                                "panic",
                                                "feature",
                                                "target_os",
                                                "target_family",
                                                "target_arch",
                                                "target_pointer_width",
                                                "target_endian",
                                                "target_env",
                                                "target_vendor",
                                                "target_abi",
                                                "target_has_atomic",
                                                "target_feature",
                                                "target_thread_local",
                                                "relocation_model",
                                                "sanitize",
                                                "docsrs",
                                                "ub_checks",
                                                "fmt_debug"};
  for (size_t i = 0; i < pred.size();) {
    char c = pred[i];
    if (c == '"') {  // skip a string literal
      for (++i; i < pred.size() && pred[i] != '"'; ++i)
        if (pred[i] == '\\') ++i;
      ++i;
      continue;
    }
    if (!(std::isalpha(static_cast<unsigned char>(c)) || c == '_')) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < pred.size() &&
           (std::isalnum(static_cast<unsigned char>(pred[end])) || pred[end] == '_'))
      ++end;
    std::string_view name = pred.substr(i, end - i);
    i = end;
    if (name == "r" && i < pred.size() && (pred[i] == '#' || pred[i] == '"'))
      continue;  // a raw string r"..." / r#"..."#
    if (std::find(std::begin(kRustc), std::end(kRustc), name) != std::end(kRustc)) continue;
    if (!set.IsSet(name)) return false;
  }
  return true;
}

// What a type position names, in the context of an item.
struct TypeTarget {
  enum Kind { kNone, kItem, kExternal, kGeneric } kind = kNone;
  NodeId id;             // kItem: the type or trait
  std::string external;  // kExternal: its full path ("std::vec::Vec", "str", "[]")
  NodeKind node_kind = NodeKind::kExternal;
  std::vector<NodeId> bound_traits;  // kGeneric: the crate traits bounding it
  ResolvedVia via = ResolvedVia::kNone;
};

// The items a crate's impls and traits attach to a type or trait, by name.
struct Members {
  std::map<std::string, std::vector<NodeId>, std::less<>> inherent;
  std::map<std::string, std::vector<NodeId>, std::less<>> from_traits;  // items of trait impls
  std::vector<NodeId> traits;                                           // traits it implements
};

}  // namespace

// A crate's associated-item tables, for itself and the crates that depend on
// it (their calls into its types and traits).
struct LinkedCrate {
  std::shared_ptr<const ResolvedCrate> crate;
  std::unordered_map<NodeId, Members, FixedBytesHash> members;
  std::unordered_map<NodeId, std::map<std::string, std::vector<NodeId>, std::less<>>,
                     FixedBytesHash>
      trait_items;
  std::unordered_map<NodeId, std::vector<NodeId>, FixedBytesHash> supertraits;
};

std::shared_ptr<const ResolvedCrate> ResolverOf(const LinkedCrate& linked) { return linked.crate; }

namespace {

class Linker {
 public:
  Linker(const LinkInput& input, std::span<LinkFile> files) : in_(input), files_(files) {}

  LinkResult Run() {
    BuildModules();
    crate_ = ResolvedCrate::Build(crate_input_);
    tables_->crate = crate_;
    IndexImplsAndTraits();
    file_externals_.assign(files_.size(), {});
    file_stats_.assign(files_.size(), {});
    for (size_t f = 0; f < files_.size(); ++f) LinkFileEdges(f);
    LinkResult out;
    out.linked = tables_;
    out.stats = Stats();
    out.externals = Externals();
    return out;
  }

  // File f's extraction and nodes were replaced by ones of the same
  // interface (LinkInterface): the module tree, the resolver and the
  // impl and trait tables still hold; what points into the file's type
  // references is rebuilt, then its edges.
  void Relink(size_t f) {
    IndexFileRefs(f);
    IndexFileValues(f, /*replace=*/true);
    files_[f].edges.clear();
    LinkFileEdges(f);
  }

  // Every file's external references, sorted by path.
  std::vector<Node> Externals() const {
    std::set<std::string_view> used;
    for (const auto& paths : file_externals_) used.insert(paths.begin(), paths.end());
    std::vector<Node> out;
    out.reserve(used.size());
    for (std::string_view path : used) out.push_back(externals_.at(std::string(path)));
    return out;
  }

  LinkStats Stats() const {
    LinkStats total;
    for (const LinkStats& s : file_stats_) total += s;
    return total;
  }

  std::shared_ptr<const LinkedCrate> linked() const { return tables_; }

 private:
  // Per-file derived tables.
  struct FileInfo {
    std::vector<int> module;                      // items[i]'s enclosing module (or block scope)
    std::vector<int> block;                       // the block scope a body item opens, or -1
    std::vector<std::vector<int>> children;       // direct children, in order
    std::map<int, const PathSegments*> self_of;   // impl -> self type path
    std::map<int, const PathSegments*> trait_of;  // impl -> trait path
    std::multimap<int, const TypeRef*> bounds;    // declaring item -> its kBound refs
    std::vector<std::pair<int, size_t>> import_slot;  // imports[k] -> (module, position)
    std::vector<std::vector<uint32_t>> refs;          // items[i]'s type_refs, in order
  };

  // A type as written somewhere: type_refs[ref] of file f (its generic
  // arguments are the kGenericArg refs right after it), and what it names.
  struct TypeValue {
    TypeTarget target;
    size_t file = 0;
    int ref = -1;  // -1: no written type (Self of a trait, a constructor)
  };

  const ExtractedItem& Item(size_t f, int i) const {
    return files_[f].extraction->items[static_cast<size_t>(i)];
  }
  const Node& NodeOf(size_t f, int i) const { return files_[f].nodes[static_cast<size_t>(i)]; }

  // The resolution scope of references inside item i: its own block scope
  // (a body declaring items) or its enclosing module.
  int ScopeOf(size_t f, int i) const {
    if (i < 0) return file_module_[f];
    const FileInfo& fi = info_[f];
    return fi.block[static_cast<size_t>(i)] >= 0 ? fi.block[static_cast<size_t>(i)]
                                                 : fi.module[static_cast<size_t>(i)];
  }

  void BuildModules() {
    ModuleInput root;
    root.path = in_.crate_name;
    root.name = in_.crate_name;
    root.id = in_.crate_id;
    root.visibility = Visibility::kPublic;
    crate_input_.name = in_.crate_name;
    crate_input_.edition_2015 = in_.edition_2015;
    crate_input_.dependencies = in_.dependencies;
    crate_input_.modules.push_back(std::move(root));
    std::map<std::string, int> module_of_path{{in_.crate_name, 0}};
    std::map<std::string, Visibility> mod_visibility;  // `mod x;` declarations
    info_.resize(files_.size());
    file_module_.assign(files_.size(), 0);

    for (size_t f = 0; f < files_.size(); ++f) {
      LinkFile& lf = files_[f];
      const FileExtraction& ex = *lf.extraction;
      FileInfo& fi = info_[f];
      int fm = 0;
      if (!lf.is_crate_root) {
        ModuleInput m;
        m.path = lf.module_path;
        m.name = LastSegment(m.path);
        size_t cut = m.path.rfind("::");
        auto parent = module_of_path.find(cut == std::string::npos ? "" : m.path.substr(0, cut));
        m.parent = parent == module_of_path.end() ? 0 : parent->second;
        m.id = lf.module_id;
        m.cfg_off = cfg_off_.count(lf.module_id) > 0;
        auto vis = mod_visibility.find(m.path);
        m.visibility = lf.synthesized                ? Visibility::kPublic
                       : vis == mod_visibility.end() ? Visibility::kPrivate
                                                     : vis->second;
        fm = static_cast<int>(crate_input_.modules.size());
        crate_input_.modules.push_back(std::move(m));
        module_of_path.emplace(lf.module_path, fm);
      }
      file_module_[f] = fm;
      const size_t n = ex.items.size();
      fi.module.assign(n, fm);
      fi.block.assign(n, -1);
      fi.children.assign(n, {});
      IndexFileRefs(f);
      std::set<int> declared;  // `mod x;` items
      for (const ModDecl& md : ex.mods) declared.insert(md.item);
      // Bodies that declare items or `use`s get a block scope.
      std::vector<bool> needs_block(n, false);
      for (size_t i = 0; i < n; ++i) {
        int p = ex.items[i].parent;
        if (p < 0 || static_cast<size_t>(p) >= i) continue;
        fi.children[static_cast<size_t>(p)].push_back(static_cast<int>(i));
        if (IsBody(ex.items[p].kind) && ex.items[i].kind != NodeKind::kGenericParam)
          needs_block[static_cast<size_t>(p)] = true;
      }
      std::vector<int> inline_module(n, -1);
      std::vector<int> position(n, -1);  // in its scope's items
      for (size_t i = 0; i < n; ++i) {
        const ExtractedItem& item = ex.items[i];
        const Node& node = lf.nodes[i];
        int parent = item.parent >= 0 && static_cast<size_t>(item.parent) < i ? item.parent : -1;
        // Items directly in a module, an inline module or a block scope.
        int scope = parent < 0                   ? fm
                    : inline_module[parent] >= 0 ? inline_module[parent]
                    : fi.block[parent] >= 0      ? fi.block[parent]
                                                 : -1;
        bool direct = scope >= 0;
        int mod = direct ? scope : fi.module[static_cast<size_t>(parent)];
        fi.module[i] = mod;
        // Under a false cfg: its own, its parent's, or its file module's.
        if (in_.cfg != nullptr &&
            ((parent >= 0 ? cfg_off_.count(lf.nodes[static_cast<size_t>(parent)].id) > 0
                          : cfg_off_.count(lf.module_id) > 0) ||
             (!node.cfgs.empty() && CfgFalse(node.cfgs))))
          cfg_off_.insert(node.id);
        if (needs_block[i]) {
          ModuleInput b;
          b.block = true;
          b.parent = mod;
          b.path = crate_input_.modules[static_cast<size_t>(mod)].path;
          fi.block[i] = static_cast<int>(crate_input_.modules.size());
          crate_input_.modules.push_back(std::move(b));
        }
        if (item.kind == NodeKind::kModule) {
          if (declared.count(static_cast<int>(i))) {
            mod_visibility[node.path] = node.visibility;
          } else if (direct) {
            ModuleInput m;
            m.path = node.path;
            m.name = node.name;
            m.parent = mod;
            m.id = node.id;
            m.visibility = node.visibility;
            m.cfg_off = cfg_off_.count(node.id) > 0;
            inline_module[i] = static_cast<int>(crate_input_.modules.size());
            module_of_path.emplace(node.path, inline_module[i]);
            crate_input_.modules.push_back(std::move(m));
          }
          continue;
        }
        if (item.kind == NodeKind::kUse || item.kind == NodeKind::kImpl ||
            item.kind == NodeKind::kGenericParam || item.kind == NodeKind::kField)
          continue;
        ItemInput it;
        it.name = node.name;
        it.kind = node.kind;
        it.visibility = node.visibility;
        it.id = node.id;
        it.macro_export =
            std::find(node.attrs.begin(), node.attrs.end(), "macro_export") != node.attrs.end();
        it.cfg_off = cfg_off_.count(node.id) > 0;
        if (!direct) {
          // An enum's variant or a trait's associated item.
          if (parent < 0 || position[parent] < 0 ||
              (ex.items[parent].kind != NodeKind::kEnum &&
               ex.items[parent].kind != NodeKind::kTrait))
            continue;
          it.parent = position[parent];
        }
        position[i] = static_cast<int>(crate_input_.modules[static_cast<size_t>(mod)].items.size());
        crate_input_.modules[static_cast<size_t>(mod)].items.push_back(std::move(it));
      }
      fi.import_slot.assign(ex.imports.size(), {-1, 0});
      for (size_t k = 0; k < ex.imports.size(); ++k) {
        const UseImport& imp = ex.imports[k];
        if (imp.item < 0 || static_cast<size_t>(imp.item) >= n) continue;
        int parent = ex.items[static_cast<size_t>(imp.item)].parent;
        int scope = parent < 0                   ? fm
                    : inline_module[parent] >= 0 ? inline_module[parent]
                    : fi.block[parent] >= 0      ? fi.block[parent]
                                                 : -1;
        if (scope < 0) continue;
        // A `use` under its own false #[cfg] does not exist for the build
        // (serde's `#[cfg(not(feature = "std"))] pub use core::*;` beside
        // `#[cfg(feature = "std")] pub use std::*;`). One merely inside a
        // cfg-off module (tests) still serves that module's references.
        const Node& use_node = lf.nodes[static_cast<size_t>(imp.item)];
        if (in_.cfg != nullptr && !use_node.cfgs.empty() && CfgFalse(use_node.cfgs)) continue;
        auto& imports = crate_input_.modules[static_cast<size_t>(scope)].imports;
        fi.import_slot[k] = {scope, imports.size()};
        imports.push_back(imp);
      }
    }
  }

  // Item -> its type references, and the impl and bound references, of
  // file f (pointers into its extraction).
  void IndexFileRefs(size_t f) {
    const FileExtraction& ex = *files_[f].extraction;
    FileInfo& fi = info_[f];
    const size_t n = ex.items.size();
    fi.refs.assign(n, {});
    fi.self_of.clear();
    fi.trait_of.clear();
    fi.bounds.clear();
    for (size_t k = 0; k < ex.type_refs.size(); ++k) {
      const TypeRef& r = ex.type_refs[k];
      if (r.item < 0 || static_cast<size_t>(r.item) >= n) continue;
      fi.refs[static_cast<size_t>(r.item)].push_back(static_cast<uint32_t>(k));
      if (r.role == TypeRefRole::kImplSelf) fi.self_of.emplace(r.item, &r.path);
      if (r.role == TypeRefRole::kImplTrait) fi.trait_of.emplace(r.item, &r.path);
      if (r.role == TypeRefRole::kBound) fi.bounds.emplace(r.item, &r);
    }
  }

  // ---- type and trait tables

  // The written types file f's functions return, its aliases stand for and
  // its structs' fields have, as (file, reference) pairs. `replace`: file f
  // was relinked, and its entries (same items) point into the new
  // extraction; the first definition of an id still wins.
  void IndexFileValues(size_t f, bool replace) {
    const FileExtraction& ex = *files_[f].extraction;
    const FileInfo& fi = info_[f];
    auto put = [&](auto& table, const auto& key, int k) {
      std::pair<size_t, int> value{f, k};
      auto [it, added] = table.emplace(key, value);
      if (!added && replace && it->second.first == f) it->second = value;
    };
    for (size_t i = 0; i < ex.items.size(); ++i) {
      const ExtractedItem& item = ex.items[i];
      const int ii = static_cast<int>(i);
      if (IsCallable(item.kind)) {
        for (uint32_t k : fi.refs[i])
          if (ex.type_refs[k].role == TypeRefRole::kReturn) {
            put(returns_, NodeOf(f, ii).id, static_cast<int>(k));
            break;
          }
      } else if (item.kind == NodeKind::kTypeAlias) {
        for (uint32_t k : fi.refs[i])
          if (ex.type_refs[k].role == TypeRefRole::kAlias) {
            put(aliases_, NodeOf(f, ii).id, static_cast<int>(k));
            break;
          }
      } else if (item.kind == NodeKind::kStruct || item.kind == NodeKind::kUnion ||
                 item.kind == NodeKind::kVariant) {
        auto& fields = fields_[NodeOf(f, ii).id];
        for (int c : fi.children[i]) {
          if (Item(f, c).kind != NodeKind::kField) continue;
          for (uint32_t k : fi.refs[static_cast<size_t>(c)])
            if (ex.type_refs[k].role == TypeRefRole::kField) {
              put(fields, NodeOf(f, c).name, static_cast<int>(k));
              break;
            }
        }
      }
    }
  }

  // The nearest enclosing impl or trait of item i, or -1.
  int EnclosingImplOrTrait(size_t f, int i) const {
    for (int p = i; p >= 0; p = Item(f, p).parent) {
      NodeKind k = Item(f, p).kind;
      if (k == NodeKind::kImpl || k == NodeKind::kTrait) return p;
    }
    return -1;
  }

  bool IsGenericOf(size_t f, int item, std::string_view name, int* declarer) const {
    for (int p = item; p >= 0; p = Item(f, p).parent) {
      for (int c : info_[f].children[static_cast<size_t>(p)]) {
        if (Item(f, c).kind == NodeKind::kGenericParam && NodeOf(f, c).name == name) {
          if (declarer) *declarer = p;
          return true;
        }
      }
    }
    return false;
  }

  std::optional<NodeId> External(const std::string& path) {
    if (path.empty()) return std::nullopt;
    file_externals_[current_file_].insert(path);
    auto it = externals_.find(path);
    if (it == externals_.end()) {
      Node n;
      n.kind = NodeKind::kExternal;
      n.path = path;
      n.name = LastSegment(path);
      n.crate_name = path.substr(0, path.find("::"));
      n.id = MakeNodeId(in_.crate_key, path, NodeKind::kExternal, 0);
      n.visibility = Visibility::kPublic;
      n.signature = path;
      n.content_hash = HashBytes(path);
      it = externals_.emplace(path, std::move(n)).first;
    }
    return it->second.id;
  }

  std::optional<NodeId> Target(const Resolution& r) {
    if (r.kind == ResolutionKind::kItem) return r.id;
    if (r.kind == ResolutionKind::kExternal) return External(r.external_path);
    return std::nullopt;
  }

  // The node a resolved type stands for (an external one made on demand).
  std::optional<NodeId> TargetOf(const TypeTarget& t) {
    if (t.kind == TypeTarget::kItem) return t.id;
    if (t.kind == TypeTarget::kExternal && t.external != "[]" && t.external != "()")
      return External(t.external);
    return std::nullopt;
  }

  // What a type path written in item `item` of file f names.
  TypeTarget ResolveType(size_t f, int item, const PathSegments& path, int depth = 0) {
    TypeTarget t;
    if (path.empty() || depth > 4) return t;
    if (path.size() == 1 && path[0] == "Self") {
      int owner = EnclosingImplOrTrait(f, item);
      if (owner < 0) return t;
      if (Item(f, owner).kind == NodeKind::kTrait) {
        t.kind = TypeTarget::kItem;
        t.id = NodeOf(f, owner).id;
        t.node_kind = NodeKind::kTrait;
        t.via = ResolvedVia::kItem;
        return t;
      }
      auto s = info_[f].self_of.find(owner);
      if (s == info_[f].self_of.end()) return t;
      return ResolveType(f, owner, *s->second, depth + 1);
    }
    int declarer = -1;
    if (path.size() == 1 && IsGenericOf(f, item, path[0], &declarer)) {
      t.kind = TypeTarget::kGeneric;
      auto range = info_[f].bounds.equal_range(declarer);
      for (auto it = range.first; it != range.second; ++it) {
        if (it->second->bounded_param != path[0]) continue;
        Resolution r = crate_->Resolve(ScopeOf(f, declarer), it->second->path, Namespace::kType);
        if (r.kind == ResolutionKind::kItem && r.node_kind == NodeKind::kTrait &&
            r.complete(it->second->path.size()))
          t.bound_traits.push_back(r.id);
      }
      // `impl<T: Tr> .. { fn f(x: T) }`: bounds declared by the enclosing impl.
      return t;
    }
    if (path.size() == 1 && (path[0] == "[]" || path[0] == "()")) {
      t.kind = TypeTarget::kExternal;  // a built-in slice, array or tuple
      t.external = path[0];
      return t;
    }
    Resolution r = crate_->Resolve(ScopeOf(f, item), path, Namespace::kType);
    if (!r.complete(path.size())) return t;
    if (r.kind == ResolutionKind::kItem) {
      t.kind = TypeTarget::kItem;
      t.id = r.id;
      t.node_kind = r.node_kind;
    } else if (r.kind == ResolutionKind::kExternal) {
      if (r.external_path.empty()) return t;
      t.kind = TypeTarget::kExternal;
      t.external = r.external_path;
    }
    t.via = r.via;
    return t;
  }

  void IndexImplsAndTraits() {
    for (size_t f = 0; f < files_.size(); ++f) {
      IndexFileValues(f, /*replace=*/false);
      const FileExtraction& ex = *files_[f].extraction;
      FileInfo& fi = info_[f];
      for (size_t i = 0; i < ex.items.size(); ++i) {
        const ExtractedItem& item = ex.items[i];
        const int ii = static_cast<int>(i);
        if (item.kind == NodeKind::kTrait) {
          auto& names = trait_items_[NodeOf(f, ii).id];
          for (int c : fi.children[i]) {
            NodeKind k = Item(f, c).kind;
            if (k == NodeKind::kGenericParam) continue;
            names[NodeOf(f, c).name].push_back(NodeOf(f, c).id);
          }
          // Supertraits: `trait A: B` and `where Self: B`.
          auto range = fi.bounds.equal_range(ii);
          for (auto it = range.first; it != range.second; ++it) {
            if (it->second->bounded_param != "Self") continue;
            Resolution r = crate_->Resolve(ScopeOf(f, ii), it->second->path, Namespace::kType);
            if (r.kind == ResolutionKind::kItem && r.node_kind == NodeKind::kTrait &&
                r.complete(it->second->path.size()))
              supertraits_[NodeOf(f, ii).id].push_back(r.id);
          }
          continue;
        }
        if (item.kind != NodeKind::kImpl) continue;
        ImplInfo impl;
        auto s = fi.self_of.find(ii);
        if (s != fi.self_of.end() && !s->second->empty()) {
          impl.self = ResolveType(f, ii, *s->second);
        }
        auto t = fi.trait_of.find(ii);
        if (t != fi.trait_of.end() && !t->second->empty()) {
          Resolution r = crate_->Resolve(ScopeOf(f, ii), *t->second, Namespace::kType);
          if (r.complete(t->second->size())) {
            impl.trait_resolution = r;
            if (r.kind == ResolutionKind::kItem && r.node_kind == NodeKind::kTrait)
              impl.trait = r.id;
          }
          impl.has_trait = true;
        }
        impls_.emplace(std::make_pair(f, ii), impl);
        if (impl.self.kind != TypeTarget::kItem) continue;
        Members& m = members_[impl.self.id];
        if (impl.has_trait && impl.trait) m.traits.push_back(*impl.trait);
        for (int c : fi.children[i]) {
          NodeKind k = Item(f, c).kind;
          if (k == NodeKind::kGenericParam) continue;
          auto& table = impl.has_trait ? m.from_traits : m.inherent;
          table[NodeOf(f, c).name].push_back(NodeOf(f, c).id);
        }
      }
    }
  }

  // Items named `name` of trait `trait` and its supertraits.
  void TraitMembers(const NodeId& trait, std::string_view name, std::vector<NodeId>* out,
                    int depth = 0) {
    if (depth > 8) return;
    for (const LinkedCrate* c : Tables()) {
      auto t = c->trait_items.find(trait);
      if (t == c->trait_items.end()) continue;
      auto it = t->second.find(name);
      if (it != t->second.end()) {
        out->insert(out->end(), it->second.begin(), it->second.end());
        return;
      }
    }
    for (const LinkedCrate* c : Tables()) {
      auto s = c->supertraits.find(trait);
      if (s == c->supertraits.end()) continue;
      for (const NodeId& super : s->second) TraitMembers(super, name, out, depth + 1);
      return;
    }
  }

  // Associated items named `name` of a type: inherent impls first, then
  // trait impls for it, then the default items of the traits it implements.
  std::vector<NodeId> TypeMembers(const TypeTarget& target, std::string_view name) {
    std::vector<NodeId> out;
    TypeTarget t = FollowAliases(TypeValue{target, 0, -1}).target;
    if (t.kind == TypeTarget::kGeneric) {
      for (const NodeId& tr : t.bound_traits) TraitMembers(tr, name, &out);
    } else if (t.kind == TypeTarget::kItem) {
      if (t.node_kind == NodeKind::kTrait) {
        TraitMembers(t.id, name, &out);
        return out;
      }
      // This crate's impls of the type, then those of the crates it
      // depends on (the type's own crate among them).
      std::vector<const Members*> all;
      for (const LinkedCrate* c : Tables())
        if (auto m = c->members.find(t.id); m != c->members.end()) all.push_back(&m->second);
      for (const Members* m : all)
        if (auto it = m->inherent.find(name); it != m->inherent.end()) return it->second;
      for (const Members* m : all)
        if (auto it = m->from_traits.find(name); it != m->from_traits.end()) return it->second;
      for (const Members* m : all)
        for (const NodeId& tr : m->traits) TraitMembers(tr, name, &out);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  // ---- edges

  // Collects one file's edges, each (kind, src, dst, line, props) once, in
  // the order they come. The set of those added is an open-addressing table
  // of their positions in file.edges: no allocation per edge beyond the
  // edge itself. An edge's file is left empty: it is the LinkFile's.
  class EdgeSink {
   public:
    explicit EdgeSink(LinkFile& file, size_t expected) : file_(file), first_(file.edges.size()) {
      file_.edges.reserve(first_ + expected);
      size_t cap = 16;
      while (cap < expected * 2) cap <<= 1;
      slots_.assign(cap, 0);
    }

    void Add(EdgeKind kind, const NodeId& src, const NodeId& dst, uint32_t line,
             std::string_view props) {
      if ((file_.edges.size() - first_ + 1) * 2 > slots_.size()) Grow();
      const size_t mask = slots_.size() - 1;
      for (size_t i = HashOf(kind, src, dst, line, props) & mask;; i = (i + 1) & mask) {
        const uint32_t slot = slots_[i];
        if (slot == 0) {
          Edge e;
          e.kind = kind;
          e.src = src;
          e.dst = dst;
          e.line = line;
          e.props = props;
          file_.edges.push_back(std::move(e));
          slots_[i] = static_cast<uint32_t>(file_.edges.size() - first_);
          return;
        }
        const Edge& e = file_.edges[first_ + slot - 1];
        if (e.kind == kind && e.line == line && e.src == src && e.dst == dst && e.props == props)
          return;
      }
    }

   private:
    static size_t HashOf(EdgeKind kind, const NodeId& src, const NodeId& dst, uint32_t line,
                         std::string_view props) {
      size_t h = src.Hash() * 0x9E3779B97F4A7C15ull ^ dst.Hash();
      h ^= (static_cast<size_t>(line) << 8 | static_cast<size_t>(kind)) * 0xC2B2AE3D27D4EB4Full;
      if (!props.empty()) h ^= std::hash<std::string_view>()(props) * 0x165667B19E3779F9ull;
      return h ^ (h >> 29);
    }
    void Grow() {
      std::vector<uint32_t> old(slots_.size() * 2, 0);
      old.swap(slots_);
      const size_t mask = slots_.size() - 1;
      for (uint32_t slot : old) {
        if (slot == 0) continue;
        const Edge& e = file_.edges[first_ + slot - 1];
        size_t i = HashOf(e.kind, e.src, e.dst, e.line, e.props) & mask;
        while (slots_[i] != 0) i = (i + 1) & mask;
        slots_[i] = slot;
      }
    }

    LinkFile& file_;
    const size_t first_;           // edges before this sink's are not its own
    std::vector<uint32_t> slots_;  // 1 + index past first_, 0 = empty
  };

  void LinkFileEdges(size_t f) {
    current_file_ = f;
    file_externals_[f].clear();
    stats_ = {};
    LinkFileEdgesOf(f);
    file_stats_[f] = stats_;
  }

  void LinkFileEdgesOf(size_t f) {
    LinkFile& lf = files_[f];
    const FileExtraction& ex = *lf.extraction;
    FileInfo& fi = info_[f];
    EdgeSink sink(lf, ex.type_refs.size() + ex.calls.size() + ex.items.size() / 2);
    const size_t n = ex.items.size();

    // IMPLEMENTS / IMPL_FOR, derives, HAS_GENERIC.
    for (size_t i = 0; i < n; ++i) {
      const int ii = static_cast<int>(i);
      const ExtractedItem& item = ex.items[i];
      const Node& node = lf.nodes[i];
      if (item.kind == NodeKind::kImpl) {
        const ImplInfo& impl = impls_.at({f, ii});
        if (auto dst = TargetOf(impl.self))
          sink.Add(EdgeKind::kImplFor, node.id, *dst, node.span.start_line, "");
        if (impl.trait_resolution.resolved())
          if (auto dst = Target(impl.trait_resolution))
            sink.Add(EdgeKind::kImplements, node.id, *dst, node.span.start_line, "");
      }
      for (const std::string& d : node.derives) {
        std::vector<std::string> path = SplitPath(d);
        if (path.empty() || path.back().empty()) continue;
        Resolution r = crate_->ResolveDerive(fi.module[i], path);
        if (r.resolved())
          if (auto dst = Target(r))
            sink.Add(EdgeKind::kImplements, node.id, *dst, node.span.start_line,
                     R"({"derive":true})");
      }
      if (item.kind == NodeKind::kGenericParam && item.parent >= 0)
        sink.Add(EdgeKind::kHasGeneric, NodeOf(f, item.parent).id, node.id, node.span.start_line,
                 "");
    }

    // IMPORTS.
    for (size_t k = 0; k < ex.imports.size(); ++k) {
      const UseImport& imp = ex.imports[k];
      auto [scope, pos] = fi.import_slot[k];
      if (scope < 0) continue;
      Resolution r = crate_->ImportResolution(scope, pos);
      if (!r.resolved()) continue;
      auto dst = Target(r);
      if (!dst) continue;
      std::string props;
      if (imp.glob) {
        props = R"({"glob":true})";
      } else if (!imp.alias.empty()) {
        props = R"({"alias":)" + JsonString(imp.alias) + "}";
      }
      sink.Add(EdgeKind::kImports, NodeOf(f, imp.item).id, *dst, imp.line, std::move(props));
    }

    // USES_TYPE and BOUND.
    std::set<std::pair<int, NodeId>> body_uses;  // (item, type) pairs with an edge already
    for (const TypeRef& r : ex.type_refs) {
      if (r.item < 0 || static_cast<size_t>(r.item) >= n || r.path.empty()) continue;
      const Node& src = NodeOf(f, r.item);
      if (r.role == TypeRefRole::kImplTrait) continue;  // IMPLEMENTS
      if (r.role == TypeRefRole::kBody) {
        // Paths in a body: a use of a type of the crate (or of a crate it
        // depends on in the index), once per body and type, at its first line.
        std::optional<NodeId> dst = BodyTypeUse(f, r);
        if (dst && body_uses.emplace(r.item, *dst).second)
          sink.Add(EdgeKind::kUsesType, src.id, *dst, r.line, R"({"role":"body"})");
        continue;
      }
      if (r.role == TypeRefRole::kBound) {
        Resolution res = crate_->Resolve(ScopeOf(f, r.item), r.path, Namespace::kType);
        if (!res.complete(r.path.size())) continue;
        auto dst = Target(res);
        if (!dst) continue;
        NodeId from = src.id;
        std::string props;
        if (r.bounded_param.empty()) {
          props = R"({"on":"where"})";
        } else if (r.bounded_param == "Self") {
          props = R"({"on":"Self"})";
        } else if (r.bounded_param != src.name || Item(f, r.item).kind != NodeKind::kTypeAlias) {
          bool found = false;
          for (int c : fi.children[static_cast<size_t>(r.item)]) {
            if (Item(f, c).kind == NodeKind::kGenericParam &&
                NodeOf(f, c).name == r.bounded_param) {
              from = NodeOf(f, c).id;
              found = true;
              break;
            }
          }
          if (!found) props = R"({"on":)" + JsonString(r.bounded_param) + "}";
        }
        sink.Add(EdgeKind::kBound, from, *dst, r.line, std::move(props));
        continue;
      }
      TypeTarget t = ResolveType(f, r.item, r.path);
      if (t.kind == TypeTarget::kItem && !IsTypeKind(t.node_kind)) continue;
      std::optional<NodeId> dst = TargetOf(t);
      if (!dst) continue;
      sink.Add(EdgeKind::kUsesType, src.id, *dst, r.line,
               R"({"role":")" + std::string(TypeRefRoleName(r.role)) + "\"}");
    }

    // CALLS and MACRO_INVOKES.
    for (const CallRef& c : ex.calls) {
      if (c.item >= static_cast<int>(n) || c.path.empty()) continue;
      if (c.kind == CallKind::kMacro) {
        Resolution r = crate_->Resolve(ScopeOf(f, c.item), c.path, Namespace::kMacro);
        if (!r.complete(c.path.size())) continue;
        const NodeId& from = c.item < 0 ? lf.module_id : NodeOf(f, c.item).id;
        if (auto dst = Target(r)) sink.Add(EdgeKind::kMacroInvokes, from, *dst, c.line, "");
        continue;
      }
      if (c.item < 0) continue;
      ++stats_.calls;
      LinkCall(f, c, sink);
    }
  }

  // The indexed type a body path names: the path itself when it resolves to
  // a type (`Foo`, `Self`, `m::Foo`), else the path less its last segment
  // (`Token::Eof`, `Foo::new`, `Self::MAX`). Generic params, externals and
  // paths into modules (`m::f`) give none.
  std::optional<NodeId> BodyTypeUse(size_t f, const TypeRef& r) {
    TypeTarget t = ResolveType(f, r.item, r.path);
    bool is_type = t.kind == TypeTarget::kItem && IsTypeKind(t.node_kind);
    if (!is_type && r.path.size() >= 2) {
      PathSegments prefix(r.path.begin(), r.path.end() - 1);
      t = ResolveType(f, r.item, prefix);
    }
    if (t.kind != TypeTarget::kItem || !IsTypeKind(t.node_kind)) return std::nullopt;
    return t.id;
  }

  // The crate's functions (or methods) called `name` that take `args`
  // arguments (any number when -1), as name-only candidates: Rust has no
  // overloading, so one that takes another number is not the callee
  // (`self.prog[ip].is_match()` is not `Regex::is_match(&self, text)`).
  void NameOnly(const NodeId& src, std::string_view name, bool methods, int32_t args, uint32_t line,
                EdgeSink& sink) {
    std::vector<NodeId> candidates;
    const auto& index = methods ? methods_by_name_ : functions_by_name_;
    if (!by_name_built_) BuildNameIndex();
    auto it = index.find(name);
    if (it != index.end()) {
      for (const NamedFn& fn : it->second)
        if (args < 0 || fn.params < 0 || fn.params == args) candidates.push_back(fn.id);
      candidates = PreferCfgOn(std::move(candidates));
    }
    if (candidates.empty() || candidates.size() > kMaxNameOnlyCandidates) {
      ++stats_.calls_unresolved;
      return;
    }
    ++stats_.calls_name_only;
    std::string props = NameOnlyProps(candidates.size());
    for (const NodeId& dst : candidates) sink.Add(EdgeKind::kCalls, src, dst, line, props);
  }

  void BuildNameIndex() {
    by_name_built_ = true;
    for (size_t f = 0; f < files_.size(); ++f) {
      const FileExtraction& ex = *files_[f].extraction;
      for (size_t i = 0; i < ex.items.size(); ++i) {
        NodeKind k = ex.items[i].kind;
        if (!IsCallable(k)) continue;
        const Node& node = files_[f].nodes[i];
        int owner = ex.items[i].parent >= 0 ? EnclosingImplOrTrait(f, ex.items[i].parent) : -1;
        NamedFn fn{node.id, ex.items[i].params};
        if (owner >= 0 && k == NodeKind::kMethod) {
          methods_by_name_[node.name].push_back(fn);
        } else {
          functions_by_name_[node.name].push_back(fn);
        }
      }
    }
  }

  // Emits the edges for one resolved set of callees.
  // Some cfg of an item is decidedly false for the modelled build.
  bool CfgFalse(const std::vector<std::string>& cfgs) const {
    for (const std::string& c : cfgs)
      if (DecidedBy(c, *in_.cfg) && EvaluateCfg(c, *in_.cfg) == CfgValue::kFalse) return true;
    return false;
  }

  // Drops candidates under a false cfg when some remain.
  std::vector<NodeId> PreferCfgOn(std::vector<NodeId> ids) const {
    if (cfg_off_.empty() || ids.size() < 2) return ids;
    std::vector<NodeId> on;
    for (const NodeId& id : ids)
      if (!cfg_off_.count(id)) on.push_back(id);
    return on.empty() ? ids : on;
  }

  void Callees(const NodeId& src, std::vector<NodeId> found, std::string_view how, uint32_t line,
               EdgeSink& sink) {
    found = PreferCfgOn(std::move(found));
    if (found.size() == 1) {
      if (how == "exact") ++stats_.calls_exact;
      if (how == "import") ++stats_.calls_import;
      if (how == "method") ++stats_.calls_method;
      sink.Add(EdgeKind::kCalls, src, found[0], line, ResolvedProps(how));
      return;
    }
    // Several impls provide the name (two traits' `fmt`): the compiler picks
    // by the trait in scope; we keep them all, as name-only candidates.
    ++stats_.calls_name_only;
    std::string props = NameOnlyProps(found.size());
    for (const NodeId& dst : found) sink.Add(EdgeKind::kCalls, src, dst, line, props);
  }

  static std::string_view HowOf(ResolvedVia via) {
    return via == ResolvedVia::kImport || via == ResolvedVia::kGlobImport ? "import" : "exact";
  }

  // ---- receiver typing: a small evaluator over written types.

  TypeValue ValueOfRef(size_t f, int ref) {
    TypeValue v;
    v.file = f;
    v.ref = ref;
    const TypeRef& r = files_[f].extraction->type_refs[static_cast<size_t>(ref)];
    v.target = ResolveType(f, r.item, r.path);
    return v;
  }

  // The first generic argument of a written type: `Option<Foo>` -> Foo.
  std::optional<TypeValue> FirstArg(const TypeValue& v) {
    if (v.ref < 0) return std::nullopt;
    const auto& refs = files_[v.file].extraction->type_refs;
    size_t next = static_cast<size_t>(v.ref) + 1;
    if (next >= refs.size() || refs[next].role != TypeRefRole::kGenericArg ||
        refs[next].item != refs[static_cast<size_t>(v.ref)].item)
      return std::nullopt;
    return ValueOfRef(v.file, static_cast<int>(next));
  }

  bool ExternalNamed(const TypeValue& v, std::initializer_list<std::string_view> names) {
    if (v.target.kind != TypeTarget::kExternal) return false;
    std::string last = LastSegment(v.target.external);
    for (std::string_view n : names)
      if (last == n) return true;
    return false;
  }

  // `type ParseStream<'a> = &'a ParseBuffer<'a>`: a type alias of the
  // crate stands for the type it names.
  TypeValue FollowAliases(TypeValue v) {
    for (int i = 0;
         i < 8 && v.target.kind == TypeTarget::kItem && v.target.node_kind == NodeKind::kTypeAlias;
         ++i) {
      auto it = aliases_.find(v.target.id);
      if (it == aliases_.end()) break;
      v = ValueOfRef(it->second.first, it->second.second);
    }
    return v;
  }

  // Auto-deref through aliases and std's smart pointers: Box<T>, Rc<T>,
  // Arc<T> -> T.
  TypeValue Peel(TypeValue v) {
    v = FollowAliases(std::move(v));
    for (int i = 0; i < 4 && ExternalNamed(v, {"Box", "Rc", "Arc"}); ++i) {
      std::optional<TypeValue> inner = FirstArg(v);
      if (!inner) break;
      v = FollowAliases(std::move(*inner));
    }
    return v;
  }

  // The single callee `name` names on a value of type v, if exactly one.
  std::optional<NodeId> UniqueMember(const TypeValue& v, std::string_view name) {
    std::vector<NodeId> found = PreferCfgOn(TypeMembers(v.target, name));
    if (found.size() != 1) return std::nullopt;
    return found[0];
  }

  TypeValue ReturnOf(const NodeId& callee) {
    auto it = returns_.find(callee);
    if (it == returns_.end()) return {};
    return ValueOfRef(it->second.first, it->second.second);
  }

  // The type a path call returns: `Parser::new(..)`, `make()`, `Wrapper(x)`.
  TypeValue ValueOfCall(size_t f, int item, const PathSegments& path) {
    TypeValue v;
    if (path.empty()) return v;
    if (path.size() == 2 && (path[0] == "Self" || IsGenericOf(f, item, path[0], nullptr))) {
      TypeTarget t = ResolveType(f, item, PathSegments{path[0]});
      std::vector<NodeId> found = PreferCfgOn(TypeMembers(t, path[1]));
      if (found.size() == 1) return ReturnOf(found[0]);
      return v;
    }
    Resolution r = crate_->Resolve(ScopeOf(f, item), path, Namespace::kValue);
    if (r.kind != ResolutionKind::kItem) return v;
    if (r.complete(path.size())) {
      if (IsCallable(r.node_kind)) return ReturnOf(r.id);
      if (r.node_kind == NodeKind::kStruct) {  // a tuple struct's constructor
        v.target.kind = TypeTarget::kItem;
        v.target.id = r.id;
        v.target.node_kind = r.node_kind;
      }
      return v;
    }
    if (r.resolved_segments + 1 == path.size() && IsTypeKind(r.node_kind)) {
      TypeTarget t;
      t.kind = TypeTarget::kItem;
      t.id = r.id;
      t.node_kind = r.node_kind;
      std::vector<NodeId> found = PreferCfgOn(TypeMembers(t, path.back()));
      if (found.size() == 1) return ReturnOf(found[0]);
    }
    return v;
  }

  // The type of a method call's receiver, as far as it can be known.
  TypeTarget ReceiverOf(size_t f, const CallRef& c) {
    TypeValue v;
    if (!c.receiver_call.empty()) {
      v = ValueOfCall(f, c.item, c.receiver_call);
    } else if (!c.receiver_type.empty()) {
      v.target = ResolveType(f, c.item, c.receiver_type);
    } else if (c.receiver == "self") {
      int owner = EnclosingImplOrTrait(f, c.item);
      if (owner >= 0 && Item(f, owner).kind == NodeKind::kTrait) {
        v.target.kind = TypeTarget::kItem;
        v.target.id = NodeOf(f, owner).id;
        v.target.node_kind = NodeKind::kTrait;
      }
    }
    for (const ReceiverStep& step : c.receiver_steps) {
      if (v.target.kind == TypeTarget::kNone) break;
      v = Peel(v);
      switch (step.kind) {
        case ReceiverStep::kField: {
          TypeValue next;
          if (v.target.kind == TypeTarget::kItem) {
            auto s = fields_.find(v.target.id);
            if (s != fields_.end()) {
              auto fld = s->second.find(step.name);
              if (fld != s->second.end()) next = ValueOfRef(fld->second.first, fld->second.second);
            }
          }
          // A field of the struct's generic type `I`: the caller's impl
          // usually declares `I` again, with the bounds.
          if (next.target.kind == TypeTarget::kGeneric && next.target.bound_traits.empty() &&
              next.ref >= 0) {
            const PathSegments& written =
                files_[next.file].extraction->type_refs[static_cast<size_t>(next.ref)].path;
            if (written.size() == 1 && IsGenericOf(f, c.item, written[0], nullptr))
              next.target = ResolveType(f, c.item, written);
          }
          v = next;
          break;
        }
        case ReceiverStep::kMethod: {
          std::optional<NodeId> callee;
          if (v.target.kind == TypeTarget::kItem || v.target.kind == TypeTarget::kGeneric)
            callee = UniqueMember(v, step.name);
          v = callee ? ReturnOf(*callee) : TypeValue{};
          break;
        }
        case ReceiverStep::kUnwrap: {
          std::optional<TypeValue> inner;
          if (ExternalNamed(v, {"Option", "Result"})) inner = FirstArg(v);
          v = inner ? *inner : TypeValue{};
          break;
        }
      }
    }
    return Peel(v).target;
  }

  void LinkCall(size_t f, const CallRef& c, EdgeSink& sink) {
    const NodeId& src = NodeOf(f, c.item).id;
    const std::string& name = c.path.back();
    if (c.kind == CallKind::kMethod) {
      TypeTarget t = ReceiverOf(f, c);
      if (t.kind == TypeTarget::kItem || t.kind == TypeTarget::kGeneric) {
        std::vector<NodeId> found = TypeMembers(t, name);
        if (!found.empty()) {
          Callees(src, found, "method", c.line, sink);
          return;
        }
        // Not among the crate's impls: a std method (or one reached through
        // Deref); nothing of the crate is called.
        ++stats_.calls_unresolved;
        return;
      }
      if (t.kind == TypeTarget::kExternal) {
        ++stats_.calls_external;
        return;
      }
      NameOnly(src, name, /*methods=*/true, c.args, c.line, sink);
      return;
    }

    // Path calls.
    const PathSegments& path = c.path;
    int declarer = -1;
    if (path.size() >= 2 &&
        (path[0] == "Self" || (path.size() == 2 && IsGenericOf(f, c.item, path[0], &declarer)))) {
      TypeTarget t = ResolveType(f, c.item, PathSegments{path[0]});
      if (path.size() == 2 && (t.kind == TypeTarget::kItem || t.kind == TypeTarget::kGeneric)) {
        std::vector<NodeId> found = TypeMembers(t, name);
        if (!found.empty()) {
          Callees(src, found, t.kind == TypeTarget::kGeneric ? "method" : "exact", c.line, sink);
          return;
        }
      }
      ++stats_.calls_unresolved;
      return;
    }
    Resolution r = crate_->Resolve(ScopeOf(f, c.item), path, Namespace::kValue);
    if (r.complete(path.size())) {
      if (r.kind == ResolutionKind::kExternal) {
        if (LooksLikeConstructor(name)) return;
        ++stats_.calls_external;
        if (auto dst = External(r.external_path))
          sink.Add(EdgeKind::kCalls, src, *dst, c.line, ResolvedProps(HowOf(r.via)));
        return;
      }
      if (r.kind == ResolutionKind::kItem) {
        if (!IsCallable(r.node_kind)) return;  // a constructor, const or static
        Callees(src, {r.id}, HowOf(r.via), c.line, sink);
        return;
      }
    }
    if (r.kind == ResolutionKind::kItem && r.resolved_segments + 1 == path.size() &&
        IsTypeKind(r.node_kind)) {
      // `Type::assoc()`, `Trait::method(x)`, `<X as Tr>::f()`.
      TypeTarget t;
      t.kind = TypeTarget::kItem;
      t.id = r.id;
      t.node_kind = r.node_kind;
      std::vector<NodeId> found = TypeMembers(t, name);
      if (!found.empty()) {
        Callees(src, found, HowOf(r.via), c.line, sink);
        return;
      }
      ++stats_.calls_unresolved;
      return;
    }
    if (r.kind == ResolutionKind::kItem && r.node_kind == NodeKind::kEnum) return;  // a variant
    if (r.resolved()) {
      ++stats_.calls_unresolved;
      return;
    }
    if (LooksLikeConstructor(name)) return;
    NameOnly(src, name, /*methods=*/false, c.args, c.line, sink);
  }

  struct ImplInfo {
    TypeTarget self;
    bool has_trait = false;
    Resolution trait_resolution;
    std::optional<NodeId> trait;  // a trait of the index
  };

  const LinkInput& in_;
  std::span<LinkFile> files_;
  CrateInput crate_input_;
  std::shared_ptr<const ResolvedCrate> crate_;
  std::vector<FileInfo> info_;
  std::vector<int> file_module_;
  std::map<std::pair<size_t, int>, ImplInfo> impls_;
  // This crate's tables (shared with its dependents once linked), and the
  // tables to search: its own first, then its dependencies'.
  std::shared_ptr<LinkedCrate> tables_ = std::make_shared<LinkedCrate>();
  std::unordered_map<NodeId, Members, FixedBytesHash>& members_ = tables_->members;
  decltype(LinkedCrate::trait_items)& trait_items_ = tables_->trait_items;
  decltype(LinkedCrate::supertraits)& supertraits_ = tables_->supertraits;
  const std::vector<const LinkedCrate*>& Tables() {
    if (tables_list_.empty()) {
      tables_list_.push_back(tables_.get());
      for (const auto& d : in_.linked_dependencies)
        if (d) tables_list_.push_back(d.get());
    }
    return tables_list_;
  }
  std::vector<const LinkedCrate*> tables_list_;
  // alias -> the aliased type's ref.
  std::unordered_map<NodeId, std::pair<size_t, int>, FixedBytesHash> aliases_;
  // fn -> its return type's ref; struct -> field name -> the field type's ref.
  std::unordered_map<NodeId, std::pair<size_t, int>, FixedBytesHash> returns_;
  std::unordered_map<NodeId, std::map<std::string, std::pair<size_t, int>, std::less<>>,
                     FixedBytesHash>
      fields_;
  bool by_name_built_ = false;
  struct NamedFn {
    NodeId id;
    int32_t params = -1;  // ExtractedItem::params
  };
  std::map<std::string, std::vector<NamedFn>, std::less<>> functions_by_name_;
  std::map<std::string, std::vector<NamedFn>, std::less<>> methods_by_name_;
  std::unordered_map<std::string, Node> externals_;    // by path, ever made
  std::vector<std::set<std::string>> file_externals_;  // the paths each file refers to
  size_t current_file_ = 0;                            // the file being linked
  // Items (and modules) under a false #[cfg] of in_.cfg.
  std::unordered_set<NodeId, FixedBytesHash> cfg_off_;
  LinkStats stats_;  // of the file being linked
  std::vector<LinkStats> file_stats_;
};

}  // namespace

LinkResult LinkCrate(const LinkInput& input, std::span<LinkFile> files) {
  return Linker(input, files).Run();
}

ContentHash LinkInterface(const FileExtraction& ex, std::span<const Node> nodes) {
  // Everything LinkCrate reads of the file except what only its own edges
  // depend on: lines and spans, docs, content hashes, calls, and the
  // references inside bodies. A body item's interface is its signature
  // (with its parameter, return and bound types written out as references
  // too, which the signature text already implies).
  FieldDigest d(128 * nodes.size() + 64 * ex.imports.size() + 64);
  auto index = [&d](int i) { d.Number(static_cast<uint64_t>(static_cast<int64_t>(i))); };
  d.Field("ferrograph link interface v1");
  d.Fields(ex.module_attrs);
  d.Number(ex.items.size());
  d.Number(nodes.size());
  for (size_t i = 0; i < ex.items.size() && i < nodes.size(); ++i) {
    const ExtractedItem& item = ex.items[i];
    const Node& n = nodes[i];
    d.Number(static_cast<uint64_t>(item.kind));
    index(item.parent);
    d.Bytes(n.id);
    d.Bytes(n.parent);
    d.Number(static_cast<uint64_t>(n.kind));
    d.Number(static_cast<uint64_t>(n.visibility));
    for (std::string_view s : {std::string_view(n.name), std::string_view(n.path),
                               std::string_view(n.signature), std::string_view(n.in_macro)})
      d.Field(s);
    d.Fields(n.cfgs);
    d.Fields(n.derives);
    d.Fields(n.attrs);
  }
  d.Number(ex.mods.size());
  for (const ModDecl& m : ex.mods) {
    index(m.item);
    d.Field(m.name);
    d.Field(m.path_attr.value_or("\n"));
    d.Number(m.enclosing.size());
    for (const InlineModule& im : m.enclosing) {
      d.Field(im.name);
      d.Field(im.path_attr.value_or("\n"));
    }
  }
  d.Number(ex.imports.size());
  for (const UseImport& u : ex.imports) {
    index(u.item);
    d.Fields(u.path);
    d.Field(u.alias);
    d.Number(u.glob);
    d.Number(u.extern_crate);
    d.Number(static_cast<uint64_t>(u.visibility));
  }
  // Type references: all of items without a body; a body item's parameter,
  // return and bound types (and their generic arguments).
  bool in_signature = false;
  for (const TypeRef& r : ex.type_refs) {
    bool body_item = r.item >= 0 && static_cast<size_t>(r.item) < ex.items.size() &&
                     IsBody(ex.items[static_cast<size_t>(r.item)].kind);
    if (r.role != TypeRefRole::kGenericArg)
      in_signature = r.role == TypeRefRole::kParam || r.role == TypeRefRole::kReturn ||
                     r.role == TypeRefRole::kBound;
    if (body_item && !in_signature) continue;
    index(r.item);
    d.Number(static_cast<uint64_t>(r.role));
    d.Fields(r.path);
    d.Field(r.bounded_param);
  }
  return d.Finish();
}

struct LiveCrateLink::State {
  LinkInput input;
  std::optional<CfgSet> cfg;
  std::vector<std::shared_ptr<const FileExtraction>> extractions;
  std::vector<std::vector<Node>> nodes;
  std::vector<LinkFile> files;
  std::vector<ContentHash> interfaces;
  std::unique_ptr<Linker> linker;
};

LiveCrateLink::LiveCrateLink() : s_(std::make_unique<State>()) {}
LiveCrateLink::~LiveCrateLink() = default;

std::unique_ptr<LiveCrateLink> LiveCrateLink::Link(const LinkInput& input,
                                                   std::span<LinkFile> files, LinkResult* result) {
  std::unique_ptr<LiveCrateLink> live(new LiveCrateLink());
  State& s = *live->s_;
  s.input = input;
  if (input.cfg != nullptr) {
    s.cfg = *input.cfg;
    s.input.cfg = &*s.cfg;
  }
  s.extractions.reserve(files.size());
  s.nodes.reserve(files.size());
  s.files.reserve(files.size());
  s.interfaces.reserve(files.size());
  for (const LinkFile& lf : files) {
    s.extractions.push_back(lf.shared_extraction && lf.shared_extraction.get() == lf.extraction
                                ? lf.shared_extraction
                                : std::make_shared<const FileExtraction>(*lf.extraction));
    s.nodes.emplace_back(lf.nodes.begin(), lf.nodes.end());
    LinkFile kept;
    kept.path = lf.path;
    kept.module_path = lf.module_path;
    kept.module_id = lf.module_id;
    kept.is_crate_root = lf.is_crate_root;
    kept.synthesized = lf.synthesized;
    kept.extraction = s.extractions.back().get();
    kept.nodes = s.nodes.back();
    s.files.push_back(std::move(kept));
    s.interfaces.push_back(LinkInterface(*lf.extraction, lf.nodes));
  }
  s.linker = std::make_unique<Linker>(s.input, std::span<LinkFile>(s.files));
  *result = s.linker->Run();
  for (size_t f = 0; f < files.size(); ++f) files[f].edges = std::move(s.files[f].edges);
  return live;
}

size_t LiveCrateLink::file_count() const { return s_->files.size(); }

const std::string& LiveCrateLink::path(size_t f) const { return s_->files[f].path; }

const std::string& LiveCrateLink::module_path(size_t f) const { return s_->files[f].module_path; }

const ContentHash& LiveCrateLink::interface(size_t f) const { return s_->interfaces[f]; }

const LinkInput& LiveCrateLink::input() const { return s_->input; }

void LiveCrateLink::Relink(size_t f, const FileExtraction& extraction, std::span<const Node> nodes,
                           std::vector<Edge>* edges) {
  Relink(f, std::make_shared<const FileExtraction>(extraction), nodes, edges);
}

void LiveCrateLink::Relink(size_t f, std::shared_ptr<const FileExtraction> extraction,
                           std::span<const Node> nodes, std::vector<Edge>* edges) {
  State& s = *s_;
  s.extractions[f] = std::move(extraction);
  s.nodes[f].assign(nodes.begin(), nodes.end());
  s.files[f].extraction = s.extractions[f].get();
  s.files[f].nodes = s.nodes[f];
  s.linker->Relink(f);
  *edges = std::move(s.files[f].edges);
  s.files[f].edges.clear();
}

std::vector<Node> LiveCrateLink::Externals() const { return s_->linker->Externals(); }

LinkStats LiveCrateLink::stats() const { return s_->linker->Stats(); }

std::shared_ptr<const LinkedCrate> LiveCrateLink::linked() const { return s_->linker->linked(); }

}  // namespace ferrograph
