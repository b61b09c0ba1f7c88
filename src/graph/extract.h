// Per-file extraction: from one Rust source file's syntax tree to the items it
// declares, their containment, and the `mod` declarations that continue the
// module tree into other files.
//
// Extraction knows nothing of crates or modules: paths are relative to the
// module the file implements (`rel_path`). The ingest pipeline prefixes them
// with the module's canonical path and derives NodeIds.
//
// Contract:
// - Never fails on broken Rust: whatever tree-sitter recovered is extracted,
//   and each ERROR / MISSING region is reported as a Diagnostic.
// - Items under every #[cfg] branch are kept, each with its cfg predicates.
// - Items written inside item-position macro invocations whose token tree
//   parses as items (tokio's `cfg_rt! { ... }`) are extracted too, with
//   `in_macro` naming the macro.
// - Spans cover the item including its outer doc comments and attributes.
// - content_hash is BLAKE3 of the item's normalized syntax: the sequence of
//   syntax-node kinds and token texts over the item's span, without whitespace
//   or ordinary comments (doc comments count). Reformatting keeps it; any real
//   token change alters it; identical items anywhere share it.
//
// Thread-safe as long as each thread uses its own RustParser.
#ifndef FERROGRAPH_GRAPH_EXTRACT_H_
#define FERROGRAPH_GRAPH_EXTRACT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferrograph/graph.h"
#include "parse/rust_parser.h"

