#include "graph/normalize.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "parse/rust_parser.h"

namespace ferrograph {
namespace {

// A parsed snippet that owns its source text.
struct Parsed {
  std::string source;
  SyntaxTree tree;
  TSNode root() const { return tree.root(); }
  TSNode item(uint32_t i) const { return ts_node_named_child(tree.root(), i); }
};

Parsed Parse(std::string source) {
  static RustParser* parser = new RustParser();
  Parsed p{std::move(source), {}};
  p.tree = std::move(parser->Parse(p.source)).value();
  return p;
}

ContentHash HashOf(std::string source) {
  Parsed p = Parse(std::move(source));
  return HashNormalizedSyntax(p.root(), p.source);
}

TEST(NormalizeTest, ReformattingKeepsHash) {
  ContentHash a = HashOf("fn add(a: i32, b: i32) -> i32 { a + b }");
  ContentHash b =
      HashOf("fn add(\n    a: i32,   // first\n    b: i32 /* second */\n) -> i32\n{\n\ta + b\n}\n");
  EXPECT_EQ(a, b);
}

TEST(NormalizeTest, ChangingOneTokenChangesHash) {
  ContentHash base = HashOf("fn add(a: i32, b: i32) -> i32 { a + b }");
  EXPECT_NE(base, HashOf("fn add(a: i32, b: i32) -> i32 { a - b }"));
  EXPECT_NE(base, HashOf("fn add(a: i32, b: i32) -> i64 { a + b }"));
  EXPECT_NE(base, HashOf("fn add(a: i32, c: i32) -> i32 { a + c }"));
  EXPECT_NE(base, HashOf("pub fn add(a: i32, b: i32) -> i32 { a + b }"));
}

TEST(NormalizeTest, DocCommentsCountOrdinaryCommentsDoNot) {
  ContentHash plain = HashOf("fn f() {}");
  EXPECT_EQ(plain, HashOf("// note\nfn f() {}"));
  EXPECT_EQ(plain, HashOf("/* note */ fn f() {}"));
  EXPECT_EQ(plain, HashOf("//// four slashes is not a doc comment\nfn f() {}"));
  ContentHash doc = HashOf("/// Adds.\nfn f() {}");
  EXPECT_NE(plain, doc);
  EXPECT_NE(doc, HashOf("/// Adds two.\nfn f() {}"));
  EXPECT_NE(doc, HashOf("/** Adds. */\nfn f() {}"));
  // Trailing whitespace of a doc line is formatting.
  EXPECT_EQ(doc, HashOf("/// Adds.   \r\nfn f() {}"));
}

TEST(NormalizeTest, TokenBoundariesAreUnambiguous) {
  // Same characters, different tokens.
  EXPECT_NE(HashOf("const A: u8 = a+b;"), HashOf("const A: u8 = ab;"));
  EXPECT_NE(HashOf("static S: &str = \"ab\";"), HashOf("static S: &str = \"a\" ; "));
}

TEST(NormalizeTest, RawStringDelimitersAndPrefixesCount) {
  ContentHash raw = HashOf("const S: &str = r\"a\";");
  EXPECT_NE(raw, HashOf("const S: &[u8] = br\"a\";"));
  EXPECT_NE(raw, HashOf("const S: &str = r#\"a\"#;"));
  EXPECT_NE(raw, HashOf("const S: &str = r\"b\";"));
}

TEST(NormalizeTest, MacroRepetitionSeparatorCounts) {
  // tree-sitter-rust leaves the separator of `$(...),*` outside any token.
  ContentHash comma = HashOf("macro_rules! m { ($($x:expr),*) => {}; }");
  EXPECT_NE(comma, HashOf("macro_rules! m { ($($x:expr);*) => {}; }"));
  EXPECT_EQ(comma, HashOf("macro_rules! m {\n  ( $( $x:expr ),* ) => { };\n}"));
}

TEST(NormalizeTest, SiblingRunHashEqualsIndexHash) {
  Parsed p = Parse("/// doc\n#[inline]\n// plain\npub fn f() -> u8 { 1 }\nfn g() {}\n");
  TSNode doc = ts_node_child(p.root(), 0);
  TSNode fn = ts_node_named_child(p.root(), 3);
  ASSERT_STREQ(ts_node_type(fn), "function_item");
  NormalizedSyntaxIndex index(p.root(), p.source);
  std::optional<ContentHash> from_index = index.HashRange(doc, fn);
  ASSERT_TRUE(from_index.has_value());
  EXPECT_EQ(*from_index, HashNormalizedSyntax(doc, fn, p.source));
  // A function written first in a file hashes like the same function later.
  Parsed alone = Parse("/// doc\n#[inline]\npub fn f() -> u8 { 1 }");
  NormalizedSyntaxIndex alone_index(alone.root(), alone.source);
  EXPECT_EQ(*from_index, *alone_index.HashRange(alone.item(0), alone.item(2)));
}

TEST(NormalizeTest, IndexAgreesWithDirectHashOnEveryNamedNode) {
  Parsed p = Parse(R"rs(
//! crate docs
use std::{fmt, io};
/// A thing.
#[derive(Debug)]
pub struct Thing<'a, T: Clone> { pub name: &'a str, items: Vec<T> }
impl<T: Clone> fmt::Display for Thing<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result { write!(f, "{}", r#"x"#) }
}
macro_rules! m { ($($x:expr),*) => { vec![$($x),*] }; }
fn broken( { let x = ; }
)rs");
  NormalizedSyntaxIndex index(p.root(), p.source);
  TSTreeCursor c = ts_tree_cursor_new(p.root());
  int checked = 0;
  for (;;) {
    TSNode n = ts_tree_cursor_current_node(&c);
    if (ts_node_is_named(n)) {
      std::optional<ContentHash> h = index.HashRange(n, n);
      if (h) {
        ++checked;
        EXPECT_EQ(*h, HashNormalizedSyntax(n, p.source))
            << ts_node_type(n) << " at " << ts_node_start_byte(n);
      }
    }
    if (ts_tree_cursor_goto_first_child(&c)) continue;
    bool more = false;
    while (!(more = ts_tree_cursor_goto_next_sibling(&c))) {
      if (!ts_tree_cursor_goto_parent(&c)) break;
    }
    if (!more) break;
  }
  ts_tree_cursor_delete(&c);
  EXPECT_GT(checked, 50);
}

TEST(NormalizeTest, IndexRejectsNodesOfAnotherTree) {
  Parsed a = Parse("fn f() {}");
  Parsed b = Parse("\n\nstruct S;");
  NormalizedSyntaxIndex index(a.root(), a.source);
  EXPECT_FALSE(index.HashRange(b.item(0), b.item(0)).has_value());
  EXPECT_FALSE(index.HashRange(TSNode{}, TSNode{}).has_value());
}

TEST(NormalizeTest, SurvivesDeepNesting) {
  std::string deep =
      "const X: u8 = " + std::string(20000, '(') + "1" + std::string(20000, ')') + ";";
  ContentHash h = HashOf(deep);
  EXPECT_FALSE(h.IsZero());
  Parsed p = Parse(deep);
  std::string text;
  AppendCollapsedText(p.root(), p.source, UINT32_MAX, 64, &text);
  EXPECT_EQ(text.size(), 64u);
}

TEST(NormalizeTest, IdentifiesDocComments) {
  Parsed p = Parse("/// a\n//! b\n/** c */\n/*! d */\n//// e\n/***/\n// f\n/* g */\nfn x() {}");
  bool inner = false;
  ASSERT_STREQ(ts_node_type(p.item(0)), "line_comment");
  EXPECT_TRUE(IsDocComment(p.item(0), &inner));
  EXPECT_FALSE(inner);
  EXPECT_TRUE(IsDocComment(p.item(1), &inner));
  EXPECT_TRUE(inner);
  EXPECT_TRUE(IsDocComment(p.item(2), &inner));
  EXPECT_FALSE(inner);
  EXPECT_TRUE(IsDocComment(p.item(3), &inner));
  EXPECT_TRUE(inner);
  for (uint32_t i = 4; i < 8; ++i) {
    EXPECT_FALSE(IsDocComment(p.item(i))) << i;
    EXPECT_TRUE(IsOrdinaryComment(p.item(i))) << i;
  }
  EXPECT_FALSE(IsOrdinaryComment(p.item(8)));  // the function
}

TEST(NormalizeTest, CollapsedTextJoinsTokensWithSingleSpaces) {
  Parsed p = Parse("pub  fn\n  f<T>(\n    a: T, // why\n    b: u8 /* c */ ) -> u8 { 0 }");
  TSNode fn = p.item(0);
  TSNode body = ts_node_child_by_field_name(fn, "body", 4);
  std::string sig;
  AppendCollapsedText(fn, p.source, ts_node_start_byte(body), 1000, &sig);
  EXPECT_EQ(sig, "pub fn f<T>( a: T, b: u8 ) -> u8");
  EXPECT_EQ(CollapsedText(body, p.source), "{ 0 }");
}

TEST(NormalizeTest, CollapsedTextTruncatesAtUtf8Boundary) {
  Parsed p = Parse("const S: &str = \"\xc3\xa9\xc3\xa9\xc3\xa9\";");
  std::string text;
  // "const S: &str = \"" is 17 bytes; 18 would split the first é.
  AppendCollapsedText(p.item(0), p.source, UINT32_MAX, 18, &text);
  EXPECT_EQ(text, "const S: &str = \"");
}

}  // namespace
}  // namespace ferrograph
