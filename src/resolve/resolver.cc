#include "resolve/resolver.h"

#include <algorithm>
#include <array>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ferrograph {

namespace {

constexpr uint32_t kNoStr = UINT32_MAX;
constexpr int kNamespaceCount = 3;

// Binding scopes: who may name a binding. A module index means "that module
// and its descendants".
constexpr int32_t kScopePublic = -1;
constexpr int32_t kScopeCrate = -2;

class Interner {
 public:
  uint32_t Intern(std::string_view s) {
    auto it = ids_.find(s);
    if (it != ids_.end()) return it->second;
    strings_.emplace_back(s);
    uint32_t id = static_cast<uint32_t>(strings_.size() - 1);
    ids_.emplace(strings_.back(), id);
    return id;
  }
  uint32_t Find(std::string_view s) const {
    auto it = ids_.find(s);
    return it == ids_.end() ? kNoStr : it->second;
  }
  std::string_view str(uint32_t id) const { return strings_[id]; }

 private:
  std::deque<std::string> strings_;  // stable addresses for the views in ids_
  std::unordered_map<std::string_view, uint32_t> ids_;
};

uint64_t Key(uint32_t name, Namespace ns) {
  return (static_cast<uint64_t>(name) << 2) | static_cast<uint64_t>(ns);
}
uint32_t KeyName(uint64_t key) { return static_cast<uint32_t>(key >> 2); }
Namespace KeyNs(uint64_t key) { return static_cast<Namespace>(key & 3); }

bool InNamespace(NodeKind kind, Namespace ns) {
  switch (ns) {
    case Namespace::kType:
      return kind == NodeKind::kCrate || kind == NodeKind::kModule || kind == NodeKind::kStruct ||
             kind == NodeKind::kEnum || kind == NodeKind::kUnion || kind == NodeKind::kTrait ||
             kind == NodeKind::kTypeAlias || kind == NodeKind::kVariant ||
             kind == NodeKind::kExternal;
    case Namespace::kValue:
      // Braced structs and variants are counted too: the kind does not tell
      // the shapes apart, and rustc would reject such a use anyway.
      return kind == NodeKind::kFunction || kind == NodeKind::kMethod || kind == NodeKind::kConst ||
             kind == NodeKind::kStatic || kind == NodeKind::kStruct || kind == NodeKind::kVariant;
    case Namespace::kMacro: return kind == NodeKind::kMacro;
  }
  return false;
}

// A type whose further path segments are associated items.
bool IsTypeLike(NodeKind kind) {
  return kind == NodeKind::kStruct || kind == NodeKind::kEnum || kind == NodeKind::kUnion ||
         kind == NodeKind::kTrait || kind == NodeKind::kTypeAlias;
}

struct PreludeEntry {
  std::string_view name;
  uint8_t namespaces;  // bit per Namespace
  std::string_view path;
};
constexpr uint8_t kT = 1 << 0, kV = 1 << 1, kM = 1 << 2;

// The Rust 2021 std prelude, plus std's exported macros (the macro prelude).
constexpr PreludeEntry kPrelude[] = {
    {"Option", kT, "std::option::Option"},
    {"Some", kT | kV, "std::option::Option::Some"},
    {"None", kT | kV, "std::option::Option::None"},
    {"Result", kT, "std::result::Result"},
    {"Ok", kT | kV, "std::result::Result::Ok"},
    {"Err", kT | kV, "std::result::Result::Err"},
    {"Vec", kT, "std::vec::Vec"},
    {"String", kT, "std::string::String"},
    {"ToString", kT, "std::string::ToString"},
    {"Box", kT, "std::boxed::Box"},
    {"ToOwned", kT, "std::borrow::ToOwned"},
    {"Clone", kT, "std::clone::Clone"},
    {"Copy", kT, "std::marker::Copy"},
    {"Send", kT, "std::marker::Send"},
    {"Sync", kT, "std::marker::Sync"},
    {"Sized", kT, "std::marker::Sized"},
    {"Unpin", kT, "std::marker::Unpin"},
    {"Default", kT, "std::default::Default"},
    {"Drop", kT, "std::ops::Drop"},
    {"Fn", kT, "std::ops::Fn"},
    {"FnMut", kT, "std::ops::FnMut"},
    {"FnOnce", kT, "std::ops::FnOnce"},
    {"PartialEq", kT, "std::cmp::PartialEq"},
    {"Eq", kT, "std::cmp::Eq"},
    {"PartialOrd", kT, "std::cmp::PartialOrd"},
    {"Ord", kT, "std::cmp::Ord"},
    {"AsRef", kT, "std::convert::AsRef"},
    {"AsMut", kT, "std::convert::AsMut"},
    {"From", kT, "std::convert::From"},
    {"Into", kT, "std::convert::Into"},
    {"TryFrom", kT, "std::convert::TryFrom"},
    {"TryInto", kT, "std::convert::TryInto"},
    {"Iterator", kT, "std::iter::Iterator"},
    {"IntoIterator", kT, "std::iter::IntoIterator"},
    {"DoubleEndedIterator", kT, "std::iter::DoubleEndedIterator"},
    {"ExactSizeIterator", kT, "std::iter::ExactSizeIterator"},
    {"Extend", kT, "std::iter::Extend"},
    {"FromIterator", kT, "std::iter::FromIterator"},
    {"drop", kV, "std::mem::drop"},
    {"assert", kM, "std::assert"},
    {"assert_eq", kM, "std::assert_eq"},
    {"assert_ne", kM, "std::assert_ne"},
    {"debug_assert", kM, "std::debug_assert"},
    {"debug_assert_eq", kM, "std::debug_assert_eq"},
    {"debug_assert_ne", kM, "std::debug_assert_ne"},
    {"cfg", kM, "std::cfg"},
    {"column", kM, "std::column"},
    {"compile_error", kM, "std::compile_error"},
    {"concat", kM, "std::concat"},
    {"dbg", kM, "std::dbg"},
    {"env", kM, "std::env"},
    {"eprint", kM, "std::eprint"},
    {"eprintln", kM, "std::eprintln"},
    {"file", kM, "std::file"},
    {"format", kM, "std::format"},
    {"format_args", kM, "std::format_args"},
    {"include", kM, "std::include"},
    {"include_bytes", kM, "std::include_bytes"},
    {"include_str", kM, "std::include_str"},
    {"line", kM, "std::line"},
    {"matches", kM, "std::matches"},
    {"module_path", kM, "std::module_path"},
    {"option_env", kM, "std::option_env"},
    {"panic", kM, "std::panic"},
    {"print", kM, "std::print"},
    {"println", kM, "std::println"},
    {"stringify", kM, "std::stringify"},
    {"thread_local", kM, "std::thread_local"},
    {"todo", kM, "std::todo"},
    {"unimplemented", kM, "std::unimplemented"},
    {"unreachable", kM, "std::unreachable"},
    {"vec", kM, "std::vec"},
    {"write", kM, "std::write"},
    {"writeln", kM, "std::writeln"},
};

constexpr std::pair<std::string_view, std::string_view> kBuiltinDerives[] = {
    {"Debug", "std::fmt::Debug"},
    {"Clone", "std::clone::Clone"},
    {"Copy", "std::marker::Copy"},
    {"PartialEq", "std::cmp::PartialEq"},
    {"Eq", "std::cmp::Eq"},
    {"PartialOrd", "std::cmp::PartialOrd"},
    {"Ord", "std::cmp::Ord"},
    {"Hash", "std::hash::Hash"},
    {"Default", "std::default::Default"},
};

constexpr std::string_view kPrimitives[] = {"bool", "char", "str",   "u8",  "u16", "u32",
                                            "u64",  "u128", "usize", "i8",  "i16", "i32",
                                            "i64",  "i128", "isize", "f32", "f64"};

const PreludeEntry* FindPrelude(std::string_view name, Namespace ns) {
  static const auto* index = [] {
    auto* m = new std::unordered_map<std::string_view, const PreludeEntry*>();
    for (const PreludeEntry& e : kPrelude) m->emplace(e.name, &e);
    return m;
  }();
  auto it = index->find(name);
  if (it == index->end()) return nullptr;
  return (it->second->namespaces & (1 << static_cast<int>(ns))) ? it->second : nullptr;
}

bool IsPrimitive(std::string_view name) {
  return std::find(std::begin(kPrimitives), std::end(kPrimitives), name) != std::end(kPrimitives);
}

}  // namespace

