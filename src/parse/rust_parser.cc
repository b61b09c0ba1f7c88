#include "parse/rust_parser.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>

extern "C" const TSLanguage* tree_sitter_rust();

namespace ferrograph {

const TSLanguage* RustLanguage() {
  static const TSLanguage* const language = tree_sitter_rust();
  return language;
}

RustParser::RustParser() : parser_(ts_parser_new()) {
  // Setting a language only fails on an ABI mismatch, which is a build error
  // in practice; Parse() reports it if it ever happens.
  ts_parser_set_language(parser_.get(), RustLanguage());
}

Result<SyntaxTree> RustParser::Parse(std::string_view source, const std::vector<TSRange>* ranges) {
  if (source.size() > std::numeric_limits<uint32_t>::max()) {
    return Status::InvalidArgument("source is larger than 4 GiB");
  }
  if (ts_parser_language(parser_.get()) == nullptr) {
    return Status::Internal("tree-sitter-rust grammar has an incompatible ABI version");
  }
  const bool with_ranges = ranges != nullptr && !ranges->empty();
  if (with_ranges) {
    for (const TSRange& r : *ranges) {
      if (r.start_byte > r.end_byte || r.end_byte > source.size()) {
        return Status::InvalidArgument("included range lies outside the source");
      }
    }
    if (!ts_parser_set_included_ranges(parser_.get(), ranges->data(),
                                       static_cast<uint32_t>(ranges->size()))) {
      return Status::InvalidArgument("included ranges overlap or are out of order");
    }
  }
  ++parses_;
  TSTree* tree = ts_parser_parse_string(parser_.get(), nullptr, source.data(),
                                        static_cast<uint32_t>(source.size()));
  if (with_ranges) ts_parser_set_included_ranges(parser_.get(), nullptr, 0);
  if (tree == nullptr) {
    ts_parser_reset(parser_.get());
    return Status::Internal("tree-sitter gave up parsing");
  }
  return SyntaxTree(tree);
}

namespace {

// Row and byte column of `offset` in `text` (tree-sitter's TSPoint).
TSPoint PointAt(std::string_view text, size_t offset) {
  TSPoint p{0, 0};
  size_t line_start = 0;
  for (size_t i = text.find('\n'); i != std::string_view::npos && i < offset;
       i = text.find('\n', i + 1)) {
    ++p.row;
    line_start = i + 1;
  }
  p.column = static_cast<uint32_t>(offset - line_start);
  return p;
}

}  // namespace

TextEdit EditBetween(std::string_view old_text, std::string_view new_text) {
  const size_t shorter = std::min(old_text.size(), new_text.size());
  size_t prefix = 0;
  while (prefix < shorter && old_text[prefix] == new_text[prefix]) ++prefix;
  size_t suffix = 0;
  while (suffix < shorter - prefix &&
         old_text[old_text.size() - 1 - suffix] == new_text[new_text.size() - 1 - suffix])
    ++suffix;
  return TextEdit{prefix, old_text.size() - suffix, new_text.size() - suffix};
}

Result<SyntaxTree> RustParser::Reparse(std::string_view source, std::string_view old_source,
                                       const SyntaxTree& old, std::vector<TSRange>* changed) {
  if (changed) changed->clear();
  if (!old.valid() || source.size() > std::numeric_limits<uint32_t>::max() ||
      old_source.size() > std::numeric_limits<uint32_t>::max())
    return Parse(source);
  const TextEdit diff = EditBetween(old_source, source);
  TSInputEdit edit;
  edit.start_byte = static_cast<uint32_t>(diff.start);
  edit.old_end_byte = static_cast<uint32_t>(diff.old_end);
  edit.new_end_byte = static_cast<uint32_t>(diff.new_end);
  edit.start_point = PointAt(source, diff.start);
  edit.old_end_point = PointAt(old_source, edit.old_end_byte);
  edit.new_end_point = PointAt(source, edit.new_end_byte);
  ++parses_;
  TSTree* edited = ts_tree_copy(old.get());
  ts_tree_edit(edited, &edit);
  TSTree* tree = ts_parser_parse_string(parser_.get(), edited, source.data(),
                                        static_cast<uint32_t>(source.size()));
  if (tree != nullptr && changed != nullptr) {
    uint32_t count = 0;
    TSRange* ranges = ts_tree_get_changed_ranges(edited, tree, &count);
    changed->assign(ranges, ranges + count);
    free(ranges);
  }
  ts_tree_delete(edited);
  if (tree == nullptr) {
    ts_parser_reset(parser_.get());
    return Status::Internal("tree-sitter gave up parsing");
  }
  return SyntaxTree(tree);
}

}  // namespace ferrograph
