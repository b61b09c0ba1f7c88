// Extraction in outline:
// - ScanItems walks an item container (the file, a module or impl body, a
//   function body) in source order, gathering the doc comments and
//   attributes before each item, and hands every item to ExtractItem, which
//   records it and scans its own insides (fields, variants, generic params,
//   associated items, nested items) with a child Scope saying where they land.
// - Item-position macro invocations are re-parsed over the inside of their
//   token tree (same file coordinates) and scanned like a container when the
//   result looks like items; `cfg_if!` is split into its branches.
// - Content hashes come from one NormalizedSyntaxIndex per tree, so nested
//   items do not re-walk their parents' syntax.
// - Diagnostics come from one pass over the ERROR / MISSING nodes.
// - References ride on the same scan: ExtractItem reads the use tree, the
//   signature types, bounds and field types of the item it records (small
//   subtrees ScanItems skips); inside a function body (Scope::fn), ScanItems
//   records calls and the local bindings that type method receivers as it
//   passes them. A body macro's token tree is scanned for call shapes
//   (`f(..)`, `.m(..)`, `m!(..)`) without a re-parse.
// Recursion is bounded by kMaxItemDepth, kMaxMacroDepth and kMaxRefDepth;
// every other walk is an iterative cursor walk.
#include "graph/extract.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/utf8.h"
#include "graph/flat_syntax_tree.h"
#include "graph/normalize.h"

namespace ferrograph {
namespace {

// Limits that keep hostile input cheap and the stack shallow.
// Nested items (mod in mod in fn ...): each level costs under 1 KiB of stack,
// so the limit needs about 256 KiB.
constexpr int kMaxItemDepth = 256;
constexpr int kMaxMacroDepth = 8;           // macro token trees re-parsed inside each other
constexpr size_t kMaxDiagnostics = 100;     // then one summary diagnostic
constexpr size_t kMaxValueSignature = 200;  // const/static/type/variant/field signatures
constexpr size_t kMaxSignature = 1000;      // any signature (a pathological header)
constexpr int kMaxRefDepth = 64;            // nesting inside one type, path or use tree

// The grammar node kinds extraction looks at. Symbols are mapped by name so
// that aliased symbols sharing a name map to the same kind.
enum class K : uint8_t {
  kOther,
  kSourceFile,
  kError,
  kLineComment,
  kBlockComment,
  kAttributeItem,
  kInnerAttributeItem,
  kAttribute,
  kFunctionItem,
  kFunctionSignatureItem,
  kStructItem,
  kEnumItem,
  kUnionItem,
  kTraitItem,
  kImplItem,
  kModItem,
  kConstItem,
  kStaticItem,
  kTypeItem,
  kAssociatedType,
  kMacroDefinition,
  kMacroInvocation,
  kUseDeclaration,
  kExternCrateDeclaration,
  kForeignModItem,
  kTokenTree,
  kFieldDeclaration,
  kFieldDeclarationList,
  kOrderedFieldDeclarationList,
  kEnumVariant,
  kVisibilityModifier,
  kSelfParameter,
  kParameter,
  kSelf,
  kCrate,
  kSuper,
  kLifetimeParameter,
  kTypeParameter,
  kConstParameter,
  kLifetime,
  kBlock,
  kStringLiteral,
  kRawStringLiteral,
  kStringContent,
  kEscapeSequence,
  kGenericType,
  kScopedTypeIdentifier,
  kTypeIdentifier,
  kMetavariable,
  kDocComment,
  kReferenceType,
  kDynamicType,
  kMutableSpecifier,
  // References (imports, type uses, calls).
  kIdentifier,
  kScopedIdentifier,
  kUseAsClause,
  kUseList,
  kScopedUseList,
  kUseWildcard,
  kPointerType,
  kArrayType,
  kTupleType,
  kAbstractType,
  kBoundedType,
  kFunctionType,
  kHigherRankedTraitBound,
  kTypeArguments,
  kTypeBinding,
  kBracketedType,
  kQualifiedType,
  kTraitBounds,
  kWhereClause,
  kWherePredicate,
  kParameters,
  kClosureParameters,
  kCallExpression,
  kGenericFunction,
  kFieldExpression,
  kLetDeclaration,
  kStructExpression,
  kTryExpression,
  kReferenceExpression,
  kParenthesizedExpression,
  kPrimitiveType,
  kUnitType,
  kTupleStructPattern,
  kRefPattern,
  kMutPattern,
  kLetCondition,
  kMatchArm,
  kMatchPattern,
  kGenericTypeWithTurbofish,
};

struct NamedKind {
  const char* name;
  K kind;
};

constexpr NamedKind kNamedKinds[] = {
    {"source_file", K::kSourceFile},
    {"ERROR", K::kError},
    {"line_comment", K::kLineComment},
    {"block_comment", K::kBlockComment},
    {"attribute_item", K::kAttributeItem},
    {"inner_attribute_item", K::kInnerAttributeItem},
    {"attribute", K::kAttribute},
    {"function_item", K::kFunctionItem},
    {"function_signature_item", K::kFunctionSignatureItem},
    {"struct_item", K::kStructItem},
    {"enum_item", K::kEnumItem},
    {"union_item", K::kUnionItem},
    {"trait_item", K::kTraitItem},
    {"impl_item", K::kImplItem},
    {"mod_item", K::kModItem},
    {"const_item", K::kConstItem},
    {"static_item", K::kStaticItem},
    {"type_item", K::kTypeItem},
    {"associated_type", K::kAssociatedType},
    {"macro_definition", K::kMacroDefinition},
    {"macro_invocation", K::kMacroInvocation},
    {"use_declaration", K::kUseDeclaration},
    {"extern_crate_declaration", K::kExternCrateDeclaration},
    {"foreign_mod_item", K::kForeignModItem},
    {"token_tree", K::kTokenTree},
    {"field_declaration", K::kFieldDeclaration},
    {"field_declaration_list", K::kFieldDeclarationList},
    {"ordered_field_declaration_list", K::kOrderedFieldDeclarationList},
    {"enum_variant", K::kEnumVariant},
    {"visibility_modifier", K::kVisibilityModifier},
    {"self_parameter", K::kSelfParameter},
    {"parameter", K::kParameter},
    {"self", K::kSelf},
    {"crate", K::kCrate},
    {"super", K::kSuper},
    {"lifetime_parameter", K::kLifetimeParameter},
    {"type_parameter", K::kTypeParameter},
    {"const_parameter", K::kConstParameter},
    {"lifetime", K::kLifetime},
    {"block", K::kBlock},
    {"string_literal", K::kStringLiteral},
    {"raw_string_literal", K::kRawStringLiteral},
    {"string_content", K::kStringContent},
    {"escape_sequence", K::kEscapeSequence},
    {"generic_type", K::kGenericType},
    {"scoped_type_identifier", K::kScopedTypeIdentifier},
    {"type_identifier", K::kTypeIdentifier},
    {"metavariable", K::kMetavariable},
    {"doc_comment", K::kDocComment},
    {"reference_type", K::kReferenceType},
    {"dynamic_type", K::kDynamicType},
    {"mutable_specifier", K::kMutableSpecifier},
    {"identifier", K::kIdentifier},
    {"scoped_identifier", K::kScopedIdentifier},
    {"use_as_clause", K::kUseAsClause},
    {"use_list", K::kUseList},
    {"scoped_use_list", K::kScopedUseList},
    {"use_wildcard", K::kUseWildcard},
    {"pointer_type", K::kPointerType},
    {"array_type", K::kArrayType},
    {"tuple_type", K::kTupleType},
    {"abstract_type", K::kAbstractType},
    {"bounded_type", K::kBoundedType},
    {"function_type", K::kFunctionType},
    {"higher_ranked_trait_bound", K::kHigherRankedTraitBound},
    {"type_arguments", K::kTypeArguments},
    {"type_binding", K::kTypeBinding},
    {"bracketed_type", K::kBracketedType},
    {"qualified_type", K::kQualifiedType},
    {"trait_bounds", K::kTraitBounds},
    {"where_clause", K::kWhereClause},
    {"where_predicate", K::kWherePredicate},
    {"parameters", K::kParameters},
    {"closure_parameters", K::kClosureParameters},
    {"call_expression", K::kCallExpression},
    {"generic_function", K::kGenericFunction},
    {"field_expression", K::kFieldExpression},
    {"let_declaration", K::kLetDeclaration},
    {"struct_expression", K::kStructExpression},
    {"try_expression", K::kTryExpression},
    {"reference_expression", K::kReferenceExpression},
    {"parenthesized_expression", K::kParenthesizedExpression},
    {"primitive_type", K::kPrimitiveType},
    {"unit_type", K::kUnitType},
    {"tuple_struct_pattern", K::kTupleStructPattern},
    {"ref_pattern", K::kRefPattern},
    {"mut_pattern", K::kMutPattern},
    {"let_condition", K::kLetCondition},
    {"match_arm", K::kMatchArm},
    {"match_pattern", K::kMatchPattern},
    {"generic_type_with_turbofish", K::kGenericTypeWithTurbofish},
};

struct Grammar {
  std::vector<K> kinds;  // by symbol; anonymous tokens are kOther
  TSFieldId f_name, f_body, f_type, f_trait, f_value, f_parameters, f_type_parameters, f_pattern,
      f_macro, f_argument, f_arguments, f_alias, f_doc, f_return_type, f_bounds, f_left, f_element,
      f_path, f_list, f_function, f_field, f_type_arguments, f_default_type;

  Grammar() {
    const TSLanguage* lang = RustLanguage();
    uint32_t n = ts_language_symbol_count(lang);
    kinds.assign(n, K::kOther);
    for (uint32_t s = 0; s < n; ++s) {
      if (ts_language_symbol_type(lang, static_cast<TSSymbol>(s)) != TSSymbolTypeRegular) continue;
      const char* name = ts_language_symbol_name(lang, static_cast<TSSymbol>(s));
      if (!name) continue;
      for (const NamedKind& nk : kNamedKinds) {
        if (std::strcmp(nk.name, name) == 0) kinds[s] = nk.kind;
      }
    }
    auto field = [&](const char* f) {
      return ts_language_field_id_for_name(lang, f, static_cast<uint32_t>(std::strlen(f)));
    };
    f_name = field("name");
    f_body = field("body");
    f_type = field("type");
    f_trait = field("trait");
    f_value = field("value");
    f_parameters = field("parameters");
    f_type_parameters = field("type_parameters");
    f_pattern = field("pattern");
    f_macro = field("macro");
    f_argument = field("argument");
    f_arguments = field("arguments");
    f_alias = field("alias");
    f_doc = field("doc");
    f_return_type = field("return_type");
    f_bounds = field("bounds");
    f_left = field("left");
    f_element = field("element");
    f_path = field("path");
    f_list = field("list");
    f_function = field("function");
    f_field = field("field");
    f_type_arguments = field("type_arguments");
    f_default_type = field("default_type");
  }

  K Kind(TSNode n) const { return ts_node_is_null(n) ? K::kOther : Kind(ts_node_symbol(n)); }
  K Kind(TSSymbol s) const {
    if (s == static_cast<TSSymbol>(-1)) return K::kError;  // ts_builtin_sym_error
    return s < kinds.size() ? kinds[s] : K::kOther;
  }
};

const Grammar& G() {
  static const Grammar* const grammar = new Grammar();
  return *grammar;
}

bool IsItemKind(K k) {
  switch (k) {
    case K::kFunctionItem:
    case K::kFunctionSignatureItem:
    case K::kStructItem:
    case K::kEnumItem:
    case K::kUnionItem:
    case K::kTraitItem:
    case K::kImplItem:
    case K::kModItem:
    case K::kConstItem:
    case K::kStaticItem:
    case K::kTypeItem:
    case K::kAssociatedType:
    case K::kMacroDefinition:
    case K::kUseDeclaration:
    case K::kExternCrateDeclaration:
    case K::kForeignModItem: return true;
    default: return false;
  }
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

void TruncateUtf8(std::string* s, size_t max) {
  if (s->size() <= max) return;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>((*s)[n]) & 0xC0) == 0x80) --n;
  s->resize(n);
}

// Drops a trailing `;` (and the space before it) from collapsed text.
void StripTrailingSemicolon(std::string* s) {
  if (!s->empty() && s->back() == ';') s->pop_back();
  while (!s->empty() && s->back() == ' ') s->pop_back();
}

// The value of a Rust string literal escape such as `\n`, `\u{1F600}`, or a
// line continuation (`\` + newline + indentation, which yields nothing).
void AppendUnescaped(std::string_view esc, std::string* out) {
  if (esc.size() < 2 || esc[0] != '\\') {
    out->append(esc);
    return;
  }
  switch (esc[1]) {
    case 'n': out->push_back('\n'); return;
    case 't': out->push_back('\t'); return;
    case 'r': out->push_back('\r'); return;
    case '0': out->push_back('\0'); return;
    case '\\': out->push_back('\\'); return;
    case '"': out->push_back('"'); return;
    case '\'': out->push_back('\''); return;
    case '\n':
    case '\r': return;
    case 'x':
      if (esc.size() >= 4) {
        out->push_back(
            static_cast<char>(std::strtoul(std::string(esc.substr(2, 2)).c_str(), nullptr, 16)));
        return;
      }
      break;
    case 'u': {
      size_t open = esc.find('{'), close = esc.find('}');
      if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
        std::string hex(esc.substr(open + 1, close - open - 1));
        hex.erase(std::remove(hex.begin(), hex.end(), '_'), hex.end());
        AppendUtf8(static_cast<uint32_t>(std::strtoul(hex.c_str(), nullptr, 16)), out);
        return;
      }
      break;
    }
    default: break;
  }
  out->append(esc);
}

// Cursors reused across calls: a fresh TSTreeCursor allocates its stack.
// Acquire/release nest (a callback may iterate another node's children).
class CursorPool {
 public:
  ~CursorPool() {
    for (TSTreeCursor& c : cursors_) ts_tree_cursor_delete(&c);
  }
  TSTreeCursor* Acquire(TSNode n) {
    if (used_ == cursors_.size()) {
      cursors_.push_back(ts_tree_cursor_new(n));
    } else {
      ts_tree_cursor_reset(&cursors_[used_], n);
    }
    return &cursors_[used_++];
  }
  void Release() { --used_; }

 private:
  std::deque<TSTreeCursor> cursors_;  // a deque: growing keeps handed-out pointers valid
  size_t used_ = 0;
};

thread_local CursorPool cursor_pool;

// Calls fn(child, field) for each direct child of `n`, in order, until fn
// returns false. O(1) per step, unlike ts_node_child(i).
template <typename Fn>
void ForEachChild(TSNode n, Fn&& fn) {
  if (ts_node_is_null(n)) return;
  TSTreeCursor* c = cursor_pool.Acquire(n);
  if (ts_tree_cursor_goto_first_child(c)) {
    do {
      if (!fn(ts_tree_cursor_current_node(c), ts_tree_cursor_current_field_id(c))) break;
    } while (ts_tree_cursor_goto_next_sibling(c));
  }
  cursor_pool.Release();
}

