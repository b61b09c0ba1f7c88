#include "parse/rust_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace ferrograph {
namespace {

// Byte offset and (row, column) of `needle` in `text`.
TSRange RangeOf(std::string_view text, std::string_view needle) {
  size_t at = text.find(needle);
  EXPECT_NE(at, std::string_view::npos);
  auto point = [&](size_t offset) {
    TSPoint p{0, 0};
    for (size_t i = 0; i < offset; ++i) {
      if (text[i] == '\n') {
        ++p.row;
        p.column = 0;
      } else {
        ++p.column;
      }
    }
    return p;
  };
  return TSRange{point(at), point(at + needle.size()), static_cast<uint32_t>(at),
                 static_cast<uint32_t>(at + needle.size())};
}

TSNode FindFirst(TSNode node, std::string_view type) {
  if (type == ts_node_type(node)) return node;
  for (uint32_t i = 0; i < ts_node_child_count(node); ++i) {
    TSNode found = FindFirst(ts_node_child(node, i), type);
    if (!ts_node_is_null(found)) return found;
  }
  return TSNode{};
}

TEST(RustParserTest, LanguageIsTheSameRustGrammarEveryCall) {
  ASSERT_NE(RustLanguage(), nullptr);
  EXPECT_EQ(RustLanguage(), RustLanguage());
  EXPECT_GT(ts_language_symbol_count(RustLanguage()), 100u);
}

TEST(RustParserTest, ParsesValidRust) {
  RustParser parser;
  std::string src = "pub fn add(a: i32, b: i32) -> i32 { a + b }\nstruct P { x: u8 }\n";
  Result<SyntaxTree> tree = parser.Parse(src);
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  ASSERT_TRUE(tree->valid());
  EXPECT_FALSE(tree->has_error());
  TSNode root = tree->root();
  EXPECT_STREQ(ts_node_type(root), "source_file");
  ASSERT_EQ(ts_node_named_child_count(root), 2u);
  TSNode fn = ts_node_named_child(root, 0);
  EXPECT_STREQ(ts_node_type(fn), "function_item");
  EXPECT_EQ(NodeText(ts_node_child_by_field_name(fn, "name", 4), src), "add");
  EXPECT_STREQ(ts_node_type(ts_node_named_child(root, 1)), "struct_item");
}

TEST(RustParserTest, EmptySourceGivesEmptyFile) {
  RustParser parser;
  Result<SyntaxTree> tree = parser.Parse("");
  ASSERT_TRUE(tree.ok());
  EXPECT_FALSE(tree->has_error());
  EXPECT_EQ(ts_node_child_count(tree->root()), 0u);
}

TEST(RustParserTest, BrokenRustReportsErrorAndKeepsRecoveredItems) {
  RustParser parser;
  std::string src = "fn broken( { }\nstruct S { a: u8\nfn after() {}\n";
  Result<SyntaxTree> tree = parser.Parse(src);
  ASSERT_TRUE(tree.ok());
  EXPECT_TRUE(tree->has_error());
  // The tree is still usable: the later function was recovered.
  bool found_after = false;
  TSNode root = tree->root();
  for (uint32_t i = 0; i < ts_node_named_child_count(root); ++i) {
    TSNode item = ts_node_named_child(root, i);
    TSNode name = ts_node_child_by_field_name(item, "name", 4);
    if (!ts_node_is_null(name) && NodeText(name, src) == "after") found_after = true;
  }
  EXPECT_TRUE(found_after);
}

TEST(RustParserTest, IncludedRangesKeepOriginalOffsets) {
  RustParser parser;
  std::string src = "garbage ~~~ {{\n  xx fn inner(a: u8) {} yy\n";
  std::vector<TSRange> ranges{RangeOf(src, "fn inner(a: u8) {}")};
  Result<SyntaxTree> tree = parser.Parse(src, &ranges);
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  EXPECT_FALSE(tree->has_error());
  TSNode fn = FindFirst(tree->root(), "function_item");
  ASSERT_FALSE(ts_node_is_null(fn));
  EXPECT_EQ(ts_node_start_byte(fn), src.find("fn inner"));
  EXPECT_EQ(ts_node_start_point(fn).row, 1u);
  EXPECT_EQ(ts_node_start_point(fn).column, 5u);
  EXPECT_EQ(NodeText(fn, src), "fn inner(a: u8) {}");
}

TEST(RustParserTest, SeveralIncludedRangesParseAsOneDocument) {
  RustParser parser;
  std::string src = "fn a() {} /*skip*/ ## fn b() {}";
  std::vector<TSRange> ranges{RangeOf(src, "fn a() {}"), RangeOf(src, "fn b() {}")};
  Result<SyntaxTree> tree = parser.Parse(src, &ranges);
  ASSERT_TRUE(tree.ok());
  EXPECT_FALSE(tree->has_error());
  ASSERT_EQ(ts_node_named_child_count(tree->root()), 2u);
  EXPECT_EQ(ts_node_start_byte(ts_node_named_child(tree->root(), 1)), src.find("fn b"));
}

TEST(RustParserTest, IncludedRangesAreResetAfterParse) {
  RustParser parser;
  std::string src = "fn a() {} fn b() {}";
  std::vector<TSRange> ranges{RangeOf(src, "fn b() {}")};
  ASSERT_TRUE(parser.Parse(src, &ranges).ok());
  Result<SyntaxTree> whole = parser.Parse(src);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(ts_node_named_child_count(whole->root()), 2u);
}

TEST(RustParserTest, RejectsRangesOutsideOrOutOfOrder) {
  RustParser parser;
  std::string src = "fn a() {} fn b() {}";
  std::vector<TSRange> outside{TSRange{{0, 0}, {0, 100}, 0, 100}};
  Result<SyntaxTree> bad = parser.Parse(src, &outside);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);