namespace ferrograph {

struct ExtractedItem {
  NodeKind kind = NodeKind::kFunction;
  std::string name;  // "new"; "impl Display for Regex"; "T"; "'a"; "0" (tuple field)
  // Path relative to the file's module, segments joined by "::":
  //   "Regex", "Regex::new" (inherent impl method), "<Regex as Display>::fmt"
  //   (trait impl item), "impl Display for Regex" (the impl itself),
  //   "Error::Syntax" (variant), "Config::size" (field), "Regex::new::T"
  //   (generic param of new), "use std::fmt::Display" (a use declaration),
  //   "inner::Helper" (item of inline module `inner`).
  std::string rel_path;
  int parent = -1;  // index into FileExtraction::items; -1: the file's module
  Span span;
  Visibility visibility = Visibility::kPrivate;
  std::string signature;             // declaration up to the body / `{`, whitespace collapsed
  std::string docs;                  // outer doc comments (/// and /** */), markers stripped
  std::vector<std::string> cfgs;     // #[cfg(...)] predicates on the item itself
  std::vector<std::string> derives;  // #[derive(...)] entries
  std::vector<std::string> attrs;    // other attributes' inner text, e.g. "macro_export"
  std::string in_macro;              // name of the enclosing item-position macro, "" if none
  ContentHash content_hash;
  // Functions and methods: how many parameters besides `self` they take;
  // -1 for other items and for C-variadic functions (`...`). Rust has no
  // overloading or default arguments, so a call with another number of
  // arguments cannot be a call of this function.
  int32_t params = -1;
};

struct InlineModule {
  std::string name;
  std::optional<std::string> path_attr;  // #[path = "..."] on the inline module
};

// `mod name;` (no body): the module's items live in another file.
struct ModDecl {
  int item = -1;  // index of the kModule item for this declaration
  std::string name;
  std::optional<std::string> path_attr;  // #[path = "..."]
  std::vector<InlineModule> enclosing;   // inline modules around it, outermost first
};

struct Diagnostic {
  uint32_t line = 0;    // 1-based
  uint32_t column = 0;  // 1-based, in bytes
  std::string message;  // "syntax error near `fn`", "missing `;`"
};

// ---- References: the raw material of name resolution (DESIGN.md, Graph).
// Extraction records paths as written; the per-crate resolver decides what
// they name. Every reference knows the item it occurs in (`item`, an index
// into FileExtraction::items; -1 for the file's module) and its 1-based line.

// A path as written: `std::fmt::Display` -> {"std", "fmt", "Display"};
// leading `::` gives an empty first segment; `crate`, `self`, `super`,
// `Self` are kept as segments. Generic arguments are not segments: they are
// references of their own (TypeRef with role kGenericArg).
using PathSegments = std::vector<std::string>;

// One leaf of a `use` tree, flattened: `use a::{b as c, d::*};` gives
// {path a::b, alias "c"} and {path a::d, glob}. `use a::{self}` gives path a.
// `extern crate foo as bar;` gives {path foo, alias bar, extern_crate}.
// A `use` inside a fn body or inline module is a kUse item like any other;
// its parent is the fn or module.
struct UseImport {
  int item = -1;  // the kUse item it belongs to
  PathSegments path;
  std::string alias;  // "" when not renamed; "_" for `as _`
  bool glob = false;
  bool extern_crate = false;
  Visibility visibility = Visibility::kPrivate;  // of the use declaration
  uint32_t line = 0;
};

enum class TypeRefRole : uint8_t {
  kParam,       // a fn parameter's type
  kReturn,      // a fn's return type
  kField,       // a field's type
  kAlias,       // the right side of `type X = ...`
  kImplSelf,    // the self type of an impl
  kImplTrait,   // the trait an impl implements
  kBound,       // a trait bound on a generic param (inline or where-clause)
  kGenericArg,  // a type inside generic arguments, `Vec<Foo>` -> Foo
  kOther,       // consts, statics, casts and other type positions
  kBody,        // a path inside a fn body or const/static initializer (see TypeRef)
};

// A path in a type position (or a trait in an impl header or bound).
// Recorded for item signatures, in source order per item, and, with role
// kBody, for the paths written inside a function body or a const/static
// initializer that may name a type: types (`let x: Foo`, casts, turbofish
// and closure parameter types, with their generic arguments, also kBody),
// struct literals and struct patterns (`Foo { .. }`), tuple-struct patterns
// (`Foo::V(x)`, `Wrapper(x)`), and every path of two or more segments in an
// expression or pattern (`Token::Eof`, `Foo::new(..)`, `Self::MAX`); a single
// name only where it must be a type or constructor (`Foo(x)` called or
// matched, when capitalized). The linker keeps those that lead to a type of
// the crate (the path itself, or the path less its last segment). References, pointers, slices,
// arrays, tuples, `dyn`/`impl` and `for<'a>` are unwrapped to the paths inside; the traits of
// `Fn(A) -> B` take the position's role, A and B are kGenericArg. Primitive types are not recorded.
// `<T as Trait>::Out` records only Trait (kOther). `item`: the fn, field, alias, impl,
// const/static; for bounds, the item declaring the generics (or the trait, or the associated type).
struct TypeRef {
  int item = -1;
  TypeRefRole role = TypeRefRole::kOther;
  PathSegments path;
  // kBound: the bounded param's name ("T"; "Self" for supertraits and
  // `where Self: ..`; the associated type's name for `type Item: Clone`);
  // "" for other roles and for where-clauses on other types (`Vec<T>: Foo`).
  std::string bounded_param;
  uint32_t line = 0;
};

enum class CallKind : uint8_t {
  kPath,    // `foo()`, `a::b::foo()`, `Self::new()`, `Type::assoc()`
  kMethod,  // `recv.method()`
  kMacro,   // `name!(...)` in expression or statement position
};

// A call site inside a function body or a const/static initializer (also
// inside a body macro's token tree, found by token shape: `f(..)`,
// `a::b(..)`, `.m(..)`, `m!(..)`, e.g. `assert_eq!(f(x), 1)`; tuple-struct
// patterns there read as calls), in syntax-tree order: an outer call precedes the
// calls in its callee and arguments (`a.b().c()` gives c, then b).
// `foo::<T>()` gives {"foo"}; `<X as Tr>::f()` gives {"Tr", "f"}. Struct
// literals are not calls; tuple-struct and variant constructors (`Some(x)`)
// are, as written.
// One step from a method call's receiver base to the receiver itself.
struct ReceiverStep {
  enum Kind : uint8_t {
    kField,   // `.name` (a tuple field: `.0`)
    kMethod,  // `.name(..)`
    kUnwrap,  // `?`, `.unwrap()`, `.expect(..)`: Option/Result to its value
  } kind = kField;
  std::string name;
  friend bool operator==(const ReceiverStep&, const ReceiverStep&) = default;
};

struct CallRef {
  // The innermost enclosing function/method item; for a macro invoked in
  // item position (`lazy_static! { .. }`), the enclosing module, impl or
  // trait item, or -1 for the file's module.
  int item = -1;
  CallKind kind = CallKind::kPath;
  PathSegments path;  // kPath/kMacro: the callee as written; kMethod: {method name}
  // kMethod: what the receiver is, so the resolver can type it:
  //   "self", a local name ("parser"), or "" when it is a more complex
  //   expression; `receiver_type` is the receiver's type when written
  //   locally (`let p: Parser = ...`, `let p = Parser::new(..)` gives
  //   {"Parser"}; a parameter `p: &Parser` gives {"Parser"}), else empty.
  //   Sources: fn and closure parameter types; `let p: T`; `let p = T::f(..)`
  //   (the callee path minus its last segment, also through `?`, `&`,
  //   `.unwrap()`, `.expect(..)`); `let p = T { .. }`; for `self`, the
  //   enclosing impl's self type. A built-in type gives its name ({"str"},
  //   {"u8"}), a slice or array {"[]"}, a tuple or unit {"()"}. The latest
  //   `let` of the name ending before
  //   the call wins (block scopes are not tracked); other lets of it shadow.
  std::string receiver;
  PathSegments receiver_type;
  // kMethod on a longer receiver expression (a syntax-tree call, not one
  // found in a macro's tokens): `self.lexer.peek()?.kind()` gives receiver
  // "self" and steps {field lexer, method peek, unwrap ?}; a receiver based
  // on a path call, `Parser::new(s).run()`, gives receiver "" and
  // receiver_call {"Parser", "new"}. `&x` and `(x)` are looked through.
  // Empty steps and receiver_call: the receiver is the base itself.
  PathSegments receiver_call;
  std::vector<ReceiverStep> receiver_steps;
  uint32_t line = 0;
  // kPath and kMethod calls of the syntax tree: the arguments written
  // (`f(a, b)` and `x.f(a, b)` have 2); -1 when unknown (calls found in a
  // macro's tokens, macro calls).
  int32_t args = -1;
};

struct FileExtraction {
  std::vector<ExtractedItem> items;  // a parent always precedes its children
  std::vector<ModDecl> mods;
  std::vector<Diagnostic> diagnostics;
  std::vector<UseImport> imports;
  std::vector<TypeRef> type_refs;
  std::vector<CallRef> calls;
  std::string module_docs;                // inner doc comments (//! and /*! */) at file top level
  std::vector<std::string> module_attrs;  // inner attributes #![...] at file top level
  // Items nested deeper than the extractor goes were skipped (a diagnostic
  // says where).
  bool truncated = false;
};

// Stable text names: "param", "return", "field", "alias", "impl_self",
// "impl_trait", "bound", "generic_arg", "other"; "path", "method", "macro".
std::string_view TypeRefRoleName(TypeRefRole role);
std::string_view CallKindName(CallKind kind);

// Extracts the items of `source`, already parsed into `tree`. `parser` is
// used to re-parse macro token trees; it must not be in use elsewhere.
FileExtraction ExtractFile(std::string_view source, const SyntaxTree& tree, RustParser& parser);

// Convenience: parse then extract.
FileExtraction ParseAndExtract(std::string_view source, RustParser& parser);

// ExtractFile for a new version of a file whose old text and extraction are
// known, `tree` having been re-parsed from the old one (RustParser::Reparse,
// whose `changed` ranges are passed on): the top-level items that lie wholly
// before or after the edited lines are taken from `old` (those after moved
// by the edit's bytes and lines), the rest extracted from `tree`. Gives what
// ExtractFile(source, tree, parser) gives (tested over random edits of real
// files, syntax errors included: tree-sitter's changed ranges cover the
// structure its error recovery changed, and the diagnostics come from the
// whole new tree); falls back to it when the edit touches the module's own
// docs or attributes, or either version has items nested too deeply.
// `*incremental` tells which it did.
FileExtraction ExtractEdited(std::string_view source, const SyntaxTree& tree, RustParser& parser,
                             std::string_view old_source, const FileExtraction& old,
                             const std::vector<TSRange>& changed, bool* incremental = nullptr);

}  // namespace ferrograph

#endif  // FERROGRAPH_GRAPH_EXTRACT_H_