TSNode FirstChildOfKind(TSNode n, K kind) {
  TSNode found{};
  ForEachChild(n, [&](TSNode child, TSFieldId) {
    if (G().Kind(child) != kind) return true;
    found = child;
    return false;
  });
  return found;
}

TSNode Field(TSNode n, TSFieldId f) {
  return ts_node_is_null(n) ? n : ts_node_child_by_field_id(n, f);
}

// NodeText that accepts a null node (an absent field) and yields "".
std::string_view Text(TSNode n, std::string_view source) {
  return ts_node_is_null(n) ? std::string_view() : NodeText(n, source);
}

bool TokenIs(TSNode n, std::string_view text, std::string_view source) {
  return !ts_node_is_named(n) && Text(n, source) == text;
}

// The span of [first, last] in file coordinates, 1-based lines.
Span MakeSpan(TSNode first, TSNode last) {
  Span s;
  s.start_byte = ts_node_start_byte(first);
  s.end_byte = ts_node_end_byte(last);
  s.start_line = ts_node_start_point(first).row + 1;
  TSPoint end = ts_node_end_point(last);
  // A node ending just after a newline (a line comment) ends on the line before.
  s.end_line = end.row + 1;
  if (end.column == 0 && end.row > ts_node_start_point(first).row) s.end_line = end.row;
  return s;
}

Visibility ParseVisibility(TSNode vis, std::string_view source) {
  if (ts_node_is_null(vis)) return Visibility::kPrivate;
  bool has_in = false, has_crate = false, has_super = false, has_self = false;
  ForEachChild(vis, [&](TSNode c, TSFieldId) {
    K k = G().Kind(c);
    if (k == K::kCrate) has_crate = true;
    if (k == K::kSuper) has_super = true;
    if (k == K::kSelf) has_self = true;
    if (TokenIs(c, "in", source)) has_in = true;
    return true;
  });
  if (has_in || has_self) return Visibility::kRestricted;
  if (has_super) return Visibility::kSuper;
  if (has_crate) return Visibility::kCrate;
  return Visibility::kPublic;
}

// Text of a doc comment node with its markers removed: `/// x` -> "x";
// `/** a\n * b */` -> "a\nb".
std::string DocCommentText(TSNode comment, std::string_view source) {
  TSNode doc = Field(comment, G().f_doc);
  if (ts_node_is_null(doc)) return "";
  std::string_view text = Text(doc, source);
  if (G().Kind(comment) == K::kLineComment) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    return std::string(text);
  }
  // Block doc: strip a leading `*` decoration from continuation lines, drop
  // blank first/last lines, and remove one leading space per line.
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    while (!line.empty() && IsSpace(line.back())) line.remove_suffix(1);
    if (!lines.empty() || pos > 0) {
      std::string_view t = line;
      while (!t.empty() && IsSpace(t.front())) t.remove_prefix(1);
      if (!t.empty() && t.front() == '*') line = t.substr(1);
    }
    lines.push_back(line);
    pos = nl + 1;
  }
  while (!lines.empty() && Trim(lines.front()).empty()) lines.erase(lines.begin());
  while (!lines.empty() && Trim(lines.back()).empty()) lines.pop_back();
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (i) out.push_back('\n');
    out.append(line);
  }
  return out;
}

// The value of a string literal node (escapes decoded), or of a raw string.
std::string StringLiteralValue(TSNode lit, std::string_view source) {
  std::string out;
  ForEachChild(lit, [&](TSNode c, TSFieldId) {
    K k = G().Kind(c);
    if (k == K::kStringContent) out.append(Text(c, source));
    if (k == K::kEscapeSequence) AppendUnescaped(Text(c, source), &out);
    return true;
  });
  return out;
}

void AppendDoc(std::string_view piece, std::string* docs) {
  if (!docs->empty()) docs->push_back('\n');
  docs->append(piece);
}

// Inner text of a delimited token tree, collapsed: `(a, b)` -> "a, b".
std::string TokenTreeInner(TSNode tt, std::string_view source) {
  std::string text = CollapsedText(tt, source);
  std::string_view v = text;
  if (!v.empty() && (v.front() == '(' || v.front() == '[' || v.front() == '{')) v.remove_prefix(1);
  if (!v.empty() && (v.back() == ')' || v.back() == ']' || v.back() == '}')) v.remove_suffix(1);
  return std::string(Trim(v));
}

// Attributes of one item, sorted into their fields.
struct AttrInfo {
  std::string docs;
  std::vector<std::string> cfgs, derives, attrs;
  std::optional<std::string> path_attr;
};

void ParseAttribute(TSNode attr_item, std::string_view source, AttrInfo* info) {
  const Grammar& g = G();
  TSNode attr = FirstChildOfKind(attr_item, K::kAttribute);
  if (ts_node_is_null(attr)) return;
  TSNode path = ts_node_named_child(attr, 0);
  std::string_view name = Text(path, source);
  TSNode args = Field(attr, g.f_arguments);
  TSNode value = Field(attr, g.f_value);
  if (name == "cfg" && !ts_node_is_null(args)) {
    info->cfgs.push_back(TokenTreeInner(args, source));
    return;
  }
  if (name == "derive" && !ts_node_is_null(args)) {
    std::string inner = TokenTreeInner(args, source);
    int depth = 0;
    size_t begin = 0;
    for (size_t i = 0; i <= inner.size(); ++i) {
      char ch = i < inner.size() ? inner[i] : ',';
      if (ch == '(' || ch == '[' || ch == '<') ++depth;
      if (ch == ')' || ch == ']' || ch == '>') --depth;
      if (ch == ',' && depth <= 0) {
        std::string_view entry = Trim(std::string_view(inner).substr(begin, i - begin));
        if (!entry.empty()) info->derives.emplace_back(entry);
        begin = i + 1;
      }
    }
    return;
  }
  if (name == "doc" && !ts_node_is_null(value) &&
      (G().Kind(value) == K::kStringLiteral || G().Kind(value) == K::kRawStringLiteral)) {
    std::string text = StringLiteralValue(value, source);
    std::string_view v = text;
    if (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    AppendDoc(v, &info->docs);
    return;
  }
  if (name == "path" && !ts_node_is_null(value) &&
      (G().Kind(value) == K::kStringLiteral || G().Kind(value) == K::kRawStringLiteral)) {
    info->path_attr = StringLiteralValue(value, source);
  }
  std::string text;
  AppendCollapsedText(attr, source, UINT32_MAX, kMaxSignature, &text);
  info->attrs.push_back(std::move(text));
}

AttrInfo ParseOuter(const std::vector<TSNode>& pending, std::string_view source) {
  AttrInfo info;
  for (TSNode n : pending) {
    if (G().Kind(n) == K::kAttributeItem) {
      ParseAttribute(n, source, &info);
    } else {
      AppendDoc(DocCommentText(n, source), &info.docs);
    }
  }
  return info;
}

// Last path segment of a type, generics stripped: `fmt::Display` ->
// "Display", `Wrapper<T>` -> "Wrapper", `&'a mut Vec<T>` -> "&mut Vec",
// `dyn Shape<Unit = f64>` -> "dyn Shape". Other types (slices, tuples,
// pointers, fn types) are rendered whole, collapsed.
std::string TypeBaseName(TSNode type, std::string_view source) {
  const Grammar& g = G();
  std::string prefix;
  for (int guard = 0; guard < 64; ++guard) {
    switch (g.Kind(type)) {
      case K::kGenericType: type = Field(type, g.f_type); continue;
      case K::kScopedTypeIdentifier:
        return prefix + std::string(Text(Field(type, g.f_name), source));
      case K::kTypeIdentifier: return prefix + std::string(Text(type, source));
      case K::kReferenceType:
        prefix += ts_node_is_null(FirstChildOfKind(type, K::kMutableSpecifier)) ? "&" : "&mut ";
        type = Field(type, g.f_type);
        continue;
      case K::kDynamicType:
        prefix += "dyn ";
        type = Field(type, g.f_trait);
        continue;
      default: break;
    }
    break;
  }
  std::string text;
  AppendCollapsedText(type, source, UINT32_MAX, kMaxValueSignature, &text);
  return prefix + text;
}

// Canonical text of a use tree: `std::{ fmt ,io, }` -> "std::{fmt, io}".
std::string UseTreeText(TSNode tree, std::string_view source) {
  std::vector<std::string_view> tokens;
  TSTreeCursor c = ts_tree_cursor_new(tree);
  for (;;) {
    TSNode n = ts_tree_cursor_current_node(&c);
    K k = G().Kind(n);
    bool comment = k == K::kLineComment || k == K::kBlockComment;
    if (!comment && ts_tree_cursor_goto_first_child(&c)) continue;
    if (!comment) {
      std::string_view t = Text(n, source);
      if (!t.empty()) tokens.push_back(t);
    }
    bool more = false;
    while (!(more = ts_tree_cursor_goto_next_sibling(&c))) {
      if (!ts_tree_cursor_goto_parent(&c)) break;
    }
    if (!more) break;
  }
  ts_tree_cursor_delete(&c);
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string_view t = tokens[i];
    if (t == ",") {
      if (i + 1 < tokens.size() && tokens[i + 1] == "}") continue;
      out.append(", ");
    } else if (t == "as") {
      out.append(" as ");
    } else {
      out.append(t);
    }
  }
  return out;
}

bool HasSelfParameter(TSNode params) {
  bool found = false;
  ForEachChild(params, [&](TSNode c, TSFieldId) {
    K k = G().Kind(c);
    if (k == K::kSelfParameter) {
      found = true;
      return false;
    }
    if (k == K::kParameter) {
      found = G().Kind(Field(c, G().f_pattern)) == K::kSelf;
      return false;
    }
    return true;  // `(`, attributes, comments
  });
  return found;
}

// The parameters of a fn's `parameters` node besides `self` (`self`,
// `&mut self`, `self: Box<Self>`); -1 for a C-variadic one (`...`).
// Anonymous parameters of 2015-edition trait methods (`fn f(u8);`) count.
int32_t ParameterCount(TSNode params) {
  if (ts_node_is_null(params)) return -1;
  int32_t count = 0;
  ForEachChild(params, [&](TSNode c, TSFieldId) {
    if (!ts_node_is_named(c)) {
      if (ts_node_type(c) == std::string_view("...")) count = -1;
      return count >= 0;  // `(`, `,`, `)`
    }
    K k = G().Kind(c);
    if (k == K::kSelfParameter || k == K::kAttributeItem || k == K::kLineComment ||
        k == K::kBlockComment)
      return true;
    if (k == K::kParameter && G().Kind(Field(c, G().f_pattern)) == K::kSelf) return true;
    if (ts_node_type(c) == std::string_view("variadic_parameter")) {
      count = -1;
      return false;
    }
    ++count;
    return true;
  });
  return count;
}

enum class Owner : uint8_t { kModule, kImpl, kTrait, kForeign, kFunction };

// Where items being scanned land.
struct Scope {
  Owner owner = Owner::kModule;
  int parent = -1;                      // item index; -1: the file's module
  std::string prefix;                   // rel_path prefix, "" or ending in "::"
  std::string in_macro;                 // innermost enclosing macro, "" if none
  std::vector<std::string> extra_cfgs;  // cfgs implied for the items directly in scope
  int inner_target = -1;                // item taking inner docs/attrs; -1 file; -2 none
  int depth = 0;                        // item nesting
  int macro_depth = 0;
  const NormalizedSyntaxIndex* index = nullptr;  // of the tree being scanned
  bool descend_errors = true;                    // look for recovered items inside ERROR nodes
  // References: the innermost function (or const/static initializer) whose
  // body is being scanned, null outside bodies; the self type of the impl
  // whose items are scanned (owner kImpl only); and whether only references
  // are collected (a non-block const/static initializer): no items.
  struct FnContext* fn = nullptr;
  const PathSegments* impl_self = nullptr;
  bool refs_only = false;
};

// A local name whose type may be known: a parameter, a `let`, a closure
// parameter. The type is read lazily from `tree` when a method is called on
// the name, so recording a binding allocates nothing.
struct Binding {
  // kExpr: any other value whose type a receiver chain can tell
  // (`self.lexer.peek()`, `make()`, `p.inner`); node is the expression.
  // kTupleField: bound by a tuple-struct or variant pattern written with its
  // path (`Imp::Nfa(ref nfa) =>`): node is the path, `field` the position.
  enum class Source : uint8_t { kNone, kType, kAssocCall, kStructLiteral, kExpr, kTupleField };
  std::string_view name;
  const FlatSyntaxTree* tree = nullptr;
  uint32_t node = 0;       // kType: a type; kAssocCall: the callee path; kStructLiteral: its name
  uint32_t from_byte = 0;  // in scope from here (the end of the `let`)
  uint32_t field = 0;      // kTupleField
  Source source = Source::kNone;
};

// The function body being scanned for calls.
struct FnContext {
  int item = -1;
  const PathSegments* self_type = nullptr;  // the enclosing impl's self type, for `self`
  const FlatSyntaxTree* tree = nullptr;     // the tree the body is in; bindings come from it
  size_t bindings_begin = 0;                // its bindings in Extractor::bindings_
  // A const/static's declared type, scanned along with its initializer
  // but recorded as its signature (kOther), not as a body reference.
  uint32_t declared_type = FlatSyntaxTree::kNone;
};

// Calls `fn` for every ERROR node (not descending into it) and every MISSING
// token under `root`, in source order; visits nothing when the tree is clean.
template <typename Fn>
void ForEachSyntaxError(TSNode root, Fn&& fn) {
  if (!ts_node_has_error(root)) return;
  TSTreeCursor c = ts_tree_cursor_new(root);
  for (;;) {
    TSNode n = ts_tree_cursor_current_node(&c);
    bool descend = false;
    if (ts_node_is_error(n) || ts_node_is_missing(n)) {
      fn(n);
    } else {
      descend = ts_node_has_error(n);
    }
    if (descend && ts_tree_cursor_goto_first_child(&c)) continue;
    bool more = false;
    while (!(more = ts_tree_cursor_goto_next_sibling(&c))) {
      if (!ts_tree_cursor_goto_parent(&c)) break;
    }
    if (!more) break;
  }
  ts_tree_cursor_delete(&c);
}

class Extractor {
 public:
  Extractor(std::string_view source, RustParser& parser, FileExtraction* out)
      : source_(source), parser_(parser), out_(out) {}

  void Run(const SyntaxTree& tree) {
    TSNode root = tree.root();
    FlatSyntaxTree flat(root);
    NormalizedSyntaxIndex index(flat, source_);
    tree_ = &flat;
    out_->items.reserve(CountItemNodes(flat));
    Scope scope;
    scope.index = &index;
    ScanItems(root, scope);
    tree_ = nullptr;
    CollectDiagnostics(root);
  }