  std::vector<TSRange> backwards{RangeOf(src, "fn b() {}"), RangeOf(src, "fn a() {}")};
  Result<SyntaxTree> unordered = parser.Parse(src, &backwards);
  ASSERT_FALSE(unordered.ok());
  EXPECT_EQ(unordered.status().code(), StatusCode::kInvalidArgument);
  // The parser stays usable.
  EXPECT_TRUE(parser.Parse(src).ok());
}

TEST(RustParserTest, SurvivesInvalidUtf8AndBinaryInput) {
  RustParser parser;
  std::string src = "fn ok() {}\n";
  src += std::string("\xff\xfe\x00\x80 fn \xc3(", 10);
  Result<SyntaxTree> tree = parser.Parse(src);
  ASSERT_TRUE(tree.ok());
  EXPECT_TRUE(tree->has_error());
  EXPECT_LE(ts_node_end_byte(tree->root()), src.size());
}

// The whole tree as tree-sitter prints it, with every node's byte range.
std::string Dump(TSNode n) {
  std::string out = ts_node_type(n);
  out += "@" + std::to_string(ts_node_start_byte(n)) + "-" + std::to_string(ts_node_end_byte(n)) +
         ":" + std::to_string(ts_node_start_point(n).row) + "." +
         std::to_string(ts_node_start_point(n).column);
  out += "(";
  for (uint32_t i = 0; i < ts_node_child_count(n); ++i) out += Dump(ts_node_child(n, i)) + " ";
  return out + ")";
}

TEST(RustParserTest, EditBetweenFindsTheOneChangedRange) {
  auto edit = [](std::string_view a, std::string_view b) {
    TextEdit e = EditBetween(a, b);
    return std::to_string(e.start) + "," + std::to_string(e.old_end) + "," +
           std::to_string(e.new_end);
  };
  EXPECT_EQ(edit("fn a() {}", "fn ab() {}"), "4,4,5");   // insertion
  EXPECT_EQ(edit("fn ab() {}", "fn a() {}"), "4,5,4");   // deletion
  EXPECT_EQ(edit("let x = 1;", "let y = 2;"), "4,9,9");  // replaced span
  EXPECT_EQ(edit("aaa", "aa"), "2,3,2");                 // prefix and suffix never overlap
  EXPECT_EQ(edit("same", "same"), "4,4,4");
  EXPECT_EQ(edit("", "new"), "0,0,3");
  EXPECT_EQ(edit("old", ""), "0,3,0");
}

TEST(RustParserTest, ReparseAfterAnEditGivesTheTreeOfAFullParse) {
  const std::string base = R"rs(//! Module docs.
use std::fmt;

/// A point.
pub struct Point { x: i32, y: i32 }

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "({}, {})", self.x, self.y)
    }
}

fn main() {
    let p = Point { x: 1, y: 2 };
    println!("{}", p);
}
)rs";
  struct Edit {
    std::string from, to;
  };
  const std::vector<Edit> edits = {
      {"let p = Point { x: 1, y: 2 };", "let p = Point { x: 1, y: 2 };\n    let q = p.x + 1;"},
      {"//! Module docs.\n", ""},                    // at the start
      {"    println!(\"{}\", p);\n}\n", "}\n"},      // near the end
      {"pub struct Point", "pub struct Pointy"},     // inside a name
      {"fn main() {", "fn main( {"},                 // a syntax error
      {"x: i32, y: i32", "x: i32, y: i32, z: i32"},  // same line, longer
      {"impl fmt::Display for Point {\n", "impl fmt::Display for Point {\n\n\n"},
      {"\n", "\r\n"},  // the first newline
  };
  RustParser parser;
  for (const Edit& e : edits) {
    std::string edited = base;
    size_t at = edited.find(e.from);
    ASSERT_NE(at, std::string::npos) << e.from;
    edited.replace(at, e.from.size(), e.to);
    auto old = parser.Parse(base);
    ASSERT_TRUE(old.ok());
    auto incremental = parser.Reparse(edited, base, *old);
    auto full = parser.Parse(edited);
    ASSERT_TRUE(incremental.ok() && full.ok());
    EXPECT_EQ(Dump(incremental->root()), Dump(full->root())) << e.from << " -> " << e.to;
    // The old tree is left as it was.
    EXPECT_EQ(Dump(old->root()), Dump(parser.Parse(base)->root()));
    // And back again, from the edited tree.
    auto back = parser.Reparse(base, edited, *incremental);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(Dump(back->root()), Dump(old->root()));
  }
  // Identical text, and text sharing everything but its middle.
  auto old = parser.Parse(base);
  auto same = parser.Reparse(base, base, *old);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(Dump(same->root()), Dump(old->root()));
  auto empty = parser.Reparse("", base, *old);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(Dump(empty->root()), Dump(parser.Parse("")->root()));
}

TEST(RustParserTest, TreeOutlivesParser) {
  std::string src = "mod m { fn f() {} }";
  SyntaxTree tree;
  {
    RustParser parser;
    Result<SyntaxTree> parsed = parser.Parse(src);
    ASSERT_TRUE(parsed.ok());
    tree = std::move(parsed).value();
  }
  ASSERT_TRUE(tree.valid());
  EXPECT_STREQ(ts_node_type(ts_node_named_child(tree.root(), 0)), "mod_item");
}

}  // namespace
}  // namespace ferrograph