std::string_view ResolutionKindName(ResolutionKind kind) {
  switch (kind) {
    case ResolutionKind::kUnresolved: return "unresolved";
    case ResolutionKind::kItem: return "item";
    case ResolutionKind::kExternal: return "external";
  }
  return "?";
}

std::string_view ResolvedViaName(ResolvedVia via) {
  switch (via) {
    case ResolvedVia::kNone: return "none";
    case ResolvedVia::kItem: return "item";
    case ResolvedVia::kImport: return "import";
    case ResolvedVia::kGlobImport: return "glob_import";
    case ResolvedVia::kExternCrate: return "extern_crate";
    case ResolvedVia::kPrelude: return "prelude";
    case ResolvedVia::kPrimitive: return "primitive";
    case ResolvedVia::kTextualMacro: return "textual_macro";
    case ResolvedVia::kExternalGlob: return "external_glob";
    case ResolvedVia::kDerive: return "derive";
  }
  return "?";
}

class ResolvedCrate::Impl {
 public:
  enum class DefKind : uint8_t { kNone, kItem, kModule, kExternal };
  // What a name denotes. Indices are into `crate`'s tables, so a definition
  // can live in a workspace dependency.
  struct Def {
    DefKind kind = DefKind::kNone;
    const Impl* crate = nullptr;
    uint32_t index = 0;  // item, module, or external path index
    friend bool operator==(const Def& a, const Def& b) {
      return a.kind == b.kind && a.crate == b.crate && a.index == b.index;
    }
  };
  struct Binding {
    Def def;
    int32_t scope = kScopePublic;
    ResolvedVia via = ResolvedVia::kItem;
  };
  struct Item {
    uint32_t name = kNoStr;
    NodeKind kind = NodeKind::kFunction;
    int32_t scope = kScopePublic;
    NodeId id;
    int module = 0;
    int parent = -1;  // item index of the enum/trait
    bool macro_export = false;
    bool cfg_off = false;
  };
  struct Module {
    uint32_t name = kNoStr;
    int parent = -1;
    int normal = 0;  // the nearest enclosing non-block module (itself if not a block)
    int depth = 0;
    bool block = false;
    bool macro_use = false;
    bool cfg_off = false;
    Visibility visibility = Visibility::kPrivate;
    NodeId id;
    std::string path;
    std::unordered_map<uint64_t, Binding> names;            // items and explicit imports
    std::unordered_map<uint64_t, Binding> globs;            // glob imports, shadowed by `names`
    std::unordered_map<uint32_t, uint32_t> textual_macros;  // name -> item
    std::vector<std::string> external_globs;                // `use std::io::*` -> "std::io"
    // Build-time only: names still to be bound by an unresolved import, and
    // unresolved glob imports; lookups that they could change must wait.
    std::unordered_map<uint32_t, int> pending_names;
    int pending_globs = 0;
    uint32_t generation = 0;  // bumped whenever `names` or `globs` gains a binding
  };
  // The outcome of walking a path.
  struct Walk {
    enum State { kFound, kNotFound, kIndeterminate } state = kNotFound;
    Def def;               // kItem / kModule (or kNone with `external` set)
    std::string external;  // the full external path when the path left the index
    ResolvedVia via = ResolvedVia::kNone;
    size_t consumed = 0;
  };