  // The syntax diagnostics of the whole tree, as Run gives them.
  void Diagnose(const SyntaxTree& tree) { CollectDiagnostics(tree.root()); }

  // Run, for the file's top-level nodes that start in [begin, end) only
  // (their items, references and module-level macro calls); no syntax
  // diagnostics.
  void RunWindow(const SyntaxTree& tree, uint32_t begin, uint32_t end) {
    TSNode root = tree.root();
    FlatSyntaxTree flat;
    flat.BuildWindow(root, begin, end);
    NormalizedSyntaxIndex index(flat, source_);
    tree_ = &flat;
    Scope scope;
    scope.index = &index;
    window_ = {begin, end};
    window_pending_ = true;
    ScanItems(root, scope);
    tree_ = nullptr;
  }

 private:
  // About as many items as the tree will yield outside macros: growing the
  // item array instead costs more than this count.
  static size_t CountItemNodes(const FlatSyntaxTree& t) {
    const Grammar& g = G();
    size_t n = 0;
    for (uint32_t i = 0; i < t.size(); ++i) {
      K k = g.Kind(t[i].symbol);
      n += IsItemKind(k) || k == K::kFieldDeclaration || k == K::kEnumVariant ||
           k == K::kLifetimeParameter || k == K::kTypeParameter || k == K::kConstParameter;
    }
    return n;
  }

  // Walks the subtree under `container` in source order, extracting every
  // item found (not descending into items, which extract their own insides,
  // nor into token trees). Attributes and doc comments written before an item
  // are gathered as its "pending" prefix.
  void ScanItems(TSNode container_node, const Scope& scope) {
    const Grammar& g = G();
    const FlatSyntaxTree& t = *tree_;
    const bool windowed = window_pending_;  // the top-level scan of RunWindow
    window_pending_ = false;
    std::optional<uint32_t> container = t.Find(container_node);
    if (!container) return;
    const uint32_t end = t[*container].next;
    std::vector<TSNode> pending;
    uint32_t i = *container + 1;
    while (i < end) {
      const FlatSyntaxTree::Node& node = t[i];
      const TSNode n = node.node;
      const bool direct = node.parent == *container;
      if (windowed && direct &&
          (node.start_byte < window_.first || node.start_byte >= window_.second)) {
        i = node.next;
        continue;
      }
      K k = g.Kind(node.symbol);
      bool descend = false;
      if (k == K::kLineComment || k == K::kBlockComment) {
        bool inner = false;
        if (IsDocComment(t, i, &inner)) {
          if (!inner) {
            pending.push_back(n);
          } else if (direct) {
            AddInnerDoc(n, scope);
          }
        }
      } else if (k == K::kAttributeItem) {
        pending.push_back(n);
      } else if (k == K::kInnerAttributeItem) {
        if (direct) AddInnerAttr(n, scope);
        pending.clear();
      } else if (IsItemKind(k) && !scope.refs_only) {
        ExtractItem(n, i, k, pending, scope);
        pending.clear();
      } else if (k == K::kMacroInvocation) {
        if (scope.fn) {
          RecordMacro(i, scope);
        } else if (scope.owner != Owner::kFunction) {
          RecordItemMacro(i, scope);
          ExpandMacro(n, pending, scope);
        }
        pending.clear();
      } else {
        pending.clear();
        descend = k != K::kTokenTree && k != K::kStringLiteral && k != K::kRawStringLiteral &&
                  (k != K::kError || scope.descend_errors) &&
                  (!scope.fn || NoteReference(i, k, scope));
      }
      if (descend && node.next > i + 1) {
        ++i;
        continue;
      }
      i = node.next;
      // Leaving a parent ends the run of docs and attributes inside it.
      if (i < end && t[i].parent != node.parent) pending.clear();
    }
  }

  void AddInnerDoc(TSNode comment, const Scope& scope) {
    if (scope.inner_target == -1 && scope.in_macro.empty()) {
      AppendDoc(DocCommentText(comment, source_), &out_->module_docs);
    } else if (scope.inner_target >= 0) {
      AppendDoc(DocCommentText(comment, source_), &out_->items[scope.inner_target].docs);
    }
  }

  void AddInnerAttr(TSNode attr_item, const Scope& scope) {
    if (scope.inner_target == -1 && scope.in_macro.empty()) {
      // `#![doc = "..."]` is module documentation; the rest are kept as text.
      AttrInfo info;
      ParseAttribute(attr_item, source_, &info);
      if (!info.docs.empty()) {
        AppendDoc(info.docs, &out_->module_docs);
        return;
      }
      TSNode attr = FirstChildOfKind(attr_item, K::kAttribute);
      if (!ts_node_is_null(attr)) {
        std::string text;
        AppendCollapsedText(attr, source_, UINT32_MAX, kMaxSignature, &text);
        out_->module_attrs.push_back(std::move(text));
      }
    } else if (scope.inner_target >= 0) {
      AttrInfo info;
      ParseAttribute(attr_item, source_, &info);
      ExtractedItem& item = out_->items[scope.inner_target];
      for (auto& s : info.cfgs) item.cfgs.push_back(std::move(s));
      for (auto& s : info.derives) item.derives.push_back(std::move(s));
      for (auto& s : info.attrs) item.attrs.push_back(std::move(s));
      if (!info.docs.empty()) AppendDoc(info.docs, &item.docs);
    }
  }

  // Appends an item spanning its `pending` docs and attributes (else
  // `span_first`, else `node`) through `node`, and returns its index. A tuple
  // field passes its visibility as `span_first`: its `node` is only the type.
  int AddItem(NodeKind kind, std::string name, std::string rel_path, TSNode node,
              const std::vector<TSNode>& pending, const Scope& scope, Visibility vis,
              std::string signature, TSNode span_first = TSNode{}) {
    TSNode first =
        !pending.empty() ? pending.front() : (!ts_node_is_null(span_first) ? span_first : node);
    ExtractedItem item;
    item.kind = kind;
    item.name = std::move(name);
    item.rel_path = std::move(rel_path);
    item.parent = scope.parent;
    item.span = MakeSpan(first, node);
    item.visibility = vis;
    item.signature = std::move(signature);
    AttrInfo info = ParseOuter(pending, source_);
    item.docs = std::move(info.docs);
    item.cfgs = scope.extra_cfgs;
    for (auto& s : info.cfgs) item.cfgs.push_back(std::move(s));
    item.derives = std::move(info.derives);
    item.attrs = std::move(info.attrs);
    item.in_macro = scope.in_macro;
    std::optional<ContentHash> hash;
    if (scope.index) hash = scope.index->HashRange(first, node);
    item.content_hash = hash ? *hash : HashNormalizedSyntax(first, node, source_);
    out_->items.push_back(std::move(item));
    return static_cast<int>(out_->items.size()) - 1;
  }

  // AppendCollapsedText over the flat tree being scanned.
  void AppendCollapsed(TSNode node, uint32_t end_byte, size_t max, std::string* out) {
    std::optional<uint32_t> i = tree_ ? tree_->Find(node) : std::nullopt;
    if (i) {
      AppendCollapsedText(*tree_, *i, source_, end_byte, max, out);
    } else {
      AppendCollapsedText(node, source_, end_byte, max, out);
    }
  }

  // Collapsed text of `node`, at most `max` bytes.
  std::string Bounded(TSNode node, size_t max) {
    std::string s;
    AppendCollapsed(node, UINT32_MAX, max, &s);
    return s;
  }

  std::string Signature(TSNode node, uint32_t end_byte, size_t max = kMaxSignature) {
    std::string s;
    AppendCollapsed(node, end_byte, max, &s);
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
  }

  // Header up to the body's start; without a body, the whole text minus `;`.
  std::string HeaderSignature(TSNode node, TSNode body) {
    if (!ts_node_is_null(body)) return Signature(node, ts_node_start_byte(body));
    std::string s = Signature(node, UINT32_MAX);
    StripTrailingSemicolon(&s);
    return s;
  }

  std::string ValueSignature(TSNode node) {
    std::string s = Signature(node, UINT32_MAX, kMaxValueSignature + 1);
    StripTrailingSemicolon(&s);
    TruncateUtf8(&s, kMaxValueSignature);
    return s;
  }

  Visibility ItemVisibility(TSNode node, const Scope& scope) {
    if (scope.owner == Owner::kTrait) return Visibility::kPublic;
    return ParseVisibility(FirstChildOfKind(node, K::kVisibilityModifier), source_);
  }

  Scope ChildScope(const Scope& scope, Owner owner, int parent, std::string prefix) {
    Scope s;
    s.owner = owner;
    s.parent = parent;
    s.prefix = std::move(prefix);
    s.in_macro = scope.in_macro;
    s.inner_target = -2;
    s.depth = scope.depth + 1;
    s.macro_depth = scope.macro_depth;
    s.index = scope.index;
    s.descend_errors = scope.descend_errors;
    return s;
  }

  bool TooDeep(const Scope& scope, TSNode node) {
    if (scope.depth < kMaxItemDepth) return false;
    if (!depth_reported_) {
      depth_reported_ = true;
      TSPoint p = ts_node_start_point(node);
      AddDiagnostic(p, "items nested too deeply; inner items skipped");
      out_->truncated = true;
    }
    return true;
  }

  // `fi` is `n`'s index in tree_.
  void ExtractItem(TSNode n, uint32_t fi, K k, const std::vector<TSNode>& pending,
                   const Scope& scope) {
    if (TooDeep(scope, n)) return;
    const Grammar& g = G();
    std::string name(Text(Field(n, g.f_name), source_));
    switch (k) {
      case K::kFunctionItem:
      case K::kFunctionSignatureItem: {
        bool assoc = scope.owner == Owner::kImpl || scope.owner == Owner::kTrait;
        NodeKind kind = assoc && HasSelfParameter(Field(n, g.f_parameters)) ? NodeKind::kMethod
                                                                            : NodeKind::kFunction;
        TSNode body = Field(n, g.f_body);
        std::string path = scope.prefix + name;
        int idx = AddItem(kind, name, path, n, pending, scope, ItemVisibility(n, scope),
                          HeaderSignature(n, body));
        out_->items[idx].params = ParameterCount(Field(n, g.f_parameters));
        ExtractGenerics(Field(n, g.f_type_parameters), idx, path, scope);
        SignatureRefs(fi, idx);
        if (!ts_node_is_null(body)) {
          FnContext fn{idx, scope.owner == Owner::kImpl ? scope.impl_self : nullptr, tree_,
                       bindings_.size()};
          BindParameters(tree_->ChildByField(fi, g.f_parameters), 0);
          Scope s = ChildScope(scope, Owner::kFunction, idx, path + "::");
          s.fn = &fn;
          ScanItems(body, s);
          bindings_.resize(fn.bindings_begin);
        }
        return;
      }
      case K::kStructItem:
      case K::kUnionItem: {
        TSNode body = Field(n, g.f_body);
        std::string path = scope.prefix + name;
        std::string sig = G().Kind(body) == K::kFieldDeclarationList
                              ? Signature(n, ts_node_start_byte(body))
                              : HeaderSignature(n, TSNode{});
        int idx = AddItem(k == K::kStructItem ? NodeKind::kStruct : NodeKind::kUnion, name, path, n,
                          pending, scope, ItemVisibility(n, scope), std::move(sig));
        ExtractGenerics(Field(n, g.f_type_parameters), idx, path, scope);
        GenericRefs(fi, idx);
        ExtractFields(body, ChildScope(scope, Owner::kModule, idx, path + "::"), false);
        return;
      }
      case K::kEnumItem: {
        TSNode body = Field(n, g.f_body);
        std::string path = scope.prefix + name;
        int idx = AddItem(NodeKind::kEnum, name, path, n, pending, scope, ItemVisibility(n, scope),
                          HeaderSignature(n, body));
        ExtractGenerics(Field(n, g.f_type_parameters), idx, path, scope);
        GenericRefs(fi, idx);
        ExtractVariants(body, ChildScope(scope, Owner::kModule, idx, path + "::"));
        return;
      }
      case K::kTraitItem: {
        TSNode body = Field(n, g.f_body);
        std::string path = scope.prefix + name;
        int idx = AddItem(NodeKind::kTrait, name, path, n, pending, scope, ItemVisibility(n, scope),
                          HeaderSignature(n, body));
        ExtractGenerics(Field(n, g.f_type_parameters), idx, path, scope);
        GenericParamRefs(fi, idx);
        BoundRefs(tree_->ChildByField(fi, g.f_bounds), idx, "Self");
        WhereRefs(fi, idx);
        if (!ts_node_is_null(body))
          ScanItems(body, ChildScope(scope, Owner::kTrait, idx, path + "::"));
        return;
      }
      case K::kImplItem: {
        ExtractImpl(n, fi, pending, scope);
        return;
      }
      case K::kModItem: {
        TSNode body = Field(n, g.f_body);
        std::string path = scope.prefix + name;
        int idx = AddItem(NodeKind::kModule, name, path, n, pending, scope,
                          ItemVisibility(n, scope), HeaderSignature(n, body));
        std::optional<std::string> path_attr;
        for (TSNode p : pending) {
          if (g.Kind(p) != K::kAttributeItem) continue;
          AttrInfo info;
          ParseAttribute(p, source_, &info);
          if (info.path_attr) path_attr = info.path_attr;
        }
        if (ts_node_is_null(body)) {
          ModDecl decl;
          decl.item = idx;
          decl.name = name;
          decl.path_attr = std::move(path_attr);
          decl.enclosing = enclosing_;
          out_->mods.push_back(std::move(decl));
        } else {
          enclosing_.push_back(InlineModule{name, std::move(path_attr)});
          Scope s = ChildScope(scope, Owner::kModule, idx, path + "::");
          s.inner_target = idx;
          ScanItems(body, s);
          enclosing_.pop_back();
        }
        return;
      }
      case K::kConstItem:
      case K::kStaticItem: {
        std::string path = scope.prefix + name;
        int idx = AddItem(k == K::kConstItem ? NodeKind::kConst : NodeKind::kStatic, name, path, n,
                          pending, scope, ItemVisibility(n, scope), ValueSignature(n));
        const uint32_t declared_type = tree_->ChildByField(fi, g.f_type);
        TypeRefsOf(declared_type, TypeRefRole::kOther, idx);
        // `const _: () = { impl Trait for X { ... } };` hides items in a block;
        // other initializers are only scanned for calls.
        TSNode value = Field(n, g.f_value);
        if (ts_node_is_null(value)) return;
        FnContext fn{idx, nullptr, tree_, bindings_.size(), declared_type};
        Scope s = ChildScope(scope, Owner::kFunction, idx, path + "::");
        s.fn = &fn;
        if (g.Kind(value) == K::kBlock) {
          ScanItems(value, s);
        } else {
          s.refs_only = true;
          ScanItems(n, s);
        }
        bindings_.resize(fn.bindings_begin);
        return;
      }
      case K::kTypeItem:
      case K::kAssociatedType: {
        std::string path = scope.prefix + name;
        int idx = AddItem(NodeKind::kTypeAlias, name, path, n, pending, scope,
                          ItemVisibility(n, scope), ValueSignature(n));
        ExtractGenerics(Field(n, g.f_type_parameters), idx, path, scope);
        GenericParamRefs(fi, idx);
        if (k == K::kAssociatedType) {
          BoundRefs(tree_->ChildByField(fi, g.f_bounds), idx, name);
        } else {
          TypeRefsOf(tree_->ChildByField(fi, g.f_type), TypeRefRole::kAlias, idx);
        }
        WhereRefs(fi, idx);
        return;
      }
      case K::kMacroDefinition: {
        AddItem(NodeKind::kMacro, name, scope.prefix + name, n, pending, scope,
                ItemVisibility(n, scope), "macro_rules! " + name);
        return;
      }
      case K::kUseDeclaration: {
        std::string tree = UseTreeText(Field(n, g.f_argument), source_);
        Visibility vis = ItemVisibility(n, scope);
        int idx = AddItem(NodeKind::kUse, tree, scope.prefix + "use " + tree, n, pending, scope,
                          vis, HeaderSignature(n, TSNode{}));
        PathSegments prefix;
        FlattenUse(tree_->ChildByField(fi, g.f_argument), &prefix, idx, vis, 0);
        return;
      }
      case K::kExternCrateDeclaration: {
        std::string text = "extern crate " + name;
        TSNode alias = Field(n, g.f_alias);
        if (!ts_node_is_null(alias)) text += " as " + std::string(Text(alias, source_));
        Visibility vis = ItemVisibility(n, scope);
        int idx = AddItem(NodeKind::kUse, text, scope.prefix + text, n, pending, scope, vis,
                          HeaderSignature(n, TSNode{}));
        if (name.empty()) return;
        UseImport u;
        u.item = idx;
        u.path.push_back(name);
        u.alias = std::string(Text(alias, source_));
        u.extern_crate = true;
        u.visibility = vis;
        u.line = ts_node_start_point(n).row + 1;
        out_->imports.push_back(std::move(u));
        return;
      }
      case K::kForeignModItem: {
        // Not an item of its own: its functions and statics belong to the
        // enclosing module, with the block's cfgs.
        Scope s = scope;
        s.owner = Owner::kForeign;
        s.inner_target = -2;
        AttrInfo info = ParseOuter(pending, source_);
        for (auto& c : info.cfgs) s.extra_cfgs.push_back(std::move(c));
        TSNode body = Field(n, g.f_body);
        if (!ts_node_is_null(body)) ScanItems(body, s);
        return;
      }
      default: return;
    }
  }

