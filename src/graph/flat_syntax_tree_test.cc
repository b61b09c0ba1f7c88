#include "graph/flat_syntax_tree.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "parse/rust_parser.h"

namespace ferrograph {
namespace {

constexpr const char kSource[] = R"rs(
//! crate docs
use std::{fmt, io};
/// A thing.
#[derive(Debug)]
pub struct Thing<'a, T: Clone> { pub name: &'a str, items: Vec<T> }
pub struct Pair(pub u8, String);
impl<T: Clone> fmt::Display for Thing<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result { write!(f, "{}", r#"x"#) }
}
macro_rules! m { ($($x:expr),*) => { vec![$($x),*] }; }
fn broken( { let x = ; }
)rs";

// Checks `tree[i]` against the tree-sitter node API, recursively: children,
// fields (against ts_node_child_by_field_id) and subtree bounds.
void ExpectMatchesTreeSitter(const FlatSyntaxTree& tree, uint32_t i, int* checked) {
  const FlatSyntaxTree::Node& n = tree[i];
  ++*checked;
  EXPECT_EQ(n.start_byte, ts_node_start_byte(n.node));
  EXPECT_EQ(n.end_byte, ts_node_end_byte(n.node));
  EXPECT_EQ(n.symbol, ts_node_symbol(n.node));
  EXPECT_EQ(n.named, ts_node_is_named(n.node));
  EXPECT_EQ(n.missing, ts_node_is_missing(n.node));
  EXPECT_EQ(tree.Find(n.node), std::optional<uint32_t>(i));
  uint32_t child_count = ts_node_child_count(n.node);
  uint32_t c = i + 1;
  for (uint32_t k = 0; k < child_count; ++k, c = tree[c].next) {
    ASSERT_LT(c, n.next);
    EXPECT_TRUE(ts_node_eq(tree[c].node, ts_node_child(n.node, k)));
    EXPECT_EQ(tree[c].parent, i);
    const char* field = ts_node_field_name_for_child(n.node, k);
    TSFieldId id = field ? ts_language_field_id_for_name(RustLanguage(), field,
                                                         static_cast<uint32_t>(strlen(field)))
                         : 0;
    EXPECT_EQ(tree[c].field, id) << ts_node_type(n.node) << " child " << k;
    ExpectMatchesTreeSitter(tree, c, checked);
  }
  EXPECT_EQ(c, n.next);
  for (TSFieldId f = 1; f <= ts_language_field_count(RustLanguage()); ++f) {
    TSNode expected = ts_node_child_by_field_id(n.node, f);
    uint32_t found = tree.ChildByField(i, f);
    if (ts_node_is_null(expected)) {
      EXPECT_EQ(found, FlatSyntaxTree::kNone);
    } else {
      ASSERT_NE(found, FlatSyntaxTree::kNone) << ts_node_type(n.node) << " field " << f;
      EXPECT_TRUE(ts_node_eq(tree[found].node, expected));
    }
  }
}

TEST(FlatSyntaxTreeTest, MatchesTreeSitterNodeApi) {
  RustParser parser;
  std::string source = kSource;
  SyntaxTree syntax = std::move(parser.Parse(source)).value();
  FlatSyntaxTree tree(syntax.root());
  ASSERT_GT(tree.size(), 100u);
  EXPECT_EQ(tree[0].parent, FlatSyntaxTree::kNone);
  EXPECT_EQ(tree[0].next, tree.size());
  int checked = 0;
  ExpectMatchesTreeSitter(tree, 0, &checked);
  EXPECT_EQ(static_cast<uint32_t>(checked), tree.size());
}

TEST(FlatSyntaxTreeTest, FindRejectsNodesOfAnotherTree) {
  RustParser parser;
  std::string a = "fn f() {}", b = "fn f() {}";
  SyntaxTree ta = std::move(parser.Parse(a)).value();
  SyntaxTree tb = std::move(parser.Parse(b)).value();
  FlatSyntaxTree flat(ta.root());
  EXPECT_EQ(flat.Find(ta.root()), std::optional<uint32_t>(0));
  EXPECT_FALSE(flat.Find(tb.root()).has_value());
  EXPECT_FALSE(flat.Find(TSNode{}).has_value());
}

TEST(FlatSyntaxTreeTest, NullRootIsEmpty) {
  FlatSyntaxTree tree(TSNode{});
  EXPECT_EQ(tree.size(), 0u);
}

TEST(FlatSyntaxTreeTest, WindowWalksOnlyTheTopLevelNodesStartingInIt) {
  RustParser parser;
  auto tree = parser.Parse(kSource);
  ASSERT_TRUE(tree.ok());
  const std::string source = kSource;
  const uint32_t begin = static_cast<uint32_t>(source.find("pub struct Pair"));
  const uint32_t end = static_cast<uint32_t>(source.find("impl<T"));
  FlatSyntaxTree whole(tree->root());
  FlatSyntaxTree window;
  window.BuildWindow(tree->root(), begin, end);
  ASSERT_LT(window.size(), whole.size());
  int inside = 0, outside = 0;
  for (uint32_t c = 1; c < window.size(); c = window[c].next) {
    ASSERT_EQ(window[c].parent, 0u);  // every root child is there
    if (window[c].start_byte >= begin && window[c].start_byte < end) {
      ++inside;
      int checked = 0;
      ExpectMatchesTreeSitter(window, c, &checked);  // walked whole
      EXPECT_GT(checked, 5);
    } else {
      ++outside;
      EXPECT_EQ(window[c].next, c + 1);  // a leaf: not walked
      EXPECT_GT(ts_node_child_count(window[c].node), 0u);
    }
  }
  EXPECT_EQ(inside, 1);
  EXPECT_GT(outside, 4);
  // The whole window is the whole tree.
  FlatSyntaxTree all;
  all.BuildWindow(tree->root(), 0, UINT32_MAX);
  EXPECT_EQ(all.size(), whole.size());
}

}  // namespace
}  // namespace ferrograph