  void Build(const CrateInput& input);
  // Whether a definition of this crate is under a false #[cfg].
  bool CfgOff(const Def& d) const {
    if (d.crate != this) return false;
    if (d.kind == DefKind::kItem) return d.index < items_.size() && items_[d.index].cfg_off;
    if (d.kind == DefKind::kModule) return d.index < modules_.size() && modules_[d.index].cfg_off;
    return false;
  }
  // Binds an item or module declared in a module: the first declaration of
  // a name wins, unless it is cfg-off and the new one is not.
  void BindItem(std::unordered_map<uint64_t, Binding>& names, uint64_t key, Binding b) {
    auto [it, added] = names.try_emplace(key, b);
    if (!added && CfgOff(it->second.def) && !CfgOff(b.def)) it->second = b;
  }
  Walk WalkPath(int module, std::span<const std::string_view> segs, Namespace ns, bool force) const;
  Resolution ToResolution(const Walk& w) const;
  Resolution ResolvePublic(int module, std::span<const std::string> path, Namespace ns) const;

  std::string name_;
  Interner strings_;
  std::vector<Module> modules_;
  std::vector<Item> items_;
  std::unordered_map<uint64_t, uint32_t> children_;  // (item << 32 | name) -> child item
  std::unordered_map<uint32_t, std::vector<uint32_t>> child_lists_;
  std::vector<std::string> externals_;
  std::unordered_map<std::string, uint32_t> external_ids_;
  std::unordered_map<uint32_t, Def> extern_prelude_;
  std::vector<std::shared_ptr<const ResolvedCrate>> deps_;  // keeps dependencies alive
  std::vector<std::vector<Resolution>> import_results_;
  std::unordered_map<NodeId, std::vector<std::string>, FixedBytesHash> public_paths_;
  std::vector<ReExport> reexports_;

 private:
  enum class Lookup { kFound, kNotFound, kIndeterminate };
  Lookup LookupIn(int module, std::string_view name, Namespace ns, bool force,
                  const Binding** out) const;
  Walk LookupLexical(int module, std::string_view name, Namespace ns, bool force) const;
  bool Visible(int32_t scope, int from) const;
  int32_t ScopeOf(Visibility vis, int module) const;
  int32_t Narrow(int32_t a, int32_t b) const;
  Def InternExternal(std::string path);
  Def ToDef(const Walk& w);
  bool CopyGlob(int into, int32_t scope, const Def& source, uint32_t* copied_generation);
  void CollectPublicPaths();
};

int32_t ResolvedCrate::Impl::ScopeOf(Visibility vis, int module) const {
  switch (vis) {
    case Visibility::kPublic: return kScopePublic;
    case Visibility::kCrate:
    case Visibility::kRestricted: return kScopeCrate;
    case Visibility::kSuper: {
      int p = modules_[modules_[module].normal].parent;
      return p < 0 ? kScopeCrate : modules_[p].normal;
    }
    case Visibility::kPrivate: return modules_[module].normal;
  }
  return kScopeCrate;
}

int32_t ResolvedCrate::Impl::Narrow(int32_t a, int32_t b) const {
  if (a == kScopePublic) return b;
  if (b == kScopePublic) return a;
  if (a == kScopeCrate) return b;
  if (b == kScopeCrate) return a;
  return modules_[a].depth >= modules_[b].depth ? a : b;
}

bool ResolvedCrate::Impl::Visible(int32_t scope, int from) const {
  if (scope < 0) return true;
  for (int m = from; m >= 0; m = modules_[m].parent)
    if (m == scope) return true;
  return false;
}

ResolvedCrate::Impl::Def ResolvedCrate::Impl::InternExternal(std::string path) {
  auto [it, inserted] = external_ids_.emplace(path, static_cast<uint32_t>(externals_.size()));
  if (inserted) externals_.push_back(std::move(path));
  return Def{DefKind::kExternal, this, it->second};
}

ResolvedCrate::Impl::Def ResolvedCrate::Impl::ToDef(const Walk& w) {
  if (w.def.kind == DefKind::kNone && !w.external.empty()) return InternExternal(w.external);
  return w.def;
}