  void ExtractImpl(TSNode n, uint32_t fi, const std::vector<TSNode>& pending, const Scope& scope) {
    const Grammar& g = G();
    TSNode trait = Field(n, g.f_trait);
    TSNode type = Field(n, g.f_type);
    TSNode body = Field(n, g.f_body);
    std::string name = "impl ";
    if (!ts_node_is_null(trait)) {
      // A negative impl writes `!` before the trait.
      bool negative = false;
      ForEachChild(n, [&](TSNode c, TSFieldId) {
        if (ts_node_start_byte(c) >= ts_node_start_byte(trait)) return false;
        if (TokenIs(c, "!", source_)) negative = true;
        return true;
      });
      if (negative) name += "!";
      name += Bounded(trait, kMaxSignature) + " for ";
    }
    name += Bounded(type, kMaxSignature);
    std::string path = scope.prefix + name;
    int idx = AddItem(NodeKind::kImpl, name, path, n, pending, scope, Visibility::kPrivate,
                      HeaderSignature(n, body));
    ExtractGenerics(Field(n, g.f_type_parameters), idx, path, scope);
    const FlatSyntaxTree& t = *tree_;
    GenericParamRefs(fi, idx);
    TypeRefsOf(t.ChildByField(fi, g.f_trait), TypeRefRole::kImplTrait, idx);
    const uint32_t self_type = t.ChildByField(fi, g.f_type);
    TypeRefsOf(self_type, TypeRefRole::kImplSelf, idx);
    WhereRefs(fi, idx);
    if (ts_node_is_null(body)) return;
    std::string base = TypeBaseName(type, source_);
    if (!ts_node_is_null(trait)) base = "<" + base + " as " + TypeBaseName(trait, source_) + ">";
    PathSegments self_path;
    TypePath(t, self_type, &self_path);
    Scope s = ChildScope(scope, Owner::kImpl, idx, scope.prefix + base + "::");
    s.impl_self = &self_path;
    ScanItems(body, s);
  }

  void ExtractGenerics(TSNode params, int owner, const std::string& owner_path,
                       const Scope& scope) {
    if (ts_node_is_null(params)) return;
    const Grammar& g = G();
    Scope s = ChildScope(scope, Owner::kModule, owner, owner_path + "::");
    std::vector<TSNode> pending;
    ForEachChild(params, [&](TSNode c, TSFieldId) {
      K k = g.Kind(c);
      if (k == K::kAttributeItem) {
        pending.push_back(c);
        return true;
      }
      std::string name;
      if (k == K::kLifetimeParameter) {
        name = std::string(Text(Field(c, g.f_name), source_));
      } else if (k == K::kTypeParameter || k == K::kConstParameter) {
        name = std::string(Text(Field(c, g.f_name), source_));
      } else {
        if (ts_node_is_named(c) && k != K::kLineComment && k != K::kBlockComment) pending.clear();
        return true;
      }
      if (!name.empty()) {
        AddItem(NodeKind::kGenericParam, name, s.prefix + name, c, pending, s, Visibility::kPrivate,
                Bounded(c, kMaxValueSignature));
      }
      pending.clear();
      return true;
    });
  }

  // Fields of a struct, union or variant body.
  void ExtractFields(TSNode body, const Scope& s, bool of_variant) {
    if (ts_node_is_null(body)) return;
    const Grammar& g = G();
    std::vector<TSNode> pending;
    K body_kind = g.Kind(body);
    if (body_kind == K::kFieldDeclarationList) {
      ForEachChild(body, [&](TSNode c, TSFieldId) {
        K k = g.Kind(c);
        if (k == K::kAttributeItem || (IsDocComment(c) && !IsInnerDoc(c))) {
          pending.push_back(c);
        } else if (k == K::kFieldDeclaration) {
          std::string name(Text(Field(c, g.f_name), source_));
          std::string sig = name + ": " + Bounded(Field(c, g.f_type), kMaxValueSignature);
          Visibility vis =
              of_variant ? Visibility::kPublic
                         : ParseVisibility(FirstChildOfKind(c, K::kVisibilityModifier), source_);
          int idx =
              AddItem(NodeKind::kField, name, s.prefix + name, c, pending, s, vis, std::move(sig));
          FieldTypeRefs(Field(c, g.f_type), idx);
          pending.clear();
        } else if (k != K::kLineComment && k != K::kBlockComment) {
          pending.clear();
        }
        return true;
      });
    } else if (body_kind == K::kOrderedFieldDeclarationList) {
      int index = 0;
      TSNode vis{};
      ForEachChild(body, [&](TSNode c, TSFieldId field) {
        K k = g.Kind(c);
        if (field == g.f_type) {
          std::string name = std::to_string(index++);
          std::string sig = name + ": " + Bounded(c, kMaxValueSignature);
          Visibility v = of_variant ? Visibility::kPublic : ParseVisibility(vis, source_);
          int idx = AddItem(NodeKind::kField, name, s.prefix + name, c, pending, s, v,
                            std::move(sig), vis);
          FieldTypeRefs(c, idx);
          pending.clear();
          vis = TSNode{};
        } else if (k == K::kAttributeItem || (IsDocComment(c) && !IsInnerDoc(c))) {
          pending.push_back(c);
        } else if (k == K::kVisibilityModifier) {
          vis = c;
        } else if (k != K::kLineComment && k != K::kBlockComment) {
          pending.clear();
          vis = TSNode{};
        }
        return true;
      });
    }
  }

  static bool IsInnerDoc(TSNode c) {
    bool inner = false;
    return IsDocComment(c, &inner) && inner;
  }

  void ExtractVariants(TSNode list, const Scope& s) {
    if (ts_node_is_null(list)) return;
    const Grammar& g = G();
    std::vector<TSNode> pending;
    ForEachChild(list, [&](TSNode c, TSFieldId) {
      K k = g.Kind(c);
      if (k == K::kAttributeItem || (IsDocComment(c) && !IsInnerDoc(c))) {
        pending.push_back(c);
      } else if (k == K::kEnumVariant) {
        if (TooDeep(s, c)) return false;
        std::string name(Text(Field(c, g.f_name), source_));
        std::string path = s.prefix + name;
        int idx = AddItem(NodeKind::kVariant, name, path, c, pending, s, Visibility::kPublic,
                          ValueSignature(c));
        ExtractFields(Field(c, g.f_body), ChildScope(s, Owner::kModule, idx, path + "::"), true);
        pending.clear();
      } else if (k != K::kLineComment && k != K::kBlockComment) {
        pending.clear();
      }
      return true;
    });
  }

  // Item-position macro invocation: when its token tree parses as items,
  // those items are extracted as if written in place, tagged with the macro.
  void ExpandMacro(TSNode inv, const std::vector<TSNode>& pending, const Scope& scope) {
    if (scope.macro_depth >= kMaxMacroDepth || TooDeep(scope, inv)) return;
    const Grammar& g = G();
    std::string name = CollapsedText(Field(inv, g.f_macro), source_);
    TSNode tt = FirstChildOfKind(inv, K::kTokenTree);
    if (ts_node_is_null(tt) || name.empty()) return;
    AttrInfo outer = ParseOuter(pending, source_);
    std::vector<std::string> cfgs = scope.extra_cfgs;
    for (auto& c : outer.cfgs) cfgs.push_back(std::move(c));

    std::string_view last_segment = name;
    if (size_t p = last_segment.rfind("::"); p != std::string_view::npos) {
      last_segment = last_segment.substr(p + 2);
    }
    if (last_segment == "cfg_if") {
      ExpandCfgIf(tt, name, cfgs, scope);
      return;
    }
    if (!MayHoldItems(tt)) return;
    ReparseTokenTree(tt, name, std::move(cfgs), scope);
  }

  // Cheap filter before a re-parse: item syntax has, at the start of the
  // tree or right after a `;` or a `{...}` group, an item: outer attributes
  // and a visibility, then an item keyword or a macro invocation
  // (`path! (...)`). Macros with their own syntax fail it and are skipped,
  // which matters: tree-sitter's error recovery on them costs several times
  // a parse. Argument lists (`mat!(name, r"a", t!("x"))`) have no item start;
  // winapi's `RIDL!{#[uuid(..)] interface I(IVtbl) {..}}` has an attribute
  // but no item after it; `UNION!{union U { [u32; 4], a a_mut: T }}` and
  // bitflags 1's `pub struct Flags: u32 {..}` have a keyword whose next
  // tokens are not a struct's or union's.
  bool MayHoldItems(TSNode tt) {
    std::vector<TSNode> toks;  // the tree's tokens, without delimiters and comments
    ForEachChild(tt, [&](TSNode c, TSFieldId) {
      K k = G().Kind(c);
      if (k != K::kLineComment && k != K::kBlockComment) toks.push_back(c);
      return true;
    });
    if (toks.size() < 2) return false;
    toks.erase(toks.begin());  // the opening delimiter
    toks.pop_back();           // the closing one
    bool at_start = true;      // at the start of a statement or item
    for (size_t i = 0; i < toks.size(); ++i) {
      if (at_start && ItemStartsAt(toks, i)) return true;
      std::string_view t = Text(toks[i], source_);
      at_start = t == ";" || (G().Kind(toks[i]) == K::kTokenTree && !t.empty() && t.front() == '{');
    }
    return false;
  }

  bool IsGroup(TSNode n, char open) const {
    if (G().Kind(n) != K::kTokenTree) return false;
    std::string_view t = Text(n, source_);
    return !t.empty() && t.front() == open;
  }

  // Whether toks[i...] starts an item, as far as its first tokens tell.
  bool ItemStartsAt(const std::vector<TSNode>& toks, size_t i) const {
    static constexpr std::string_view kStarters[] = {
        "fn",  "trait",  "impl",   "mod",   "const",       "static", "type",
        "use", "extern", "unsafe", "async", "macro_rules", "default"};
    auto text = [&](size_t j) { return j < toks.size() ? Text(toks[j], source_) : ""; };
    while (text(i) == "#") {  // outer (or inner) attributes
      if (text(i + 1) == "!") ++i;
      if (i + 1 >= toks.size() || !IsGroup(toks[i + 1], '[')) return false;
      i += 2;
    }
    if (text(i) == "pub") {
      ++i;
      if (i < toks.size() && IsGroup(toks[i], '(')) ++i;  // pub(crate), pub(in path)
    }
    if (i >= toks.size()) return false;
    std::string_view t = text(i);
    for (std::string_view kw : kStarters) {
      if (t == kw) return true;
    }
    if (t == "struct" || t == "union" || t == "enum") return AdtHeadAt(toks, i);
    // A macro invocation: a path, `!`, a group.
    size_t j = i;
    while (j < toks.size() && G().Kind(toks[j]) != K::kTokenTree &&
           ((ts_node_is_named(toks[j]) && G().Kind(toks[j]) != K::kStringLiteral) ||
            text(j) == "::")) {
      ++j;
    }
    return j > i && text(j) == "!" && j + 1 < toks.size() && G().Kind(toks[j + 1]) == K::kTokenTree;
  }

  // `struct`/`union`/`enum` at toks[i]: a name, not followed by `:`, and
  // when a braced body follows the name, a body that does not start with a
  // group or with two names in a row. Lenient beyond that: a re-parse that
  // recovers from a small error still yields the item (syn's
  // `pub struct ExprArray #full { .. }`).
  bool AdtHeadAt(const std::vector<TSNode>& toks, size_t i) const {
    if (i + 2 >= toks.size() || G().Kind(toks[i + 1]) != K::kIdentifier) return false;
    TSNode after = toks[i + 2];
    if (Text(after, source_) == ":") return false;
    if (!IsGroup(after, '{')) return true;
    std::vector<TSNode> body;
    ForEachChild(after, [&](TSNode c, TSFieldId) {
      K k = G().Kind(c);
      if (k != K::kLineComment && k != K::kBlockComment) body.push_back(c);
      return body.size() < 3;  // `{` and the first two tokens
    });
    if (body.size() < 3) return true;  // `{}`
    if (G().Kind(body[1]) == K::kTokenTree) return false;
    return !(G().Kind(body[1]) == K::kIdentifier && G().Kind(body[2]) == K::kIdentifier);
  }

