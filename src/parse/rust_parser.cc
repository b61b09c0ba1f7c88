#include "parse/rust_parser.h"

#include <cstdint>
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
  TSTree* tree = ts_parser_parse_string(parser_.get(), nullptr, source.data(),
                                        static_cast<uint32_t>(source.size()));
  if (with_ranges) ts_parser_set_included_ranges(parser_.get(), nullptr, 0);
  if (tree == nullptr) {
    ts_parser_reset(parser_.get());
    return Status::Internal("tree-sitter gave up parsing");
  }
  return SyntaxTree(tree);
}

}  // namespace ferrograph