ResolvedCrate::Impl::Lookup ResolvedCrate::Impl::LookupIn(int module, std::string_view name,
                                                          Namespace ns, bool force,
                                                          const Binding** out) const {
  const Module& m = modules_[module];
  uint32_t id = strings_.Find(name);
  if (id != kNoStr) {
    auto it = m.names.find(Key(id, ns));
    if (it != m.names.end()) {
      *out = &it->second;
      return Lookup::kFound;
    }
    if (!force && m.pending_names.count(id)) return Lookup::kIndeterminate;
    auto g = m.globs.find(Key(id, ns));
    if (g != m.globs.end()) {
      *out = &g->second;
      return Lookup::kFound;
    }
  }
  if (!force && m.pending_globs > 0) return Lookup::kIndeterminate;
  return Lookup::kNotFound;
}

ResolvedCrate::Impl::Walk ResolvedCrate::Impl::LookupLexical(int module, std::string_view name,
                                                             Namespace ns, bool force) const {
  Walk w;
  if (ns == Namespace::kMacro) {
    uint32_t id = strings_.Find(name);
    for (int m = module; id != kNoStr && m >= 0; m = modules_[m].parent) {
      auto it = modules_[m].textual_macros.find(id);
      if (it != modules_[m].textual_macros.end()) {
        w.state = Walk::kFound;
        w.def = Def{DefKind::kItem, this, it->second};
        w.via = ResolvedVia::kTextualMacro;
        return w;
      }
    }
  }
  // The module's names, then those of the modules around a block scope.
  int m = module;
  for (;;) {
    const Binding* b = nullptr;
    Lookup l = LookupIn(m, name, ns, force, &b);
    if (l == Lookup::kIndeterminate) {
      w.state = Walk::kIndeterminate;
      return w;
    }
    if (l == Lookup::kFound) {
      w.state = Walk::kFound;
      w.def = b->def;
      w.via = b->via;
      return w;
    }
    if (!modules_[m].block || modules_[m].parent < 0) break;
    m = modules_[m].parent;
  }
  if (ns == Namespace::kType) {
    uint32_t id = strings_.Find(name);
    auto it = id == kNoStr ? extern_prelude_.end() : extern_prelude_.find(id);
    if (it != extern_prelude_.end()) {
      w.state = Walk::kFound;
      w.def = it->second;
      w.via = ResolvedVia::kExternCrate;
      return w;
    }
  }
  if (const PreludeEntry* e = FindPrelude(name, ns)) {
    w.state = Walk::kFound;
    w.external = std::string(e->path);
    w.via = ResolvedVia::kPrelude;
    return w;
  }
  if (ns == Namespace::kType && IsPrimitive(name)) {
    w.state = Walk::kFound;
    w.external = std::string(name);
    w.via = ResolvedVia::kPrimitive;
    return w;
  }
  // Last resort: a glob of an external module is the only place left.
  const std::string* only = nullptr;
  int count = 0;
  for (int s = module; s >= 0; s = modules_[s].parent) {
    for (const std::string& g : modules_[s].external_globs) {
      only = &g;
      ++count;
    }
    if (!modules_[s].block) break;
  }
  if (count == 1) {
    w.state = Walk::kFound;
    w.external = *only + "::" + std::string(name);
    w.via = ResolvedVia::kExternalGlob;
  }
  return w;
}