  // cfg_if! { if #[cfg(a)] { ... } else if #[cfg(b)] { ... } else { ... } }:
  // each branch's items get the branch's condition as a cfg.
  void ExpandCfgIf(TSNode tt, const std::string& name, const std::vector<std::string>& cfgs,
                   const Scope& scope) {
    const Grammar& g = G();
    std::vector<std::string> previous;  // conditions of earlier branches
    std::string condition;
    bool saw_hash = false;
    ForEachChild(tt, [&](TSNode c, TSFieldId) {
      if (TokenIs(c, "#", source_)) {
        saw_hash = true;
        return true;
      }
      if (g.Kind(c) != K::kTokenTree) {
        saw_hash = false;
        return true;
      }
      std::string_view text = Text(c, source_);
      if (saw_hash && !text.empty() && text.front() == '[') {
        // `[cfg(pred)]`
        std::string inner = TokenTreeInner(c, source_);
        if (inner.rfind("cfg", 0) == 0) {
          std::string_view pred = Trim(std::string_view(inner).substr(3));
          if (pred.size() >= 2 && pred.front() == '(' && pred.back() == ')') {
            pred = Trim(pred.substr(1, pred.size() - 2));
          }
          condition = std::string(pred);
        }
        saw_hash = false;
        return true;
      }
      saw_hash = false;
      if (text.empty() || text.front() != '{') return true;
      std::vector<std::string> branch_cfgs = cfgs;
      if (!condition.empty()) {
        branch_cfgs.push_back(condition);
        previous.push_back(condition);
      } else if (!previous.empty()) {
        std::string neg = "not(";
        if (previous.size() > 1) neg += "any(";
        for (size_t i = 0; i < previous.size(); ++i) neg += (i ? ", " : "") + previous[i];
        neg += previous.size() > 1 ? "))" : ")";
        branch_cfgs.push_back(std::move(neg));
      }
      condition.clear();
      ReparseTokenTree(c, name, std::move(branch_cfgs), scope);
      return true;
    });
  }

  void ReparseTokenTree(TSNode tt, const std::string& name, std::vector<std::string> cfgs,
                        const Scope& scope) {
    uint32_t count = ts_node_child_count(tt);
    if (count < 2) return;
    TSNode open = ts_node_child(tt, 0);
    TSNode close = ts_node_child(tt, count - 1);
    if (ts_node_is_named(open) || ts_node_is_named(close) || ts_node_is_missing(close)) return;
    TSRange range;
    range.start_byte = ts_node_end_byte(open);
    range.start_point = ts_node_end_point(open);
    range.end_byte = ts_node_start_byte(close);
    range.end_point = ts_node_start_point(close);
    if (range.end_byte <= range.start_byte) return;
    std::vector<TSRange> ranges{range};
    Result<SyntaxTree> tree = parser_.Parse(source_, &ranges);
    if (!tree.ok() || !tree->valid()) return;
    TSNode root = tree->root();
    if (!LooksLikeItems(root, range.end_byte - range.start_byte)) return;
    FlatSyntaxTree flat(root);
    NormalizedSyntaxIndex index(flat, source_);
    const FlatSyntaxTree* outer_tree = tree_;
    tree_ = &flat;
    Scope s = scope;
    s.in_macro = name;
    s.extra_cfgs = std::move(cfgs);
    s.macro_depth = scope.macro_depth + 1;
    s.inner_target = -2;
    s.index = &index;
    s.descend_errors = false;
    ScanItems(root, s);
    tree_ = outer_tree;
  }

  // Whether a re-parsed token tree is item syntax: at least one item or
  // item-position macro at the top, and errors cover under a tenth of it.
  bool LooksLikeItems(TSNode root, uint32_t range_bytes) {
    const Grammar& g = G();
    int items = 0;
    ForEachChild(root, [&](TSNode c, TSFieldId) {
      K k = g.Kind(c);
      if (IsItemKind(k) || k == K::kMacroInvocation) ++items;
      return true;
    });
    if (items == 0) return false;
    if (!ts_node_has_error(root)) return true;
    uint64_t error_bytes = 0;
    ForEachSyntaxError(root, [&](TSNode n) {
      // A missing token weighs like a short erroneous one.
      error_bytes += ts_node_is_missing(n) ? 8 : ts_node_end_byte(n) - ts_node_start_byte(n);
    });
    return error_bytes * 10 <= range_bytes;
  }

  // ---- References (imports, type uses, calls). All read tree_ (or the
  // tree a binding came from) by flat index; recursion is depth-bounded.

  K KindAt(const FlatSyntaxTree& t, uint32_t i) const { return G().Kind(t[i].symbol); }

  static uint32_t LineAt(const FlatSyntaxTree& t, uint32_t i) {
    return ts_node_start_point(t[i].node).row + 1;
  }

  // First named child of `i`, or kNone.
  static uint32_t FirstNamedChild(const FlatSyntaxTree& t, uint32_t i) {
    for (uint32_t c = i + 1; c < t[i].next; c = t[c].next) {
      if (t[c].named) return c;
    }
    return FlatSyntaxTree::kNone;
  }

  // Appends the segments of the path node `i` as written (`a::b::C`,
  // `::std::x` with an empty first segment, `Vec::<T>::new` without the
  // generic arguments, `<T as Trait>::f` as `Trait::f`). False, with `out`
  // partly extended, when `i` is not a path.
  bool AppendPath(const FlatSyntaxTree& t, uint32_t i, PathSegments* out, int depth = 0) const {
    if (i == FlatSyntaxTree::kNone || depth > kMaxRefDepth || t[i].missing) return false;
    const Grammar& g = G();
    switch (KindAt(t, i)) {
      case K::kScopedIdentifier:
      case K::kScopedTypeIdentifier: {
        uint32_t p = t.ChildByField(i, g.f_path);
        if (p == FlatSyntaxTree::kNone) {
          out->emplace_back();  // leading `::`
        } else if (!AppendPath(t, p, out, depth + 1)) {
          return false;
        }
        uint32_t name = t.ChildByField(i, g.f_name);
        if (name == FlatSyntaxTree::kNone || t[name].missing) return false;
        out->emplace_back(t.Text(name, source_));
        return true;
      }
      case K::kGenericType:
      case K::kGenericTypeWithTurbofish:
        return AppendPath(t, t.ChildByField(i, g.f_type), out, depth + 1);
      case K::kBracketedType: {
        uint32_t inner = FirstNamedChild(t, i);
        if (inner != FlatSyntaxTree::kNone && KindAt(t, inner) == K::kQualifiedType) {
          inner = t.ChildByField(inner, g.f_alias);
        }
        return TypePath(t, inner, out, depth + 1);
      }
      case K::kIdentifier:
      case K::kTypeIdentifier:
      case K::kSelf:
      case K::kSuper:
      case K::kCrate:
      case K::kMetavariable: out->emplace_back(t.Text(i, source_)); return true;
      default: return false;
    }
  }

  // The path a type names, references, pointers and generic arguments
  // stripped: `&mut Vec<T>` -> Vec, `&dyn Write` -> Write. Leaves `out`
  // empty for other types (tuples, slices, primitives).
  bool TypePath(const FlatSyntaxTree& t, uint32_t i, PathSegments* out, int depth = 0) const {
    const Grammar& g = G();
    for (; i != FlatSyntaxTree::kNone && depth <= kMaxRefDepth; ++depth) {
      switch (KindAt(t, i)) {
        case K::kReferenceType:
        case K::kPointerType: i = t.ChildByField(i, g.f_type); continue;
        case K::kDynamicType:
        case K::kAbstractType: i = t.ChildByField(i, g.f_trait); continue;
        case K::kTypeIdentifier:
        case K::kScopedTypeIdentifier:
        case K::kGenericType: {
          size_t mark = out->size();
          if (AppendPath(t, i, out, depth + 1)) return true;
          out->resize(mark);
          return false;
        }
        // Built-in types: the resolver knows primitives by name; slices,
        // arrays, tuples and () are marked so that their methods are not
        // mistaken for the crate's.
        case K::kPrimitiveType: out->emplace_back(t.Text(i, source_)); return true;
        case K::kArrayType: out->emplace_back("[]"); return true;
        case K::kTupleType:
        case K::kUnitType: out->emplace_back("()"); return true;
        default: return false;
      }
    }
    return false;
  }

  void AddTypeRef(int item, TypeRefRole role, PathSegments path, std::string_view bounded,
                  uint32_t line) {
    TypeRef r;
    r.item = item;
    r.role = role;
    r.path = std::move(path);
    if (role == TypeRefRole::kBound) r.bounded_param = std::string(bounded);
    r.line = line;
    out_->type_refs.push_back(std::move(r));
  }

  // Records the paths inside the type `i`: the named type with `role`, the
  // types in its generic arguments as kGenericArg (kBody inside a body).
  void TypeRefsOf(uint32_t i, TypeRefRole role, int item, std::string_view bounded = {},
                  int depth = 0) {
    const FlatSyntaxTree& t = *tree_;
    if (i == FlatSyntaxTree::kNone || depth > kMaxRefDepth) return;
    const Grammar& g = G();
    const TypeRefRole arg_role = role == TypeRefRole::kBody ? role : TypeRefRole::kGenericArg;
    switch (KindAt(t, i)) {
      case K::kTypeIdentifier:
      case K::kScopedTypeIdentifier: {
        // `<T as Trait>::Out`: the trait is the reference; the tail is not.
        uint32_t root = i;
        while (KindAt(t, root) == K::kScopedTypeIdentifier ||
               KindAt(t, root) == K::kScopedIdentifier || KindAt(t, root) == K::kGenericType) {
          uint32_t next =
              t.ChildByField(root, KindAt(t, root) == K::kGenericType ? g.f_type : g.f_path);
          if (next == FlatSyntaxTree::kNone) break;
          root = next;
        }
        if (KindAt(t, root) == K::kBracketedType) {
          uint32_t inner = FirstNamedChild(t, root);
          if (inner != FlatSyntaxTree::kNone && KindAt(t, inner) == K::kQualifiedType) {
            inner = t.ChildByField(inner, g.f_alias);
          }
          TypeRefsOf(inner, role == TypeRefRole::kBody ? role : TypeRefRole::kOther, item, {},
                     depth + 1);
          return;
        }
        PathSegments path;
        if (AppendPath(t, i, &path)) AddTypeRef(item, role, std::move(path), bounded, LineAt(t, i));
        return;
      }
      case K::kGenericType:
      case K::kGenericTypeWithTurbofish:
        TypeRefsOf(t.ChildByField(i, g.f_type), role, item, bounded, depth + 1);
        TypeArgRefs(t.ChildByField(i, g.f_type_arguments), item, depth + 1, arg_role);
        return;
      case K::kReferenceType:
      case K::kPointerType:
      case K::kHigherRankedTraitBound:
        TypeRefsOf(t.ChildByField(i, g.f_type), role, item, bounded, depth + 1);
        return;
      case K::kArrayType:
        TypeRefsOf(t.ChildByField(i, g.f_element), role, item, bounded, depth + 1);
        return;
      case K::kAbstractType:
      case K::kDynamicType:
        TypeRefsOf(t.ChildByField(i, g.f_trait), role, item, bounded, depth + 1);
        return;
      case K::kTupleType:
      case K::kBoundedType:
        for (uint32_t c = i + 1; c < t[i].next; c = t[c].next) {
          TypeRefsOf(c, role, item, bounded, depth + 1);
        }
        return;
      case K::kFunctionType: {  // `Fn(A) -> B`: Fn, then A and B as arguments
        TypeRefsOf(t.ChildByField(i, g.f_trait), role, item, bounded, depth + 1);
        uint32_t params = t.ChildByField(i, g.f_parameters);
        if (params != FlatSyntaxTree::kNone) {
          for (uint32_t c = params + 1; c < t[params].next; c = t[c].next) {
            uint32_t type = KindAt(t, c) == K::kParameter ? t.ChildByField(c, g.f_type) : c;
            TypeRefsOf(type, arg_role, item, {}, depth + 1);
          }
        }
        TypeRefsOf(t.ChildByField(i, g.f_return_type), arg_role, item, {}, depth + 1);
        return;
      }
      default: return;  // primitives, `!`, `()`, lifetimes, macros
    }
  }

  void TypeArgRefs(uint32_t args, int item, int depth,
                   TypeRefRole role = TypeRefRole::kGenericArg) {
    const FlatSyntaxTree& t = *tree_;
    if (args == FlatSyntaxTree::kNone || depth > kMaxRefDepth) return;
    for (uint32_t c = args + 1; c < t[args].next; c = t[c].next) {
      uint32_t type = KindAt(t, c) == K::kTypeBinding ? t.ChildByField(c, G().f_type) : c;
      TypeRefsOf(type, role, item, {}, depth + 1);
    }
  }

  // `: A + B<C>` bounding `bounded`.
  void BoundRefs(uint32_t bounds, int item, std::string_view bounded) {
    const FlatSyntaxTree& t = *tree_;
    if (bounds == FlatSyntaxTree::kNone) return;
    for (uint32_t c = bounds + 1; c < t[bounds].next; c = t[c].next) {
      TypeRefsOf(c, TypeRefRole::kBound, item, bounded);
    }
  }

  // Bounds and defaults of item `fi`'s generic params, and its where clause.
  void GenericRefs(uint32_t fi, int item) {
    GenericParamRefs(fi, item);
    WhereRefs(fi, item);
  }

  void GenericParamRefs(uint32_t fi, int item) {
    const FlatSyntaxTree& t = *tree_;
    const Grammar& g = G();
    uint32_t params = t.ChildByField(fi, g.f_type_parameters);
    if (params != FlatSyntaxTree::kNone) {
      for (uint32_t c = params + 1; c < t[params].next; c = t[c].next) {
        K k = KindAt(t, c);
        if (k == K::kTypeParameter) {
          uint32_t name = t.ChildByField(c, g.f_name);
          std::string_view param = name == FlatSyntaxTree::kNone ? "" : t.Text(name, source_);
          BoundRefs(t.ChildByField(c, g.f_bounds), item, param);
          TypeRefsOf(t.ChildByField(c, g.f_default_type), TypeRefRole::kOther, item);
        } else if (k == K::kConstParameter) {
          TypeRefsOf(t.ChildByField(c, g.f_type), TypeRefRole::kOther, item);
        }
      }
    }
  }

