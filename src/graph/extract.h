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

struct FileExtraction {
  std::vector<ExtractedItem> items;  // a parent always precedes its children
  std::vector<ModDecl> mods;
  std::vector<Diagnostic> diagnostics;
  std::string module_docs;                // inner doc comments (//! and /*! */) at file top level
  std::vector<std::string> module_attrs;  // inner attributes #![...] at file top level
};

// Extracts the items of `source`, already parsed into `tree`. `parser` is
// used to re-parse macro token trees; it must not be in use elsewhere.
FileExtraction ExtractFile(std::string_view source, const SyntaxTree& tree, RustParser& parser);

// Convenience: parse then extract.
FileExtraction ParseAndExtract(std::string_view source, RustParser& parser);

}  // namespace ferrograph

#endif  // FERROGRAPH_GRAPH_EXTRACT_H_