ResolvedCrate::Impl::Walk ResolvedCrate::Impl::WalkPath(int module,
                                                        std::span<const std::string_view> segs,
                                                        Namespace ns, bool force) const {
  Walk w;
  const size_t n = segs.size();
  if (n == 0) return w;
  Def cur;
  size_t i = 0;
  std::string_view first = segs[0];
  const int normal = modules_[module].normal;
  if (first.empty()) {  // `::name`: a crate of the extern prelude
    if (n < 2) return w;
    uint32_t id = strings_.Find(segs[1]);
    auto it = id == kNoStr ? extern_prelude_.end() : extern_prelude_.find(id);
    if (it == extern_prelude_.end()) return w;
    cur = it->second;
    w.via = ResolvedVia::kExternCrate;
    i = 2;
  } else if (first == "crate" || first == "$crate") {
    cur = Def{DefKind::kModule, this, 0};
    w.via = ResolvedVia::kItem;
    i = 1;
  } else if (first == "self" || first == "super") {
    int m = normal;
    i = first == "self" ? 1 : 0;
    while (i < n && segs[i] == "super") {
      int p = modules_[m].parent;
      if (p < 0) return w;
      m = modules_[p].normal;
      ++i;
    }
    cur = Def{DefKind::kModule, this, static_cast<uint32_t>(m)};
    w.via = ResolvedVia::kItem;
  } else if (first == "Self") {
    return w;  // the caller's business
  } else {
    Walk lex = LookupLexical(module, first, n == 1 ? ns : Namespace::kType, force);
    if (lex.state != Walk::kFound) return lex;
    w.via = lex.via;
    if (!lex.external.empty()) {
      w.external = std::move(lex.external);
    } else {
      cur = lex.def;
    }
    i = 1;
  }
  for (; i < n; ++i) {
    if (!w.external.empty() || cur.kind == DefKind::kExternal) break;
    std::string_view seg = segs[i];
    const Namespace seg_ns = i + 1 == n ? ns : Namespace::kType;
    const Impl* c = cur.crate;
    if (cur.kind == DefKind::kModule) {
      const Binding* b = nullptr;
      Lookup l = c == this ? LookupIn(static_cast<int>(cur.index), seg, seg_ns, force, &b)
                           : c->LookupIn(static_cast<int>(cur.index), seg, seg_ns, true, &b);
      if (l == Lookup::kIndeterminate) {
        w.state = Walk::kIndeterminate;
        return w;
      }
      if (l == Lookup::kNotFound && c == this && modules_[cur.index].external_globs.size() == 1) {
        // `lib::fmt` where `mod lib { pub use std::*; }`: the module's only
        // glob of an external module is the only place left.
        w.state = Walk::kFound;
        w.external = modules_[cur.index].external_globs[0];
        for (size_t j = i; j < n; ++j) w.external += "::" + std::string(segs[j]);
        w.via = ResolvedVia::kExternalGlob;
        w.consumed = n;
        return w;
      }
      if (l == Lookup::kNotFound || (c != this && b->scope != kScopePublic)) {
        w.consumed = i;
        return w;
      }
      cur = b->def;
      continue;
    }
    // An item: a child (variant, trait item), else associated items of a type.
    const Item& item = c->items_[cur.index];
    uint32_t id = c->strings_.Find(seg);
    auto it = id == kNoStr ? c->children_.end()
                           : c->children_.find((static_cast<uint64_t>(cur.index) << 32) | id);
    if (it != c->children_.end() && InNamespace(c->items_[it->second].kind, seg_ns)) {
      cur = Def{DefKind::kItem, c, it->second};
      continue;
    }
    if (IsTypeLike(item.kind)) {
      w.state = Walk::kFound;
      w.def = cur;
      w.consumed = i;
      return w;
    }
    w.consumed = i;
    return w;
  }
  if (cur.kind == DefKind::kExternal) w.external = cur.crate->externals_[cur.index];
  if (!w.external.empty()) {
    for (; i < n; ++i) {
      w.external += "::";
      w.external += segs[i];
    }
    w.state = Walk::kFound;
    w.consumed = n;
    return w;
  }
  // A module named by keywords alone (`crate`, `super`) is a type.
  if (cur.kind == DefKind::kModule && ns != Namespace::kType) {
    w.consumed = n - 1;
    return w;
  }
  w.state = Walk::kFound;
  w.def = cur;
  w.consumed = n;
  return w;
}

Resolution ResolvedCrate::Impl::ToResolution(const Walk& w) const {
  Resolution r;
  r.resolved_segments = w.consumed;
  if (w.state != Walk::kFound) return r;
  r.via = w.via;
  r.resolved_segments = w.consumed;
  if (w.def.kind == DefKind::kNone || w.def.kind == DefKind::kExternal) {
    r.kind = ResolutionKind::kExternal;
    r.external_path =
        w.def.kind == DefKind::kExternal ? w.def.crate->externals_[w.def.index] : w.external;
    return r;
  }
  const Impl* c = w.def.crate;
  r.kind = ResolutionKind::kItem;
  r.crate_name = c->name_;
  if (w.def.kind == DefKind::kModule) {
    r.id = c->modules_[w.def.index].id;
    r.node_kind = w.def.index == 0 ? NodeKind::kCrate : NodeKind::kModule;
  } else {
    r.id = c->items_[w.def.index].id;
    r.node_kind = c->items_[w.def.index].kind;
  }
  return r;
}

// Copies into module `into`'s globs what `source` (a module or an enum)
// offers it. Skips the work when the source has not changed since
// `*copied_generation`; true when a binding was added.
bool ResolvedCrate::Impl::CopyGlob(int into, int32_t scope, const Def& source,
                                   uint32_t* copied_generation) {
  const Impl* c = source.crate;
  uint32_t generation = 0;
  if (source.kind == DefKind::kModule && c == this) generation = modules_[source.index].generation;
  if (*copied_generation == generation) return false;
  *copied_generation = generation;
  Module& m = modules_[into];
  bool changed = false;
  std::vector<std::pair<uint64_t, Binding>> pending;  // only when a module globs itself
  const bool self_glob =
      source.kind == DefKind::kModule && c == this && static_cast<int>(source.index) == into;
  auto take = [&](uint64_t key, const Binding& b) {
    uint32_t name = c == this ? KeyName(key) : strings_.Intern(c->strings_.str(KeyName(key)));
    Binding nb{b.def, Narrow(scope, c == this ? b.scope : kScopePublic), ResolvedVia::kGlobImport};
    if (self_glob) {
      pending.emplace_back(Key(name, KeyNs(key)), nb);
    } else {
      changed |= m.globs.try_emplace(Key(name, KeyNs(key)), nb).second;
    }
  };
  if (source.kind == DefKind::kModule) {
    const Module& s = c->modules_[source.index];
    if (!self_glob) m.globs.reserve(m.globs.size() + s.names.size() + s.globs.size());
    for (const auto* map : {&s.names, &s.globs}) {
      for (const auto& [key, b] : *map) {
        if (c == this ? !Visible(b.scope, into) : b.scope != kScopePublic) continue;
        if (map == &s.globs && s.names.count(key)) continue;
        take(key, b);
      }
    }
  } else if (source.kind == DefKind::kItem) {
    auto it = c->child_lists_.find(source.index);
    if (it != c->child_lists_.end()) {
      for (uint32_t child : it->second) {
        const Item& ci = c->items_[child];
        for (int ns = 0; ns < kNamespaceCount; ++ns) {
          if (!InNamespace(ci.kind, static_cast<Namespace>(ns))) continue;
          take(Key(ci.name, static_cast<Namespace>(ns)),
               Binding{Def{DefKind::kItem, c, child}, kScopePublic, ResolvedVia::kGlobImport});
        }
      }
    }
  }
  for (auto& [key, b] : pending) changed |= m.globs.try_emplace(key, b).second;
  if (changed) ++m.generation;
  return changed;
}