  void WhereRefs(uint32_t fi, int item) {
    const FlatSyntaxTree& t = *tree_;
    const Grammar& g = G();
    for (uint32_t c = fi + 1; c < t[fi].next; c = t[c].next) {
      if (KindAt(t, c) != K::kWhereClause) continue;
      for (uint32_t p = c + 1; p < t[c].next; p = t[p].next) {
        if (KindAt(t, p) != K::kWherePredicate) continue;
        uint32_t left = t.ChildByField(p, g.f_left);
        std::string_view param;
        if (left != FlatSyntaxTree::kNone && KindAt(t, left) == K::kTypeIdentifier) {
          param = t.Text(left, source_);
        }
        BoundRefs(t.ChildByField(p, g.f_bounds), item, param);
      }
    }
  }

  // A function's generics, parameter types, return type and where clause.
  void SignatureRefs(uint32_t fi, int item) {
    const FlatSyntaxTree& t = *tree_;
    const Grammar& g = G();
    GenericParamRefs(fi, item);
    uint32_t params = t.ChildByField(fi, g.f_parameters);
    if (params != FlatSyntaxTree::kNone) {
      for (uint32_t c = params + 1; c < t[params].next; c = t[c].next) {
        // `self: Box<Self>` is a parameter with a type; `&self` has none.
        uint32_t type = KindAt(t, c) == K::kParameter ? t.ChildByField(c, g.f_type) : c;
        TypeRefsOf(type, TypeRefRole::kParam, item);
      }
    }
    TypeRefsOf(t.ChildByField(fi, g.f_return_type), TypeRefRole::kReturn, item);
    WhereRefs(fi, item);
  }

  void FieldTypeRefs(TSNode type, int item) {
    std::optional<uint32_t> i = tree_->Find(type);
    if (i) TypeRefsOf(*i, TypeRefRole::kField, item);
  }

  // Flattens the use tree `i` under `prefix` into out_->imports.
  void FlattenUse(uint32_t i, PathSegments* prefix, int item, Visibility vis, int depth) {
    const FlatSyntaxTree& t = *tree_;
    if (i == FlatSyntaxTree::kNone || depth > kMaxRefDepth) return;
    const Grammar& g = G();
    const size_t mark = prefix->size();
    UseImport u;
    switch (KindAt(t, i)) {
      case K::kUseList:
        for (uint32_t c = i + 1; c < t[i].next; c = t[c].next) {
          if (t[c].named) FlattenUse(c, prefix, item, vis, depth + 1);
        }
        return;
      case K::kScopedUseList: {
        uint32_t p = t.ChildByField(i, g.f_path);
        if (p == FlatSyntaxTree::kNone) {
          prefix->emplace_back();  // `use ::{a, b}`
        } else if (!AppendPath(t, p, prefix)) {
          prefix->resize(mark);
          return;
        }
        FlattenUse(t.ChildByField(i, g.f_list), prefix, item, vis, depth + 1);
        prefix->resize(mark);
        return;
      }
      case K::kUseAsClause: {
        if (!UseLeaf(t, t.ChildByField(i, g.f_path), *prefix, &u)) return;
        uint32_t alias = t.ChildByField(i, g.f_alias);
        if (alias != FlatSyntaxTree::kNone) u.alias = std::string(t.Text(alias, source_));
        break;
      }
      case K::kUseWildcard: {
        u.path = *prefix;
        uint32_t p = FirstNamedChild(t, i);
        if (p != FlatSyntaxTree::kNone && !AppendPath(t, p, &u.path)) return;
        u.glob = true;
        u.line = LineAt(t, i);
        break;
      }
      default:
        if (!UseLeaf(t, i, *prefix, &u)) return;
        break;
    }
    if (u.path.empty()) return;  // `use *;` or recovered garbage
    u.item = item;
    u.visibility = vis;
    out_->imports.push_back(std::move(u));
  }

  // `prefix` + the path `i`; `self` in a group (`a::{self}`) names the prefix.
  bool UseLeaf(const FlatSyntaxTree& t, uint32_t i, const PathSegments& prefix, UseImport* u) {
    if (i == FlatSyntaxTree::kNone) return false;
    u->path = prefix;
    u->line = LineAt(t, i);
    if (KindAt(t, i) == K::kSelf && !prefix.empty()) return true;
    return AppendPath(t, i, &u->path) && !u->path.empty();
  }

  // ---- Calls and the local bindings that type method receivers.

  // Notes what body node `i` references; false when its children hold
  // nothing more to note (a type or path, recorded whole).
  bool NoteReference(uint32_t i, K k, const Scope& scope) {
    const FlatSyntaxTree& t = *tree_;
    switch (k) {
      case K::kCallExpression: {
        RecordCall(i, scope);
        uint32_t f = t.ChildByField(i, G().f_function);
        if (f != FlatSyntaxTree::kNone && KindAt(t, f) == K::kIdentifier) {
          BodyNameRef(f, scope);  // `Wrapper(x)`
        }
        return true;
      }
      case K::kLetDeclaration:
        if (tree_ == scope.fn->tree) BindLet(i);
        return true;
      case K::kClosureParameters:
        if (tree_ == scope.fn->tree) BindParameters(i, tree_->operator[](i).end_byte);
        return true;
      case K::kTupleStructPattern: {
        if (tree_ == scope.fn->tree) BindTuplePattern(i);
        uint32_t type = t.ChildByField(i, G().f_type);
        if (type != FlatSyntaxTree::kNone && KindAt(t, type) == K::kIdentifier) {
          BodyNameRef(type, scope);  // `Wrapper(x) =>`
        }
        return true;
      }
      case K::kTypeIdentifier:
      case K::kScopedTypeIdentifier:
      case K::kGenericType:
      case K::kGenericTypeWithTurbofish:
        if (i != scope.fn->declared_type) TypeRefsOf(i, TypeRefRole::kBody, scope.fn->item);
        return false;
      case K::kScopedIdentifier: BodyPathRef(i, scope); return false;
      default: return true;
    }
  }

  // A capitalized name where a tuple struct or variant may stand.
  void BodyNameRef(uint32_t i, const Scope& scope) {
    std::string_view name = tree_->Text(i, source_);
    if (name.empty() || !std::isupper(static_cast<unsigned char>(name[0]))) return;
    AddTypeRef(scope.fn->item, TypeRefRole::kBody, {std::string(name)}, {}, LineAt(*tree_, i));
  }

  // A path in an expression or pattern (`Token::Eof`, `Vec::<Foo>::new`),
  // with the types written in its generic arguments and qualified segments.
  void BodyPathRef(uint32_t i, const Scope& scope) {
    const FlatSyntaxTree& t = *tree_;
    const Grammar& g = G();
    const int item = scope.fn->item;
    PathSegments path;
    if (AppendPath(t, i, &path) && !path.empty()) {
      AddTypeRef(item, TypeRefRole::kBody, std::move(path), {}, LineAt(t, i));
    }
    uint32_t p = i;
    for (int depth = 0; p != FlatSyntaxTree::kNone && depth <= kMaxRefDepth; ++depth) {
      K pk = KindAt(t, p);
      if (pk == K::kScopedIdentifier) {
        p = t.ChildByField(p, g.f_path);
      } else if (pk == K::kGenericType) {
        TypeArgRefs(t.ChildByField(p, g.f_type_arguments), item, depth + 1, TypeRefRole::kBody);
        p = t.ChildByField(p, g.f_type);
      } else if (pk == K::kBracketedType) {  // `<Foo as Trait>::f`: Foo
        uint32_t inner = FirstNamedChild(t, p);
        if (inner != FlatSyntaxTree::kNone && KindAt(t, inner) == K::kQualifiedType) {
          TypeRefsOf(t.ChildByField(inner, g.f_type), TypeRefRole::kBody, item, {}, depth + 1);
        }
        break;
      } else {
        break;
      }
    }
  }

  void RecordCall(uint32_t i, const Scope& scope) {
    const FlatSyntaxTree& t = *tree_;
    const Grammar& g = G();
    uint32_t f = t.ChildByField(i, g.f_function);
    if (f != FlatSyntaxTree::kNone && KindAt(t, f) == K::kGenericFunction) {
      f = t.ChildByField(f, g.f_function);
    }
    if (f == FlatSyntaxTree::kNone) return;
    CallRef c;
    c.item = scope.fn->item;
    K fk = KindAt(t, f);
    if (fk == K::kFieldExpression) {
      uint32_t name = t.ChildByField(f, g.f_field);
      if (name == FlatSyntaxTree::kNone || t[name].missing) return;
      c.kind = CallKind::kMethod;
      c.path.emplace_back(t.Text(name, source_));
      c.line = LineAt(t, name);
      uint32_t recv = ReceiverBase(t, t.ChildByField(f, g.f_value), &c);
      K rk = recv == FlatSyntaxTree::kNone ? K::kOther : KindAt(t, recv);
      if (rk == K::kSelf) {
        c.receiver = "self";
        if (scope.fn->self_type) c.receiver_type = *scope.fn->self_type;
      } else if (rk == K::kIdentifier) {
        std::string_view name_text = t.Text(recv, source_);
        c.receiver = std::string(name_text);
        if (!TypeLocal(*scope.fn, name_text, t[i].start_byte, &c, 0)) c.receiver_steps.clear();
      } else if (c.receiver_call.empty()) {
        c.receiver_steps.clear();
      }
    } else if (fk == K::kIdentifier || fk == K::kScopedIdentifier) {
      c.kind = CallKind::kPath;
      if (!AppendPath(t, f, &c.path)) return;
      c.line = LineAt(t, f);
    } else {
      return;  // `(f)()`, `v[0]()`, a closure called in place
    }
    c.args = ArgumentCount(t, t.ChildByField(i, g.f_arguments));
    out_->calls.push_back(std::move(c));
  }

  // The expressions of a call's `arguments` (attributes and comments aside).
  int32_t ArgumentCount(const FlatSyntaxTree& t, uint32_t args) const {
    if (args == FlatSyntaxTree::kNone) return -1;
    int32_t count = 0;
    for (uint32_t c = args + 1; c < t[args].next; c = t[c].next) {
      if (!t[c].named) continue;
      K k = KindAt(t, c);
      if (k == K::kAttributeItem || k == K::kLineComment || k == K::kBlockComment) continue;
      if (t[c].missing || k == K::kError) return -1;  // recovered syntax: unknown
      ++count;
    }
    return count;
  }

  // Walks a method call's receiver expression down to its base (`self`, a
  // local name, or a path call, which goes to c->receiver_call), recording
  // the field accesses, method calls and unwraps on the way in
  // c->receiver_steps, base first. Returns the base node (kNone when the
  // expression has no base we can type).
  uint32_t ReceiverBase(const FlatSyntaxTree& t, uint32_t recv, CallRef* c) {
    const Grammar& g = G();
    std::vector<ReceiverStep> steps;  // outermost first
    uint32_t base = FlatSyntaxTree::kNone;
    for (int guard = 0; recv != FlatSyntaxTree::kNone && guard < 64; ++guard) {
      K k = KindAt(t, recv);
      if (k == K::kSelf || k == K::kIdentifier) {
        base = recv;
        break;
      }
      if (k == K::kFieldExpression) {
        uint32_t name = t.ChildByField(recv, g.f_field);
        if (name == FlatSyntaxTree::kNone) break;
        steps.push_back({ReceiverStep::kField, std::string(t.Text(name, source_))});
        recv = t.ChildByField(recv, g.f_value);
      } else if (k == K::kTryExpression) {
        steps.push_back({ReceiverStep::kUnwrap, "?"});
        recv = FirstNamedChild(t, recv);
      } else if (k == K::kReferenceExpression) {
        recv = t.ChildByField(recv, g.f_value);
      } else if (k == K::kParenthesizedExpression) {
        recv = FirstNamedChild(t, recv);
      } else if (k == K::kCallExpression) {
        uint32_t fn = t.ChildByField(recv, g.f_function);
        if (fn != FlatSyntaxTree::kNone && KindAt(t, fn) == K::kGenericFunction)
          fn = t.ChildByField(fn, g.f_function);
        if (fn == FlatSyntaxTree::kNone) break;
        K fk = KindAt(t, fn);
        if (fk == K::kFieldExpression) {
          uint32_t name = t.ChildByField(fn, g.f_field);
          if (name == FlatSyntaxTree::kNone) break;
          std::string_view m = t.Text(name, source_);
          if (m == "unwrap" || m == "expect" || m == "unwrap_unchecked") {
            steps.push_back({ReceiverStep::kUnwrap, std::string(m)});
          } else {
            steps.push_back({ReceiverStep::kMethod, std::string(m)});
          }
          recv = t.ChildByField(fn, g.f_value);
        } else if (fk == K::kIdentifier || fk == K::kScopedIdentifier) {
          PathSegments path;
          if (!AppendPath(t, fn, &path) || path.empty()) break;
          c->receiver_call = std::move(path);
          break;
        } else {
          break;
        }
      } else {
        break;
      }
    }
    if (base == FlatSyntaxTree::kNone && c->receiver_call.empty()) return FlatSyntaxTree::kNone;
    c->receiver_steps.assign(steps.rbegin(), steps.rend());
    return base;
  }

  // `name! { ... }` in item position: invoked by the enclosing module, impl
  // or trait (-1: the file's module).
  void RecordItemMacro(uint32_t i, const Scope& scope) {
    const FlatSyntaxTree& t = *tree_;
    uint32_t m = t.ChildByField(i, G().f_macro);
    CallRef c;
    c.item = scope.parent;
    c.kind = CallKind::kMacro;
    if (m == FlatSyntaxTree::kNone || !AppendPath(t, m, &c.path)) return;
    c.line = LineAt(t, m);
    out_->calls.push_back(std::move(c));
  }

  // `name!(...)` in a body, and the calls in its token tree.
  void RecordMacro(uint32_t i, const Scope& scope) {
    const FlatSyntaxTree& t = *tree_;
    uint32_t m = t.ChildByField(i, G().f_macro);
    CallRef c;
    c.item = scope.fn->item;
    c.kind = CallKind::kMacro;
    if (m == FlatSyntaxTree::kNone || !AppendPath(t, m, &c.path)) return;
    c.line = LineAt(t, m);
    out_->calls.push_back(std::move(c));
    for (uint32_t ch = i + 1; ch < t[i].next; ch = t[ch].next) {
      if (KindAt(t, ch) == K::kTokenTree) ScanMacroTokens(ch, scope, 0);
    }
  }

