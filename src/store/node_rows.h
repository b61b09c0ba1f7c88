// Internal to the store module: reading node rows shared by store.cc and
// search_tables.cc.
#ifndef FERROGRAPH_STORE_NODE_ROWS_H_
#define FERROGRAPH_STORE_NODE_ROWS_H_

#include <string>
#include <string_view>

#include "ferrograph/graph.h"
#include "store/sqlite.h"

namespace ferrograph {

// Reads the 16 node columns (id, kind, name, path, crate, file, start_byte,
// end_byte, start_line, end_line, visibility, signature, docs, attrs,
// content_hash, parent) of `st` starting at column `c`. The column lists
// add the row's file_key after them (column c + kNodeFileKeyColumn): the
// span it reads is the row's; a SpanFixer gives the one at the version read.
Node ReadNode(const Statement& st, int c = 0);
inline constexpr int kNodeFileKeyColumn = 16;
// Adds the cfgs, derives, attributes and macro of a row's `attrs` JSON to
// `n`; text that is not such an object adds nothing.
void ParseAttrsJson(std::string_view text, Node* n);
inline constexpr int kNodeColumnCount = 17;

// An edge's identity but its line (kind, ends, props): what a call site
// keeps when an edit only moves it.
std::string LinelessEdgeKey(const Edge& e);

}  // namespace ferrograph

#endif  // FERROGRAPH_STORE_NODE_ROWS_H_