void ResolvedCrate::Impl::Build(const CrateInput& input) {
  name_ = input.name;
  // Modules and their tree.
  modules_.resize(std::max<size_t>(1, input.modules.size()));
  size_t item_count = 0;
  for (const ModuleInput& in : input.modules) item_count += in.items.size();
  items_.reserve(item_count);
  for (size_t i = 0; i < input.modules.size(); ++i) {
    const ModuleInput& in = input.modules[i];
    Module& m = modules_[i];
    m.parent = i == 0 ? -1 : (in.parent >= 0 && static_cast<size_t>(in.parent) < i ? in.parent : 0);
    m.block = i > 0 && in.block;
    m.macro_use = in.macro_use;
    m.cfg_off = in.cfg_off;
    m.visibility = in.visibility;
    m.id = in.id;
    m.path = in.path;
    m.name = strings_.Intern(in.name);
    m.depth = m.parent < 0 ? 0 : modules_[m.parent].depth + 1;
    m.normal = m.block ? modules_[m.parent].normal : static_cast<int>(i);
  }
  if (input.modules.empty()) modules_[0].path = name_;
  for (size_t i = 1; i < modules_.size(); ++i) {
    Module& m = modules_[i];
    if (m.block) continue;
    BindItem(modules_[m.parent].names, Key(m.name, Namespace::kType),
             Binding{Def{DefKind::kModule, this, static_cast<uint32_t>(i)},
                     ScopeOf(m.visibility, m.parent), ResolvedVia::kItem});
  }
  // Items.
  for (size_t mi = 0; mi < input.modules.size(); ++mi) {
    const ModuleInput& in = input.modules[mi];
    Module& m = modules_[mi];
    const uint32_t base = static_cast<uint32_t>(items_.size());
    m.names.reserve(2 * in.items.size() + in.imports.size());
    for (size_t k = 0; k < in.items.size(); ++k) {
      const ItemInput& it = in.items[k];
      Item item;
      item.name = strings_.Intern(it.name);
      item.kind = it.kind;
      item.id = it.id;
      item.module = static_cast<int>(mi);
      item.macro_export = it.macro_export;
      item.cfg_off = it.cfg_off;
      const uint32_t index = static_cast<uint32_t>(items_.size());
      if (it.parent >= 0 && static_cast<size_t>(it.parent) < k) {
        item.parent = static_cast<int>(base + it.parent);
        item.scope = items_[item.parent].scope;
        children_.emplace((static_cast<uint64_t>(item.parent) << 32) | item.name, index);
        child_lists_[item.parent].push_back(index);
        items_.push_back(item);
        continue;
      }
      item.scope = ScopeOf(it.visibility, static_cast<int>(mi));
      items_.push_back(item);
      if (it.kind == NodeKind::kModule || it.kind == NodeKind::kCrate) continue;
      if (it.kind == NodeKind::kMacro) {
        m.textual_macros.emplace(item.name, index);
        if (it.macro_export)
          modules_[0].names.try_emplace(
              Key(item.name, Namespace::kMacro),
              Binding{Def{DefKind::kItem, this, index}, kScopePublic, ResolvedVia::kItem});
        continue;
      }
      for (int ns = 0; ns < kNamespaceCount; ++ns) {
        if (!InNamespace(it.kind, static_cast<Namespace>(ns))) continue;
        BindItem(m.names, Key(item.name, static_cast<Namespace>(ns)),
                 Binding{Def{DefKind::kItem, this, index}, item.scope, ResolvedVia::kItem});
      }
    }
  }
  // #[macro_use] modules lend their textual macros to their parents.
  for (size_t i = modules_.size(); i-- > 1;) {
    if (!modules_[i].macro_use) continue;
    for (const auto& [name, item] : modules_[i].textual_macros)
      modules_[modules_[i].parent].textual_macros.emplace(name, item);
  }
  // The extern prelude.
  for (std::string_view std_crate : {"std", "core", "alloc"})
    extern_prelude_.emplace(strings_.Intern(std_crate), InternExternal(std::string(std_crate)));
  for (const CrateDependency& dep : input.dependencies) {
    uint32_t id = strings_.Intern(dep.name);
    if (dep.crate) {
      deps_.push_back(dep.crate);
      extern_prelude_[id] = Def{DefKind::kModule, dep.crate->impl_.get(), 0};
    } else {
      extern_prelude_[id] =
          InternExternal(dep.external_name.empty() ? dep.name : dep.external_name);
    }
  }

  // Import directives.
  struct Directive {
    int module = 0;       // where the import binds its name
    int path_module = 0;  // where its path is looked up from (the root for 2015)
    size_t import = 0;
    std::vector<std::string_view> segs;
    uint32_t name = kNoStr;  // the bound name; kNoStr for `as _` and globs
    int32_t scope = kScopePublic;
    bool glob = false;
    uint8_t bound = 0;  // namespaces bound (single) / 1 once the source resolved (glob)
    bool released = false;
    Def source;                               // glob source
    uint32_t copied_generation = UINT32_MAX;  // of the source, when last copied
    std::array<Walk, kNamespaceCount> found;
  };
  std::vector<Directive> directives;
  import_results_.resize(input.modules.size());
  for (size_t mi = 0; mi < input.modules.size(); ++mi) {
    const ModuleInput& in = input.modules[mi];
    import_results_[mi].resize(in.imports.size());
    for (size_t k = 0; k < in.imports.size(); ++k) {
      const UseImport& u = in.imports[k];
      const int32_t scope = ScopeOf(u.visibility, static_cast<int>(mi));
      if (u.extern_crate) {  // `extern crate foo as bar;`
        if (u.path.empty()) continue;
        Def def;
        if (u.path[0] == "self") {
          def = Def{DefKind::kModule, this, 0};
        } else {
          auto it = extern_prelude_.find(strings_.Intern(u.path[0]));
          if (it == extern_prelude_.end()) continue;
          def = it->second;
        }
        Walk w;
        w.state = Walk::kFound;
        w.def = def;
        w.via = ResolvedVia::kImport;
        w.consumed = u.path.size();
        import_results_[mi][k] = ToResolution(w);
        const std::string& bound = u.alias.empty() ? u.path[0] : u.alias;
        if (bound == "_") continue;
        uint32_t name = strings_.Intern(bound);
        modules_[mi].names.try_emplace(Key(name, Namespace::kType),
                                       Binding{def, scope, ResolvedVia::kImport});
        if (modules_[mi].normal == 0) extern_prelude_.emplace(name, def);
        continue;
      }
      Directive d;
      d.module = static_cast<int>(mi);
      d.path_module = d.module;
      d.import = k;
      d.scope = scope;
      d.glob = u.glob;
      for (const std::string& s : u.path) d.segs.push_back(s);
      if (d.segs.empty()) continue;
      if (input.edition_2015) {
        // 2015 `use` paths are crate-relative: look the first segment up from
        // the root (its items and imports, then the extern crates); `::x` is
        // the root's `x`.
        const std::string_view first = d.segs[0];
        if (first.empty()) d.segs.erase(d.segs.begin());
        if (!d.segs.empty() && d.segs[0] != "crate" && d.segs[0] != "$crate" &&
            d.segs[0] != "self" && d.segs[0] != "super")
          d.path_module = 0;
        if (d.segs.empty()) continue;
      }
      if (d.glob) {
        ++modules_[mi].pending_globs;
      } else {
        std::string_view bound = u.alias.empty() ? d.segs.back() : std::string_view(u.alias);
        if (bound != "_" && bound != "self") {
          d.name = strings_.Intern(bound);
          ++modules_[mi].pending_names[d.name];
        }
      }
      directives.push_back(std::move(d));
    }
  }
  auto release = [&](Directive& d) {
    if (d.released || d.name == kNoStr) return;
    d.released = true;
    auto& pending = modules_[d.module].pending_names;
    auto it = pending.find(d.name);
    if (it != pending.end() && --it->second == 0) pending.erase(it);
  };

  // The fixpoint: each round binds what it can; a round that changes nothing
  // is repeated with `force` (waiting lookups decide with what is known,
  // which breaks cycles); a forced round that changes nothing ends it.
  bool force = false;
  for (;;) {
    bool changed = false;
    for (Directive& d : directives) {
      if (d.glob) {
        if (!d.bound) {
          Walk w = WalkPath(d.path_module, d.segs, Namespace::kType, force);
          if (w.state != Walk::kFound || w.consumed != d.segs.size()) continue;
          d.bound = 1;
          d.found[0] = w;
          --modules_[d.module].pending_globs;
          d.source = ToDef(w);
          changed = true;
          if (d.source.kind == DefKind::kExternal)
            modules_[d.module].external_globs.push_back(externals_[d.source.index]);
        }
        changed |= CopyGlob(d.module, d.scope, d.source, &d.copied_generation);
        continue;
      }
      if (d.bound == (1 << kNamespaceCount) - 1) continue;
      for (int ns = 0; ns < kNamespaceCount; ++ns) {
        if (d.bound & (1 << ns)) continue;
        Walk w = WalkPath(d.path_module, d.segs, static_cast<Namespace>(ns), force);
        if (w.state != Walk::kFound || w.consumed != d.segs.size()) continue;
        // An external path may name anything: bind it in every namespace.
        Def def = ToDef(w);
        d.bound |= static_cast<uint8_t>(1 << ns);
        d.found[ns] = w;
        changed = true;
        if (d.name != kNoStr && modules_[d.module]
                                    .names
                                    .try_emplace(Key(d.name, static_cast<Namespace>(ns)),
                                                 Binding{def, d.scope, ResolvedVia::kImport})
                                    .second)
          ++modules_[d.module].generation;
      }
      if (d.bound) release(d);
    }
    if (changed) {
      force = false;
      continue;
    }
    if (force) break;
    force = true;
  }
  for (Module& m : modules_) {
    m.pending_names.clear();
    m.pending_globs = 0;
  }
  for (Directive& d : directives) {
    Resolution& r = import_results_[d.module][d.import];
    for (int ns = 0; ns < kNamespaceCount; ++ns) {
      if (d.found[ns].state != Walk::kFound) continue;
      r = ToResolution(d.found[ns]);
      r.via = d.glob ? ResolvedVia::kGlobImport : ResolvedVia::kImport;
      break;
    }
  }
  CollectPublicPaths();
}