  // Calls in a body macro's token tree, found by token shape rather than by
  // re-parsing (tree-sitter's error recovery on argument lists costs more
  // than all the rest of extraction on macro-heavy code such as tests):
  //   path `(..)`       -> kPath (`f(x)`, `a::b(x)`; not `fn f(..)`)
  //   `.` name `(..)`   -> kMethod; the receiver is `self` or an identifier
  //                        directly before the `.`
  //   path `!` group    -> kMacro, its group scanned in turn
  // Nested groups are scanned the same way, to kMaxRefDepth. Tuple-struct
  // patterns in macro arguments (`matches!(x, Some(_))`) read as calls.
  void ScanMacroTokens(uint32_t tt, const Scope& scope, int depth) {
    const FlatSyntaxTree& t = *tree_;
    if (depth > kMaxRefDepth) return;
    constexpr uint32_t kNone = FlatSyntaxTree::kNone;
    uint32_t first = kNone, last = kNone;  // the path being read
    bool want_segment = false;             // the path ends in `::`
    bool after_dot = false, after_fn = false;
    uint32_t receiver = kNone;                            // the token before that `.`
    uint32_t prev = kNone, prev2 = kNone, prev3 = kNone;  // earlier tokens of this group
    int generics = 0;  // inside a path's `::<...>`: its `<` nesting
    auto text_is = [&](uint32_t j, std::string_view s) {
      return j != kNone && !t[j].named && t.Text(j, source_) == s;
    };
    for (uint32_t c = tt + 1; c < t[tt].next; c = t[c].next) {
      const K k = KindAt(t, c);
      if (generics > 0) {  // `Vec::<u8>::new`, `collect::<Vec<_>>`: the path goes on after
        generics += text_is(c, "<") ? 1 : text_is(c, ">") ? -1 : text_is(c, ">>") ? -2 : 0;
        if (generics <= 0) generics = 0;
        prev3 = prev2;
        prev2 = prev;
        prev = c;
        continue;
      }
      if (k == K::kTokenTree) {
        if (first != kNone && !want_segment && !after_fn && source_[t[c].start_byte] == '(') {
          RecordTokenCall(first, last, after_dot, receiver, c, scope);
        }
        ScanMacroTokens(c, scope, depth + 1);
        first = kNone;
      } else if (t[c].named && k != K::kStringLiteral && k != K::kRawStringLiteral &&
                 k != K::kLineComment && k != K::kBlockComment) {
        if (first != kNone && want_segment) {
          last = c;
          want_segment = false;
        } else {
          first = last = c;
          want_segment = false;
          after_dot = text_is(prev, ".");
          after_fn = text_is(prev, "fn");
          // `a.b.c()`, `x::y.f()`: only a lone `self` or name is a receiver.
          receiver = after_dot && !text_is(prev3, ".") && !text_is(prev3, "::") ? prev2 : kNone;
        }
      } else if (text_is(c, "::")) {
        if (first != kNone && !want_segment) {
          want_segment = true;
        } else if (first == kNone && (prev == kNone || !t[prev].named)) {
          first = last = c;  // leading `::`
          want_segment = true;
          after_dot = after_fn = false;
          receiver = kNone;
        } else {
          first = kNone;
        }
      } else if (text_is(c, "<") && first != kNone && want_segment && !text_is(last, "::")) {
        generics = 1;  // a turbofish: `last` stays the segment before it
        want_segment = false;
      } else if (text_is(c, "!") && first != kNone && !want_segment && t[c].next < t[tt].next &&
                 KindAt(t, t[c].next) == K::kTokenTree) {
        CallRef call;
        call.item = scope.fn->item;
        call.kind = CallKind::kMacro;
        if (TokenPath(t, first, last, &call.path)) {
          call.line = LineAt(t, first);
          out_->calls.push_back(std::move(call));
        }
        first = kNone;
      } else {
        first = kNone;
      }
      prev3 = prev2;
      prev2 = prev;
      prev = c;
    }
  }

  // The segments of the sibling tokens [first, last]: names, with a
  // leading `::` as an empty segment; generic arguments (`::<u8>`) skipped.
  bool TokenPath(const FlatSyntaxTree& t, uint32_t first, uint32_t last, PathSegments* out) {
    int generics = 0;
    for (uint32_t j = first;; j = t[j].next) {
      std::string_view text = t[j].named ? std::string_view() : t.Text(j, source_);
      if (generics > 0 || text == "<") {
        generics += text == "<" ? 1 : text == ">" ? -1 : text == ">>" ? -2 : 0;
        if (generics < 0) generics = 0;
      } else if (t[j].named) {
        out->emplace_back(t.Text(j, source_));
      } else if (j == first) {
        out->emplace_back();
      }
      if (j == last || j >= t.size()) break;
    }
    return !out->empty() && !out->back().empty();
  }

  void RecordTokenCall(uint32_t first, uint32_t last, bool after_dot, uint32_t receiver,
                       uint32_t group, const Scope& scope) {
    const FlatSyntaxTree& t = *tree_;
    CallRef c;
    c.item = scope.fn->item;
    c.args = TokenArgumentCount(t, group);
    if (after_dot) {
      if (first != last) return;
      c.kind = CallKind::kMethod;
      c.path.emplace_back(t.Text(first, source_));
      if (receiver != FlatSyntaxTree::kNone) {
        K rk = KindAt(t, receiver);
        if (rk == K::kSelf) {
          c.receiver = "self";
          if (scope.fn->self_type) c.receiver_type = *scope.fn->self_type;
        } else if (rk == K::kIdentifier) {
          std::string_view name = t.Text(receiver, source_);
          c.receiver = std::string(name);
          ReceiverType(*scope.fn, name, t[receiver].start_byte, &c.receiver_type);
        }
      }
    } else {
      c.kind = CallKind::kPath;
      if (!TokenPath(t, first, last, &c.path)) return;
    }
    c.line = LineAt(t, first);
    out_->calls.push_back(std::move(c));
  }

  // The arguments in a `(..)` token group: its top-level commas, plus one
  // unless it is empty or ends in a comma. -1 when a comma at that level
  // may not separate arguments: a closure's `|a, b|`, generic arguments
  // `HashMap::<K, V>` or a comparison (`<` and `|` make it unknown).
  int32_t TokenArgumentCount(const FlatSyntaxTree& t, uint32_t group) const {
    int32_t commas = 0;
    bool any = false, trailing = false;
    const uint32_t open = group + 1;
    for (uint32_t c = open; c < t[group].next; c = t[c].next) {
      if (c == open) continue;                               // `(`
      if (t[c].next >= t[group].next && !t[c].named) break;  // `)`
      const K k = KindAt(t, c);
      if (k == K::kLineComment || k == K::kBlockComment) continue;
      if (!t[c].named && k != K::kTokenTree) {
        std::string_view text = t.Text(c, source_);
        if (text == "|" || text == "||" || text == "<") return -1;
        if (text == ",") {
          ++commas;
          trailing = true;
          continue;
        }
      }
      any = true;
      trailing = false;
    }
    if (!any) return commas == 0 ? 0 : -1;
    return commas + (trailing ? 0 : 1);
  }

  // Binds the typed identifier parameters of a fn's `parameters` or a
  // closure's `closure_parameters` (untyped closure parameters shadow).
  void BindParameters(uint32_t params, uint32_t from_byte) {
    const FlatSyntaxTree& t = *tree_;
    if (params == FlatSyntaxTree::kNone) return;
    const Grammar& g = G();
    for (uint32_t c = params + 1; c < t[params].next; c = t[c].next) {
      K k = KindAt(t, c);
      Binding b;
      b.tree = tree_;
      b.from_byte = from_byte;
      if (k == K::kParameter) {
        uint32_t pat = t.ChildByField(c, g.f_pattern);
        uint32_t type = t.ChildByField(c, g.f_type);
        if (pat == FlatSyntaxTree::kNone || KindAt(t, pat) != K::kIdentifier) continue;
        b.name = t.Text(pat, source_);
        if (type != FlatSyntaxTree::kNone) {
          b.source = Binding::Source::kType;
          b.node = type;
        }
      } else if (k == K::kIdentifier) {
        b.name = t.Text(c, source_);
      } else {
        continue;
      }
      bindings_.push_back(b);
    }
  }

  // `let p: T = ..`, `let p = T::f(..)` (also through `?`, `&`, `.unwrap()`
  // and `.expect(..)`), `let p = T { .. }`; any other `let p` shadows.
  void BindLet(uint32_t i) {
    const FlatSyntaxTree& t = *tree_;
    const Grammar& g = G();
    uint32_t pat = t.ChildByField(i, g.f_pattern);
    if (pat == FlatSyntaxTree::kNone || KindAt(t, pat) != K::kIdentifier) return;
    Binding b;
    b.name = t.Text(pat, source_);
    b.tree = tree_;
    b.from_byte = t[i].end_byte;
    if (uint32_t type = t.ChildByField(i, g.f_type); type != FlatSyntaxTree::kNone) {
      b.source = Binding::Source::kType;
      b.node = type;
    } else {
      uint32_t v = t.ChildByField(i, g.f_value);
      for (int guard = 0; v != FlatSyntaxTree::kNone && guard < 8; ++guard) {
        K k = KindAt(t, v);
        if (k == K::kTryExpression) {
          v = FirstNamedChild(t, v);
        } else if (k == K::kReferenceExpression) {
          v = t.ChildByField(v, g.f_value);
        } else if (k == K::kStructExpression) {
          b.source = Binding::Source::kStructLiteral;
          b.node = t.ChildByField(v, g.f_name);
          break;
        } else if (k == K::kCallExpression) {
          uint32_t f = t.ChildByField(v, g.f_function);
          if (f != FlatSyntaxTree::kNone && KindAt(t, f) == K::kGenericFunction) {
            f = t.ChildByField(f, g.f_function);
          }
          if (f == FlatSyntaxTree::kNone) break;
          if (KindAt(t, f) == K::kScopedIdentifier &&
              t.ChildByField(f, g.f_path) != FlatSyntaxTree::kNone) {
            b.source = Binding::Source::kAssocCall;
            b.node = f;
            break;
          }
          if (KindAt(t, f) != K::kFieldExpression) break;
          uint32_t m = t.ChildByField(f, g.f_field);
          std::string_view method = m == FlatSyntaxTree::kNone ? "" : t.Text(m, source_);
          if (method != "unwrap" && method != "expect") break;
          v = t.ChildByField(f, g.f_value);
        } else {
          break;
        }
      }
      if (b.source != Binding::Source::kNone && b.node == FlatSyntaxTree::kNone) {
        b.source = Binding::Source::kNone;
      }
      uint32_t value = t.ChildByField(i, g.f_value);
      if (b.source == Binding::Source::kNone && value != FlatSyntaxTree::kNone) {
        K k = KindAt(t, value);
        if (k == K::kFieldExpression || k == K::kCallExpression || k == K::kTryExpression ||
            k == K::kReferenceExpression || k == K::kParenthesizedExpression) {
          b.source = Binding::Source::kExpr;
          b.node = value;
        }
      }
    }
    bindings_.push_back(b);
  }

  // Types the receiver `name` (a local bound before `at_byte`) into c: its
  // written type, or the receiver chain of the expression it was bound to,
  // prepended to c's own steps. False when nothing is known.
  bool TypeLocal(const FnContext& fn, std::string_view name, uint32_t at_byte, CallRef* c,
                 int depth) {
    const Binding* b = nullptr;
    for (size_t j = bindings_.size(); j-- > fn.bindings_begin;) {
      if (bindings_[j].name != name || bindings_[j].from_byte > at_byte) continue;
      b = &bindings_[j];
      break;
    }
    if (b == nullptr) return false;
    if (b->source == Binding::Source::kTupleField) {
      // The pattern's path names the tuple struct or variant; the field's
      // type is the receiver's.
      PathSegments path;
      if (!AppendPath(*b->tree, b->node, &path) || path.empty()) return false;
      c->receiver_type = std::move(path);
      c->receiver_steps.insert(c->receiver_steps.begin(),
                               ReceiverStep{ReceiverStep::kField, std::to_string(b->field)});
      return true;
    }
    if (b->source != Binding::Source::kExpr) {
      ReceiverType(fn, name, at_byte, &c->receiver_type);
      return !c->receiver_type.empty();
    }
    if (depth > 4) return false;
    const FlatSyntaxTree& t = *b->tree;
    CallRef bound;
    uint32_t base = ReceiverBase(t, b->node, &bound);
    std::vector<ReceiverStep> steps = std::move(bound.receiver_steps);
    if (!bound.receiver_call.empty()) {
      c->receiver_call = std::move(bound.receiver_call);
    } else if (base == FlatSyntaxTree::kNone) {
      return false;
    } else if (KindAt(t, base) == K::kSelf) {
      if (!fn.self_type) return false;
      c->receiver_type = *fn.self_type;
    } else {
      CallRef inner;
      if (!TypeLocal(fn, t.Text(base, source_), t[b->node].start_byte, &inner, depth + 1))
        return false;
      c->receiver_type = std::move(inner.receiver_type);
      c->receiver_call = std::move(inner.receiver_call);
      steps.insert(steps.begin(), inner.receiver_steps.begin(), inner.receiver_steps.end());
    }
    c->receiver_steps.insert(c->receiver_steps.begin(), steps.begin(), steps.end());
    return true;
  }

  // `Path(a, ref b, mut c, _)`: each name bound to its field of Path.
  void BindTuplePattern(uint32_t i) {
    const FlatSyntaxTree& t = *tree_;
    uint32_t type = t.ChildByField(i, G().f_type);
    if (type == FlatSyntaxTree::kNone) return;
    K tk = KindAt(t, type);
    if (tk != K::kIdentifier && tk != K::kScopedIdentifier) return;
    // In scope after the pattern in a match arm, but only after the value
    // in `let PAT = VALUE;` and `if let PAT = VALUE` (the value may use the
    // names the pattern shadows).
    uint32_t from = t[i].end_byte;
    uint32_t up = t[i].parent;
    for (int depth = 0; up != FlatSyntaxTree::kNone && depth < 8; ++depth, up = t[up].parent) {
      K k = KindAt(t, up);
      if (k == K::kLetDeclaration || k == K::kLetCondition) {
        from = t[up].end_byte;
        break;
      }
      if (k == K::kMatchArm || k == K::kMatchPattern || k == K::kBlock) break;
    }
    uint32_t field = 0;
    for (uint32_t c = t[type].next; c < t[i].next; c = t[c].next) {
      if (!t[c].named) {
        if (t.Text(c, source_) == "_") ++field;  // `_` is a field too; `(`, `,`, `)` are not
        continue;
      }
      uint32_t name = c;
      K k = KindAt(t, c);
      if (k == K::kRefPattern || k == K::kMutPattern) {
        name = FirstNamedChild(t, c);
        if (name != FlatSyntaxTree::kNone && KindAt(t, name) == K::kMutableSpecifier)
          name = t[name].next;
        k = name == FlatSyntaxTree::kNone ? K::kOther : KindAt(t, name);
      }
      if (k == K::kIdentifier) {
        Binding b;
        b.name = t.Text(name, source_);
        b.tree = tree_;
        b.node = type;
        b.field = field;
        b.from_byte = from;
        b.source = Binding::Source::kTupleField;
        bindings_.push_back(b);
      }
      ++field;
    }
  }

