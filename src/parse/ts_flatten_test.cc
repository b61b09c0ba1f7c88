// fg_ts_flatten against the TSTreeCursor walk it replaces: the same nodes,
// in the same order, with the same handles, spans, parents, subtree ends,
// symbols, fields and flags, on every file of real crates (and on broken
// ones, where tree-sitter inserts ERROR and MISSING nodes), whole and in
// windows.
#include "parse/ts_flatten.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "parse/rust_parser.h"

namespace ferrograph {
namespace {

namespace fs = std::filesystem;

// The reference: the cursor walk (what FlatSyntaxTree::BuildWindow did).
std::vector<FgFlatNode> CursorWalk(TSNode root, uint32_t begin, uint32_t end) {
  std::vector<FgFlatNode> nodes;
  if (ts_node_is_null(root)) return nodes;
  const bool whole = begin == 0 && end == UINT32_MAX;
  TSTreeCursor c = ts_tree_cursor_new(root);
  uint32_t parent = FG_FLAT_NONE;
  for (;;) {
    TSNode n = ts_tree_cursor_current_node(&c);
    const uint32_t index = static_cast<uint32_t>(nodes.size());
    nodes.push_back(FgFlatNode{n, ts_node_start_byte(n), ts_node_end_byte(n), 0, parent,
                               ts_node_symbol(n),
                               index == 0 ? TSFieldId{0} : ts_tree_cursor_current_field_id(&c),
                               ts_node_is_named(n), ts_node_is_missing(n)});
    const bool outside = !whole && parent == 0 &&
                         (nodes[index].start_byte < begin || nodes[index].start_byte >= end);
    if (!outside && ts_tree_cursor_goto_first_child(&c)) {
      parent = index;
      continue;
    }
    nodes[index].next = index + 1;
    bool more = false;
    while (!(more = ts_tree_cursor_goto_next_sibling(&c))) {
      if (!ts_tree_cursor_goto_parent(&c)) break;
      nodes[parent].next = static_cast<uint32_t>(nodes.size());
      parent = nodes[parent].parent;
    }
    if (!more) break;
  }
  ts_tree_cursor_delete(&c);
  return nodes;
}

FgFlatNode* Grow(void* context, size_t min_capacity, size_t* capacity) {
  auto* v = static_cast<std::vector<FgFlatNode>*>(context);
  v->resize(std::max(min_capacity, v->size() * 2));
  *capacity = v->size();
  return v->data();
}

// Starts with a small buffer, so that growing is exercised too.
std::vector<FgFlatNode> Flatten(TSNode root, uint32_t begin, uint32_t end) {
  std::vector<FgFlatNode> v(4);
  size_t n = fg_ts_flatten(root, begin, end, v.data(), v.size(), &Grow, &v);
  EXPECT_NE(n, SIZE_MAX);
  v.resize(n == SIZE_MAX ? 0 : n);
  return v;
}

// Compares field by field; returns a description of the first difference.
std::string FirstDifference(const std::vector<FgFlatNode>& want, const std::vector<FgFlatNode>& got,
                            const TSLanguage* language) {
  if (want.size() != got.size())
    return "size " + std::to_string(got.size()) + ", want " + std::to_string(want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const FgFlatNode &a = want[i], &b = got[i];
    std::string what;
    if (!ts_node_eq(a.node, b.node) || a.node.context[0] != b.node.context[0] ||
        a.node.context[1] != b.node.context[1] || a.node.context[2] != b.node.context[2] ||
        a.node.context[3] != b.node.context[3])
      what = "handle";
    else if (a.start_byte != b.start_byte || a.end_byte != b.end_byte)
      what = "span";
    else if (a.next != b.next)
      what = "next " + std::to_string(b.next) + " want " + std::to_string(a.next);
    else if (a.parent != b.parent)
      what = "parent";
    else if (a.symbol != b.symbol)
      what = "symbol";
    else if (a.field != b.field)
      what = std::string("field ") +
             (b.field ? ts_language_field_name_for_id(language, b.field) : "-") + " want " +
             (a.field ? ts_language_field_name_for_id(language, a.field) : "-");
    else if (a.named != b.named || a.missing != b.missing)
      what = "flags";
    if (!what.empty())
      return "node " + std::to_string(i) + " (" + ts_node_type(a.node) + " at byte " +
             std::to_string(a.start_byte) + "): " + what;
  }
  return "";
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every check of one source: the whole tree, a few windows, and subtrees.
void CheckSource(RustParser& parser, const std::string& source, const std::string& name) {
  auto tree = parser.Parse(source);
  ASSERT_TRUE(tree.ok()) << name;
  const TSNode root = tree->root();
  const TSLanguage* language = ts_node_language(root);
  std::vector<FgFlatNode> want = CursorWalk(root, 0, UINT32_MAX);
  ASSERT_EQ(FirstDifference(want, Flatten(root, 0, UINT32_MAX), language), "") << name;
  const uint32_t size = static_cast<uint32_t>(source.size());
  for (auto [b, e] : {std::pair<uint32_t, uint32_t>{0, size / 3},
                      {size / 3, 2 * size / 3},
                      {size / 2, size / 2 + 1},
                      {size, size}}) {
    ASSERT_EQ(FirstDifference(CursorWalk(root, b, e), Flatten(root, b, e), language), "")
        << name << " window " << b << ".." << e;
  }
  // Subtrees as roots (aliased and field-carrying nodes among them).
  for (size_t i = 1; i < want.size(); i += std::max<size_t>(1, want.size() / 50)) {
    ASSERT_EQ(FirstDifference(CursorWalk(want[i].node, 0, UINT32_MAX),
                              Flatten(want[i].node, 0, UINT32_MAX), language),
              "")
        << name << " subtree at node " << i;
  }
}

std::vector<fs::path> RustFilesUnder(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec))
    if (it->is_regular_file() && it->path().extension() == ".rs") files.push_back(it->path());
  std::sort(files.begin(), files.end());
  return files;
}

TEST(TsFlattenTest, NullAndLeafRoots) {
  std::vector<FgFlatNode> v(1);
  EXPECT_EQ(fg_ts_flatten(TSNode{}, 0, UINT32_MAX, v.data(), v.size(), &Grow, &v), 0u);
  RustParser parser;
  CheckSource(parser, "", "empty");
  CheckSource(parser, "fn f() {}", "one item");
}

TEST(TsFlattenTest, BrokenSourceWithErrorAndMissingNodes) {
  RustParser parser;
  CheckSource(parser, "fn f( { let x = ; }\nstruct S { a: , }\nimpl T for {\n", "broken");
  CheckSource(parser, "fn g() -> u32 { match x { 1 => 2, _ => } }", "missing");
  CheckSource(parser, "macro_rules! m { ($x:expr) => { $x + 1 }; }\nm!(1);\n/* c */ // d\n",
              "macros and comments");
}

// The crates the golden tests use and then some: regex, serde, syn, tokio.
TEST(TsFlattenTest, SameAsTheCursorOnRealCrates) {
  const fs::path registry = "/usr/share/cargo/registry";
  std::vector<fs::path> files;
  for (const char* crate : {"regex-1.7.1", "serde-1.0.152", "syn-1.0.107", "tokio-1.24.2"}) {
    std::vector<fs::path> more = RustFilesUnder(registry / crate);
    files.insert(files.end(), more.begin(), more.end());
  }
  if (files.empty()) GTEST_SKIP() << "no crates under " << registry;
  RustParser parser;
  size_t checked = 0;
  for (const fs::path& f : files) {
    std::string source = ReadAll(f);
    CheckSource(parser, source, f.string());
    if (HasFatalFailure()) return;
    // The same file cut off mid-way: ERROR and MISSING nodes everywhere.
    CheckSource(parser, source.substr(0, source.size() / 2), f.string() + " (first half)");
    if (HasFatalFailure()) return;
    ++checked;
  }
  EXPECT_GT(checked, 500u);
}

}  // namespace
}  // namespace ferrograph