void ResolvedCrate::Impl::CollectPublicPaths() {
  std::vector<bool> reachable(modules_.size(), false);
  reachable[0] = true;
  for (size_t i = 1; i < modules_.size(); ++i)
    reachable[i] = !modules_[i].block && modules_[i].visibility == Visibility::kPublic &&
                   reachable[modules_[i].parent];
  for (size_t i = 0; i < modules_.size(); ++i) {
    if (!reachable[i]) continue;
    const Module& m = modules_[i];
    // The same name in several namespaces is one path.
    std::unordered_map<uint32_t, std::vector<Def>> done;
    for (const auto* map : {&m.names, &m.globs}) {
      for (const auto& [key, b] : *map) {
        if (b.via == ResolvedVia::kItem || b.scope != kScopePublic) continue;
        if (b.def.kind != DefKind::kItem && b.def.kind != DefKind::kModule) continue;
        if (map == &m.globs && m.names.count(key)) continue;
        const uint32_t name = KeyName(key);
        const Impl* c = b.def.crate;
        // Re-binding an item under its own canonical path adds nothing.
        if (c == this) {
          if (b.def.kind == DefKind::kItem) {
            const Item& item = items_[b.def.index];
            if (item.parent < 0 && item.name == name && modules_[item.module].normal == int(i))
              continue;
          } else if (modules_[b.def.index].parent == int(i) && modules_[b.def.index].name == name) {
            continue;
          }
        }
        std::vector<Def>& defs = done[name];
        if (std::find(defs.begin(), defs.end(), b.def) != defs.end()) continue;
        defs.push_back(b.def);
        const NodeId& id = b.def.kind == DefKind::kModule ? c->modules_[b.def.index].id
                                                          : c->items_[b.def.index].id;
        reexports_.push_back(ReExport{id, m.path + "::" + std::string(strings_.str(name))});
      }
    }
  }
  for (const Item& item : items_) {
    if (!item.macro_export || item.module == 0) continue;
    reexports_.push_back(
        ReExport{item.id, modules_[0].path + "::" + std::string(strings_.str(item.name))});
  }
  std::sort(reexports_.begin(), reexports_.end(),
            [](const ReExport& a, const ReExport& b) { return a.path < b.path; });
  for (const ReExport& r : reexports_) public_paths_[r.id].push_back(r.path);
}