  // The type of local `name` as bound latest before `at_byte`, if written.
  void ReceiverType(const FnContext& fn, std::string_view name, uint32_t at_byte,
                    PathSegments* out) const {
    for (size_t j = bindings_.size(); j-- > fn.bindings_begin;) {
      const Binding& b = bindings_[j];
      if (b.name != name || b.from_byte > at_byte) continue;
      bool ok = false;
      switch (b.source) {
        case Binding::Source::kNone: break;
        case Binding::Source::kType: ok = TypePath(*b.tree, b.node, out); break;
        case Binding::Source::kAssocCall:
          ok = AppendPath(*b.tree, b.tree->ChildByField(b.node, G().f_path), out);
          break;
        case Binding::Source::kStructLiteral: ok = AppendPath(*b.tree, b.node, out); break;
        case Binding::Source::kExpr:
        case Binding::Source::kTupleField: break;
      }
      if (!ok) out->clear();
      return;
    }
  }

  void AddDiagnostic(TSPoint p, std::string message) {
    if (out_->diagnostics.size() > kMaxDiagnostics) return;
    if (out_->diagnostics.size() == kMaxDiagnostics) {
      message = "too many syntax errors; the rest are not reported";
    }
    out_->diagnostics.push_back(Diagnostic{p.row + 1, p.column + 1, std::move(message)});
  }

  // One diagnostic per ERROR region and per MISSING token, in source order.
  void CollectDiagnostics(TSNode root) {
    ForEachSyntaxError(root, [&](TSNode n) {
      if (ts_node_is_error(n)) {
        AddDiagnostic(ts_node_start_point(n), "syntax error near `" + Excerpt(n) + "`");
      } else {
        std::string what = ts_node_type(n);
        AddDiagnostic(ts_node_start_point(n),
                      ts_node_is_named(n) ? "missing " + what : "missing `" + what + "`");
      }
    });
  }

  // The first few tokens of an error region, on one line.
  std::string Excerpt(TSNode n) {
    std::string s;
    AppendCollapsedText(n, source_, UINT32_MAX, 24, &s);
    if (s.empty()) {
      std::string_view raw = Text(n, source_);
      s = std::string(Trim(raw.substr(0, std::min<size_t>(raw.size(), 24))));
    }
    for (char& ch : s) {
      if (ch == '\n' || ch == '\r' || ch == '`') ch = ' ';
    }
    return s;
  }

  std::string_view source_;
  RustParser& parser_;
  FileExtraction* out_;
  // The tree being scanned: the file's, or a macro's re-parse while its items
  // are extracted.
  const FlatSyntaxTree* tree_ = nullptr;
  std::vector<InlineModule> enclosing_;  // inline modules around the scan point
  bool depth_reported_ = false;
  std::pair<uint32_t, uint32_t> window_{0, UINT32_MAX};  // RunWindow's top-level bytes
  bool window_pending_ = false;
  // Local bindings of the functions being scanned, innermost function last
  // (FnContext::bindings_begin marks where each starts).
  std::vector<Binding> bindings_;
};

}  // namespace

FileExtraction ExtractFile(std::string_view source, const SyntaxTree& tree, RustParser& parser) {
  FileExtraction out;
  if (!tree.valid()) {
    out.diagnostics.push_back(Diagnostic{1, 1, "no syntax tree"});
    return out;
  }
  Extractor(source, parser, &out).Run(tree);
  return out;
}

std::string_view TypeRefRoleName(TypeRefRole role) {
  switch (role) {
    case TypeRefRole::kParam: return "param";
    case TypeRefRole::kReturn: return "return";
    case TypeRefRole::kField: return "field";
    case TypeRefRole::kAlias: return "alias";
    case TypeRefRole::kImplSelf: return "impl_self";
    case TypeRefRole::kImplTrait: return "impl_trait";
    case TypeRefRole::kBound: return "bound";
    case TypeRefRole::kGenericArg: return "generic_arg";
    case TypeRefRole::kOther: return "other";
    case TypeRefRole::kBody: return "body";
  }
  return "other";
}

std::string_view CallKindName(CallKind kind) {
  switch (kind) {
    case CallKind::kPath: return "path";
    case CallKind::kMethod: return "method";
    case CallKind::kMacro: return "macro";
  }
  return "path";
}

namespace {

uint32_t CountNewlines(std::string_view s) {
  return static_cast<uint32_t>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

namespace {

// Whether `text` holds what may be an inner doc comment or attribute:
// `//!`, `/*!`, or `#` then `!` (spaces between allowed). Also true for such
// text inside strings and comments: a caller that only wants to be safe.
bool HasInnerMarks(std::string_view text) {
  if (text.find("//!") != std::string_view::npos || text.find("/*!") != std::string_view::npos)
    return true;
  for (size_t i = text.find('#'); i != std::string_view::npos; i = text.find('#', i + 1)) {
    size_t j = i + 1;
    while (j < text.size() &&
           (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r'))
      ++j;
    if (j < text.size() && text[j] == '!') return true;
  }
  return false;
}

}  // namespace

FileExtraction ExtractEdited(std::string_view source, const SyntaxTree& tree, RustParser& parser,
                             std::string_view old_source, const FileExtraction& old,
                             const std::vector<TSRange>& changed, bool* incremental) {
  if (incremental) *incremental = false;
  auto whole = [&] { return ExtractFile(source, tree, parser); };
  // A file whose items were cut at the nesting limit is extracted whole.
  // Syntax errors are not a reason: the changed ranges cover what error
  // recovery changed, and the diagnostics are taken from the whole tree.
  if (!tree.valid() || old.truncated || source.size() > UINT32_MAX / 2 ||
      old_source.size() > UINT32_MAX / 2)
    return whole();

  // The edit: [P, old_end) of the old text became [P, new_end).
  const TextEdit diff = EditBetween(old_source, source);
  const uint32_t P = static_cast<uint32_t>(diff.start);
  const uint32_t old_end = static_cast<uint32_t>(diff.old_end);
  const uint32_t new_end = static_cast<uint32_t>(diff.new_end);
  const int64_t delta_bytes = static_cast<int64_t>(new_end) - static_cast<int64_t>(old_end);
  const int64_t delta_lines =
      static_cast<int64_t>(CountNewlines(source.substr(P, new_end - P))) -
      static_cast<int64_t>(CountNewlines(old_source.substr(P, old_end - P)));

  // The top-level nodes the edit (or a structural change the parser saw)
  // touches, widened over the docs and attributes written before an item,
  // to the item after docs and attributes, and to whole lines.
  struct Child {
    uint32_t start, end, start_row, end_row;
    bool prefix_like;  // an outer attribute or a comment: part of the next item
    bool inner;        // an inner attribute or doc comment: the module's own
    bool error;        // an ERROR (or MISSING) node of the file's own level
  };
  const TSNode root = tree.root();
  const uint32_t count = ts_node_child_count(root);
  std::vector<Child> children;
  children.reserve(count);
  for (uint32_t c = 0; c < count; ++c) {
    TSNode n = ts_node_child(root, c);
    std::string_view type = ts_node_type(n);
    bool comment = type == "line_comment" || type == "block_comment";
    bool inner_doc = false;
    if (comment) IsDocComment(n, &inner_doc);
    children.push_back(Child{ts_node_start_byte(n), ts_node_end_byte(n), ts_node_start_point(n).row,
                             ts_node_end_point(n).row, comment || type == "attribute_item",
                             inner_doc || type == "inner_attribute_item",
                             ts_node_is_error(n) || ts_node_is_missing(n)});
  }
  std::vector<std::pair<uint32_t, uint32_t>> dirty{{P, new_end}};
  for (const TSRange& r : changed) dirty.emplace_back(r.start_byte, r.end_byte);
  int64_t a = -1, b = -1;
  for (uint32_t c = 0; c < count; ++c) {
    for (const auto& [lo, hi] : dirty) {
      if (children[c].end >= lo && children[c].start <= hi) {
        if (a < 0) a = c;
        b = c;
      }
    }
  }
  if (count == 0) return whole();
  if (a < 0) {  // only whitespace between nodes: the next node (or the last)
    a = b = count - 1;
    for (uint32_t c = 0; c < count; ++c)
      if (children[c].start >= P) {
        a = b = c;
        break;
      }
  }
  // Rows (0-based, of the new text) the window covers; no node outside it
  // starts or ends on them, so an entry known by its line alone (a macro
  // call of the module itself) is clearly before, in or after it.
  uint32_t row_lo = std::min(CountNewlines(source.substr(0, P)), children[a].start_row);
  uint32_t row_hi = std::max(CountNewlines(source.substr(0, new_end)), children[b].end_row);
  for (bool grew = true; grew;) {
    grew = false;
    if (a > 0 && (children[a - 1].prefix_like || children[a - 1].end_row >= row_lo)) {
      --a;
      row_lo = std::min(row_lo, children[a].start_row);
      grew = true;
    }
    if (b + 1 < count && (children[b].prefix_like || children[b + 1].start_row <= row_hi)) {
      ++b;
      row_hi = std::max(row_hi, children[b].end_row);
      grew = true;
    }
  }
  // The module's own docs or attributes, or error recovery at the file's
  // level, which may have taken some of them (or given them back).
  for (int64_t c = a; c <= b; ++c)
    if (children[c].inner || children[c].error) return whole();
  const uint32_t win_begin = std::min(P, children[a].start);
  const uint32_t win_end = std::max(new_end, children[b].end);
  // The same window in the old text (its bytes from new_end on are the
  // old ones from old_end on, its rows from row_hi's on shifted).
  const uint32_t old_win_end = static_cast<uint32_t>(static_cast<int64_t>(win_end) - delta_bytes);
  // Inner docs or attributes in the window's old or new text (`#!`, `//!`,
  // `/*!`, wherever they sat: a deleted `#![allow(..)]` is in the old text
  // only, one that error recovery took into an ERROR node is not a node of
  // the file's level): the module's own may have changed.
  if (old_win_end < win_begin || old_win_end > old_source.size() ||
      HasInnerMarks(old_source.substr(win_begin, old_win_end - win_begin)) ||
      HasInnerMarks(source.substr(win_begin, win_end - win_begin)))
    return whole();
  const uint32_t win_first_line = row_lo + 1;
  const uint32_t old_win_last_line =
      static_cast<uint32_t>(static_cast<int64_t>(row_hi) - delta_lines) + 1;

  // The old top-level items (each with the items inside it) before, in or
  // after the window.
  enum Place : uint8_t { kBefore, kIn, kAfter };
  const size_t n_old = old.items.size();
  std::vector<Place> place(n_old, kIn);
  Place last = kBefore;
  for (size_t i = 0; i < n_old; ++i) {
    const ExtractedItem& it = old.items[i];
    if (it.parent >= 0) {
      place[i] = place[static_cast<size_t>(it.parent)];
      continue;
    }
    Place p = it.span.end_byte <= win_begin       ? kBefore
              : it.span.start_byte >= old_win_end ? kAfter
                                                  : kIn;
    if (p < last) return whole();  // out of order: trust nothing
    if (p == kIn && (it.span.start_byte < win_begin || it.span.end_byte > old_win_end))
      return whole();  // straddles the window
    last = p;
    place[i] = p;
  }

  FileExtraction window;
  Extractor(source, parser, &window).RunWindow(tree, win_begin, win_end);
  if (window.truncated) return whole();

  FileExtraction out;
  out.module_docs = old.module_docs;
  out.module_attrs = old.module_attrs;
  std::vector<int> remap(n_old, -1);
  size_t before = 0;
  for (size_t i = 0; i < n_old; ++i)
    if (place[i] == kBefore) remap[i] = static_cast<int>(before++);
  const int offset = static_cast<int>(before);
  int next = static_cast<int>(before + window.items.size());
  for (size_t i = 0; i < n_old; ++i)
    if (place[i] == kAfter) remap[i] = next++;
  auto shift_line = [&](uint32_t line) {
    return static_cast<uint32_t>(static_cast<int64_t>(line) + delta_lines);
  };

  out.items.reserve(static_cast<size_t>(next));
  for (size_t i = 0; i < n_old; ++i)
    if (place[i] == kBefore) out.items.push_back(old.items[i]);
  for (ExtractedItem& it : window.items) {
    if (it.parent >= 0) it.parent += offset;
    out.items.push_back(std::move(it));
  }
  for (size_t i = 0; i < n_old; ++i) {
    if (place[i] != kAfter) continue;
    ExtractedItem it = old.items[i];
    if (it.parent >= 0) it.parent = remap[static_cast<size_t>(it.parent)];
    it.span.start_byte = static_cast<uint32_t>(it.span.start_byte + delta_bytes);
    it.span.end_byte = static_cast<uint32_t>(it.span.end_byte + delta_bytes);
    it.span.start_line = shift_line(it.span.start_line);
    it.span.end_line = shift_line(it.span.end_line);
    out.items.push_back(std::move(it));
  }

  // Per-item lists: the old entries before the window, the window's, the
  // old ones after it (an entry of the module itself goes by its line).
  auto place_of = [&](int item, uint32_t line) {
    if (item >= 0) return place[static_cast<size_t>(item)];
    return line < win_first_line ? kBefore : line > old_win_last_line ? kAfter : kIn;
  };
  auto splice = [&](const auto& old_list, auto& window_list, auto& out_list, auto line_of,
                    auto shift) {
    for (const auto& e : old_list)
      if (place_of(e.item, line_of(e)) == kBefore) out_list.push_back(e);
    for (auto& e : window_list) {
      if (e.item >= 0) e.item += offset;
      out_list.push_back(std::move(e));
    }
    for (const auto& e : old_list) {
      if (place_of(e.item, line_of(e)) != kAfter) continue;
      auto moved = e;
      if (moved.item >= 0) moved.item = remap[static_cast<size_t>(moved.item)];
      shift(moved);
      out_list.push_back(std::move(moved));
    }
  };
  splice(
      old.mods, window.mods, out.mods, [](const ModDecl&) { return 0u; }, [](ModDecl&) {});
  splice(
      old.imports, window.imports, out.imports, [](const UseImport& e) { return e.line; },
      [&](UseImport& e) { e.line = shift_line(e.line); });
  splice(
      old.type_refs, window.type_refs, out.type_refs, [](const TypeRef& e) { return e.line; },
      [&](TypeRef& e) { e.line = shift_line(e.line); });
  splice(
      old.calls, window.calls, out.calls, [](const CallRef& e) { return e.line; },
      [&](CallRef& e) { e.line = shift_line(e.line); });
  if (tree.has_error()) Extractor(source, parser, &out).Diagnose(tree);
  if (incremental) *incremental = true;
  return out;
}

FileExtraction ParseAndExtract(std::string_view source, RustParser& parser) {
  Result<SyntaxTree> tree = parser.Parse(source);
  if (!tree.ok()) {
    FileExtraction out;
    out.diagnostics.push_back(Diagnostic{1, 1, tree.status().message()});
    return out;
  }
  return ExtractFile(source, *tree, parser);
}

}  // namespace ferrograph