Resolution ResolvedCrate::Impl::ResolvePublic(int module, std::span<const std::string> path,
                                              Namespace ns) const {
  if (module < 0 || static_cast<size_t>(module) >= modules_.size() || path.empty()) return {};
  // Paths are short: their views fit on the stack but for the rare long one.
  std::array<std::string_view, 8> inline_segs;
  std::vector<std::string_view> long_segs;
  std::span<std::string_view> segs;
  if (path.size() <= inline_segs.size()) {
    std::copy(path.begin(), path.end(), inline_segs.begin());
    segs = std::span<std::string_view>(inline_segs.data(), path.size());
  } else {
    long_segs.assign(path.begin(), path.end());
    segs = long_segs;
  }
  return ToResolution(WalkPath(module, segs, ns, true));
}

ResolvedCrate::ResolvedCrate(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ResolvedCrate::~ResolvedCrate() = default;

std::shared_ptr<const ResolvedCrate> ResolvedCrate::Build(const CrateInput& input) {
  auto impl = std::make_unique<Impl>();
  impl->Build(input);
  return std::shared_ptr<const ResolvedCrate>(new ResolvedCrate(std::move(impl)));
}

Resolution ResolvedCrate::Resolve(int module, std::span<const std::string> path,
                                  Namespace ns) const {
  return impl_->ResolvePublic(module, path, ns);
}

Resolution ResolvedCrate::ResolveDerive(int module, std::span<const std::string> path) const {
  Resolution r = impl_->ResolvePublic(module, path, Namespace::kMacro);
  if (r.complete(path.size()) && r.via != ResolvedVia::kExternalGlob) return r;
  if (path.size() == 1) {
    for (const auto& [name, trait] : kBuiltinDerives) {
      if (name != path[0]) continue;
      Resolution d;
      d.kind = ResolutionKind::kExternal;
      d.via = ResolvedVia::kDerive;
      d.external_path = std::string(trait);
      d.resolved_segments = 1;
      return d;
    }
  }
  return r.complete(path.size()) ? r : Resolution{};
}

Resolution ResolvedCrate::ImportResolution(int module, size_t import) const {
  if (module < 0 || static_cast<size_t>(module) >= impl_->import_results_.size()) return {};
  const auto& results = impl_->import_results_[module];
  return import < results.size() ? results[import] : Resolution{};
}

std::span<const std::string> ResolvedCrate::PublicPaths(NodeId id) const {
  auto it = impl_->public_paths_.find(id);
  if (it == impl_->public_paths_.end()) return {};
  return it->second;
}

const std::vector<ReExport>& ResolvedCrate::reexports() const { return impl_->reexports_; }
const std::string& ResolvedCrate::name() const { return impl_->name_; }
size_t ResolvedCrate::module_count() const { return impl_->modules_.size(); }

}  // namespace ferrograph
